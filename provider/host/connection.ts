/**
 * How to reach a host. Field names follow `@pulumi/command`'s `remote.ConnectionArgs`,
 * so an object written for `remote.Command` works here unchanged.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import { ValidationError } from "./errors";
import { checkNetnsName } from "../linux/names";

/** A plain (resolved) connection, as the provider sees it. */
export interface ConnectionSpec {
  /** Address or DNS name of the SSH host. */
  host?: string;
  /** SSH port (default 22). */
  port?: number;
  /** SSH user (default `root`). */
  user?: string;
  /** Password authentication. Secret. */
  password?: string;
  /** PEM/OpenSSH private key text. Secret. */
  privateKey?: string;
  /** Passphrase of `privateKey`. Secret. */
  privateKeyPassword?: string;
  /** Path of an ssh-agent socket (default `$SSH_AUTH_SOCK` when no other credential is given). */
  agentSocketPath?: string;
  /** How many failed dials to tolerate before giving up (default 10). */
  dialErrorLimit?: number;
  /** Seconds one dial may take (default 15). */
  perDialTimeout?: number;
  /** The host's public key, `ssh-ed25519 AAAA…` (as in `known_hosts` without the host name). */
  hostKey?: string;
  /** A `known_hosts` file to verify the host key against (plain or hashed entries). */
  knownHostsFile?: string;
  /** Skip host key verification. Off by default; only for throw-away hosts. */
  insecureIgnoreHostKey?: boolean;
  /** A jump host to reach `host` through. */
  proxy?: ConnectionSpec;
  /** Overrides the host identity used in IDs and ownership marks (default `host:port`). */
  hostId?: string;
  /** Run commands as root through `sudo -n` (for a non-root user; over SSH, one sudo per remote shell, not per command). */
  sudo?: boolean;
  /** Run commands on this machine instead of over SSH. */
  local?: boolean;
  /** Run commands inside this named network namespace of this machine. */
  netns?: string;
}

/** A connection as a Pulumi program writes it: every field may be an Output. */
export type Connection = {
  [K in keyof ConnectionSpec]?: K extends "proxy" ? pulumi.Input<Connection> : pulumi.Input<NonNullable<ConnectionSpec[K]>>;
};

/** Names of the fields that are secrets. */
export const SECRET_FIELDS = ["password", "privateKey", "privateKeyPassword"] as const;

/** Host identity of a connection: `hostId`, else `local`, `netns:NAME` or `host:port`. Credentials are not identity. */
export function hostIdOf(c: ConnectionSpec): string {
  if (c.hostId) return c.hostId;
  if (c.local) return "local";
  if (c.netns) return `netns:${c.netns}`;
  return `${c.host}:${c.port ?? 22}`;
}

/** What a `hostId` may hold: it reaches resource IDs, messages and (in 0.1 marks) iptables comments and nft scripts. */
const HOST_ID = /^[A-Za-z0-9_.:@-]{1,100}$/;

/** A DNS name (labels of letters, digits, `-`, `_`) or an IPv4/IPv6 address. */
export function isHostName(h: unknown): h is string {
  if (typeof h !== "string" || h.length === 0 || h.length > 253) return false;
  if (ipaddr.isValid(h)) return true;
  return /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/.test(h);
}

/** Checks a resolved connection; throws {@link ValidationError} naming the field. */
export function checkConnection(c: unknown, field = "connection"): ConnectionSpec {
  if (typeof c !== "object" || c === null) throw new ValidationError(field, "expected an object with host (SSH), local: true or netns");
  const spec = c as ConnectionSpec;
  const kinds = [spec.host !== undefined, spec.local === true, spec.netns !== undefined].filter(Boolean).length;
  if (kinds !== 1) throw new ValidationError(field, "expected exactly one of host (SSH), local: true or netns");
  if (spec.netns !== undefined) checkNetnsName(spec.netns, `${field}.netns`);
  if (spec.hostId !== undefined && (typeof spec.hostId !== "string" || !HOST_ID.test(spec.hostId))) {
    throw new ValidationError(`${field}.hostId`, `expected 1-100 characters of [A-Za-z0-9_.:@-] (it names the host in IDs and marks), got ${JSON.stringify(spec.hostId)}`);
  }
  if (spec.sudo !== undefined && typeof spec.sudo !== "boolean") throw new ValidationError(`${field}.sudo`, `expected true or false, got ${JSON.stringify(spec.sudo)}`);
  if (spec.host !== undefined) {
    if (!isHostName(spec.host)) throw new ValidationError(`${field}.host`, `expected a host name or an IPv4/IPv6 address, got ${JSON.stringify(spec.host)}`);
    if (spec.port !== undefined && (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)) throw new ValidationError(`${field}.port`, `expected a port 1-65535, got ${JSON.stringify(spec.port)}`);
    if (spec.user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(spec.user)) throw new ValidationError(`${field}.user`, `expected a user name, got ${JSON.stringify(spec.user)}`);
    if (!spec.hostKey && !spec.knownHostsFile && spec.insecureIgnoreHostKey !== true) {
      throw new ValidationError(
        field,
        `the SSH host key of ${spec.host} must be verified: pin it with hostKey: "ssh-ed25519 AAAA…" (\`ssh-keyscan -t ed25519 ${spec.host}\` prints it; compare its fingerprint, \`ssh-keygen -lf\`, with the host's own), ` +
          "or name a knownHostsFile (e.g. ~/.ssh/known_hosts); insecureIgnoreHostKey: true skips the check, for throw-away hosts only",
      );
    }
    if (spec.proxy !== undefined) checkConnection(spec.proxy, `${field}.proxy`);
  }
  return spec;
}

/**
 * Resolves a connection for a resource's inputs. When it carries a credential
 * (password, key, passphrase, also in its proxy) the whole object becomes a
 * Pulumi secret, so the state file never holds it in plain text.
 */
export function secretConnection(c: pulumi.Input<Connection>): pulumi.Output<ConnectionSpec> {
  return pulumi.output(c).apply((plain) => {
    const spec = plain as ConnectionSpec;
    return secretsOf(spec).length > 0 ? pulumi.secret(spec) : pulumi.output(spec);
  });
}

/** Every secret value of a connection, for redaction of messages. */
export function secretsOf(c: ConnectionSpec | undefined): string[] {
  if (!c) return [];
  return [...SECRET_FIELDS.map((f) => c[f]).filter((v): v is string => typeof v === "string"), ...secretsOf(c.proxy)];
}
