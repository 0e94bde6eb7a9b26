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

/** Where a host's private key or password comes from, when the spec names one (file, environment variable or Pulumi config key). */
interface SecretSources {
  privateKey?: { file: string } | { env: string } | { config: string };
  password?: { env: string };
}

function secretSourcesOf(name: string, h: HostSpec, specDir: string): SecretSources {
  const s: SecretSources = {};
  if (h.privateKeyFile) {
    const file = resolvePath(h.privateKeyFile, specDir);
    if (!fs.existsSync(file)) throw new HostnetError(`host ${name}: privateKeyFile ${file} does not exist`);
    s.privateKey = { file };
  }
  if (h.privateKeyEnv) s.privateKey = { env: h.privateKeyEnv };
  if (h.privateKeyConfig) s.privateKey = { config: h.privateKeyConfig };
  if (h.passwordEnv) s.password = { env: h.passwordEnv };
  return s;
}

function fromEnv(name: string, variable: string, field: string): string {
  const v = process.env[variable];
  if (!v) throw new HostnetError(`host ${name}: the environment variable ${variable} (${field}) is not set`);
  return v;
}

/** The connection of host `name`, with its private key or password as a Pulumi secret. */
export function connectionFor(name: string, h: HostSpec, specDir: string): pulumi.Input<Connection> {
  const c: Connection = plainConnectionOf(h, specDir);
  const s = secretSourcesOf(name, h, specDir);
  if (s.privateKey && "file" in s.privateKey) c.privateKey = pulumi.secret(fs.readFileSync(s.privateKey.file, "utf8"));
  if (s.privateKey && "env" in s.privateKey) c.privateKey = pulumi.secret(fromEnv(name, s.privateKey.env, "privateKeyEnv"));
  if (s.privateKey && "config" in s.privateKey) c.privateKey = new pulumi.Config("hostnet").requireSecret(s.privateKey.config);
  if (s.password) c.password = pulumi.secret(fromEnv(name, s.password.env, "passwordEnv"));
  if (h.proxy) c.proxy = connectionFor(`${name} (its proxy)`, h.proxy, specDir);
  return c;
}

/**
 * The connection of host `name` as plain values, for reads outside a Pulumi
 * program (`hostnet inspect`): `config` answers a `privateKeyConfig` key
 * (the stack's decrypted `hostnet:<key>`).
 */
export async function resolvedConnectionOf(name: string, h: HostSpec, specDir: string, config: (key: string) => Promise<string>): Promise<ConnectionSpec> {
  const c: ConnectionSpec = plainConnectionOf(h, specDir);
  const s = secretSourcesOf(name, h, specDir);
  if (s.privateKey && "file" in s.privateKey) c.privateKey = fs.readFileSync(s.privateKey.file, "utf8");
  if (s.privateKey && "env" in s.privateKey) c.privateKey = fromEnv(name, s.privateKey.env, "privateKeyEnv");
  if (s.privateKey && "config" in s.privateKey) c.privateKey = await config(s.privateKey.config);
  if (s.password) c.password = fromEnv(name, s.password.env, "passwordEnv");
  if (h.proxy) c.proxy = await resolvedConnectionOf(`${name} (its proxy)`, h.proxy, specDir, config);
  return c;
}
