/** Turning a spec's host entry into a Connection: secrets are read from a file, an environment variable or Pulumi config. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { HostnetError } from "../host/errors";
import { Connection, ConnectionSpec } from "../host/connection";
import { HostSpec } from "../spec/types";

/** A path of the spec (`~/…`, or relative to the spec's folder) as an absolute one. */
export function resolvePath(p: string, specDir: string): string {
  if (p === "~" || p.startsWith("~/")) return path.join(os.homedir(), p.slice(1));
  return path.resolve(specDir, p);
}

/** What a spec's host entry says of its connection without any secret: address, user, host key pins, sudo, local/netns. */
export function plainConnectionOf(h: HostSpec, specDir: string): ConnectionSpec {
  const c: ConnectionSpec = {};
  for (const f of ["host", "port", "user", "hostKey", "insecureIgnoreHostKey", "sudo", "local", "netns"] as const) {
    if (h[f] !== undefined) (c as Record<string, unknown>)[f] = h[f];
  }
  if (h.knownHostsFile) c.knownHostsFile = resolvePath(h.knownHostsFile, specDir);
  return c;
}

/** The connection of host `name`, with its private key or password as a Pulumi secret. */
export function connectionFor(name: string, h: HostSpec, specDir: string): pulumi.Input<Connection> {
  const c: Connection = plainConnectionOf(h, specDir);
  if (h.privateKeyFile) {
    const file = resolvePath(h.privateKeyFile, specDir);
    if (!fs.existsSync(file)) throw new HostnetError(`host ${name}: privateKeyFile ${file} does not exist`);
    c.privateKey = pulumi.secret(fs.readFileSync(file, "utf8"));
  }
  if (h.privateKeyEnv) {
    const v = process.env[h.privateKeyEnv];
    if (!v) throw new HostnetError(`host ${name}: the environment variable ${h.privateKeyEnv} (privateKeyEnv) is not set`);
    c.privateKey = pulumi.secret(v);
  }
  if (h.privateKeyConfig) c.privateKey = new pulumi.Config("hostnet").requireSecret(h.privateKeyConfig);
  if (h.passwordEnv) {
    const v = process.env[h.passwordEnv];
    if (!v) throw new HostnetError(`host ${name}: the environment variable ${h.passwordEnv} (passwordEnv) is not set`);
    c.password = pulumi.secret(v);
  }
  return c;
}
