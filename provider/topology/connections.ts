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
  if (h.proxy) c.proxy = plainConnectionOf(h.proxy, specDir);
  return c;
}

/** A host entry's secrets as plain values (a key file read, an environment variable looked up); a Pulumi config key is left for the caller to resolve. */
interface HostSecrets {
  privateKey?: string;
  privateKeyConfig?: string;
  password?: string;
}

function fromEnv(name: string, variable: string, field: string): string {
  const v = process.env[variable];
  if (!v) throw new HostnetError(`host ${name}: the environment variable ${variable} (${field}) is not set`);
  return v;
}

function secretsOf(name: string, h: HostSpec, specDir: string): HostSecrets {
  const s: HostSecrets = {};
  if (h.privateKeyFile) {
    const file = resolvePath(h.privateKeyFile, specDir);
    if (!fs.existsSync(file)) throw new HostnetError(`host ${name}: privateKeyFile ${file} does not exist`);
    s.privateKey = fs.readFileSync(file, "utf8");
  }
  if (h.privateKeyEnv) s.privateKey = fromEnv(name, h.privateKeyEnv, "privateKeyEnv");
  if (h.privateKeyConfig) s.privateKeyConfig = h.privateKeyConfig;
  if (h.passwordEnv) s.password = fromEnv(name, h.passwordEnv, "passwordEnv");
  return s;
}

/** The connection of host `name`, with its private key or password as a Pulumi secret. */
export function connectionFor(name: string, h: HostSpec, specDir: string): pulumi.Input<Connection> {
  const c: Connection = plainConnectionOf(h, specDir);
  const s = secretsOf(name, h, specDir);
  if (s.privateKey !== undefined) c.privateKey = pulumi.secret(s.privateKey);
  if (s.privateKeyConfig !== undefined) c.privateKey = new pulumi.Config("hostnet").requireSecret(s.privateKeyConfig);
  if (s.password !== undefined) c.password = pulumi.secret(s.password);
  if (h.proxy) c.proxy = connectionFor(`${name} (its proxy)`, h.proxy, specDir);
  return c;
}

/**
 * The connection of host `name` as plain values, for reads outside a Pulumi
 * program (`hostnet inspect`): `config` answers a `privateKeyConfig` key
 * (the stack's decrypted `hostnet:<key>`).
 */
export async function resolvedConnectionOf(name: string, h: HostSpec, specDir: string, config: (key: string) => Promise<string>): Promise<ConnectionSpec> {
  const { privateKeyConfig, ...plain } = secretsOf(name, h, specDir);
  const c: ConnectionSpec = { ...plainConnectionOf(h, specDir), ...plain };
  if (privateKeyConfig !== undefined) c.privateKey = await config(privateKeyConfig);
  if (h.proxy) c.proxy = await resolvedConnectionOf(`${name} (its proxy)`, h.proxy, specDir, config);
  return c;
}
