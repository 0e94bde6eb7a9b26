/** Host key checks: a pinned `hostKey` or a `known_hosts` file (plain or hashed names). Pure except for reading the file. */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

/** One accepted key: its type and base64 blob. */
export interface PinnedKey {
  readonly type: string;
  readonly blob: string;
}

/** The OpenSSH SHA256 fingerprint of a key blob (base64), as `ssh-keygen -lf` prints it: `SHA256:…` without padding. */
export function fingerprint(blobBase64: string): string {
  return `SHA256:${createHash("sha256").update(Buffer.from(blobBase64, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** Parses `ssh-ed25519 AAAA… [comment]` (a pinned key or a known_hosts line without the host field). */
export function parsePublicKey(text: string): PinnedKey | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2 || !/^[A-Za-z0-9+/=]+$/.test(parts[1])) return undefined;
  return { type: parts[0], blob: parts[1] };
}

function hostMatches(pattern: string, names: readonly string[]): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return names.some((n) => createHmac("sha1", Buffer.from(salt, "base64")).update(n).digest("base64") === hash);
  }
  return pattern.split(",").some((p) => names.includes(p));
}

/** The keys a known_hosts text lists for `host` on `port` (`[host]:port` when the port is not 22). */
export function keysFromKnownHosts(text: string, host: string, port: number): PinnedKey[] {
  const names = port === 22 ? [host] : [`[${host}]:${port}`];
  const keys: PinnedKey[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("@revoked")) continue;
    const fields = line.replace(/^@cert-authority\s+/, "").split(/\s+/);
    if (fields.length < 3 || !hostMatches(fields[0], names)) continue;
    const key = parsePublicKey(fields.slice(1).join(" "));
    if (key) keys.push(key);
  }
  return keys;
}

/** Reads the keys of a host from a known_hosts file. */
export function keysFromKnownHostsFile(path: string, host: string, port: number): PinnedKey[] {
  return keysFromKnownHosts(readFileSync(path, "utf8"), host, port);
}
