/**
 * Checks of a spec's hosts that look at more than the spec's text: a pinned
 * `hostKey` must be an SSH public key, a `privateKeyFile` must exist and hold
 * an unencrypted private key, a `knownHostsFile` must exist and list the
 * host. Reads local files only (paths relative to the spec's folder, `~/`
 * for the home directory); no host is contacted.
 */
import * as fs from "node:fs";
import { utils } from "ssh2";
import { keysFromKnownHosts } from "../host/knownhosts";
import { resolvePath } from "../topology/connections";
import { DataPath } from "./locate";
import { PathProblem } from "./semantic";
import { HostSpec, Spec } from "./types";

/** Why `text` is not an SSH public key (`ssh-ed25519 AAAA…`), else undefined. */
export function hostKeyProblem(text: string): string | undefined {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) return `expected the host's public key as known_hosts lists it (\`ssh-keyscan -t ed25519 HOST\` prints it), got ${JSON.stringify(text)}: ${parsed.message}`;
  if (parsed.isPrivateKey()) return "this is a private key: pin the host's public key";
  return undefined;
}

/** Why the private key file `file` cannot be used, else undefined. */
export function privateKeyFileProblem(file: string): string | undefined {
  let text: Buffer;
  try {
    text = fs.readFileSync(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? `${file} does not exist` : `cannot read ${file}: ${(e as Error).message}`;
  }
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) {
    if (/encrypted/i.test(parsed.message)) return `${file} is encrypted: use an ssh-agent (leave privateKeyFile out; $SSH_AUTH_SOCK is used) or a key without a passphrase`;
    return `${file} is not an SSH private key: ${parsed.message}`;
  }
  if (!parsed.isPrivateKey()) return `${file} is a public key: name the private key (without .pub)`;
  return undefined;
}

/** Why the known_hosts file `file` cannot verify `host` (when given) on `port`, else undefined. */
export function knownHostsFileProblem(file: string, host: string | undefined, port: number): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read: ${(e as Error).message}`;
    return `${file} ${why} (\`ssh ${host ?? "HOST"}\` once records the host's key there; or pin it with hostKey)`;
  }
  if (host === undefined || keysFromKnownHosts(text, host, port).length > 0) return undefined;
  const entry = port === 22 ? host : `[${host}]:${port}`;
  return `${file} lists no key for ${entry} (\`ssh-keyscan ${port === 22 ? "" : `-p ${port} `}${host} >> ${file}\` adds it, once you have checked its fingerprint)`;
}

/** Problems of every host's key material in `spec`, whose file is in `specDir`. */
export function hostFileProblems(spec: Spec, specDir: string): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const [name, h] of Object.entries(spec.hosts)) {
    problems.push(...keyMaterialProblems(["hosts", name], h, specDir));
    if (h.proxy) problems.push(...keyMaterialProblems(["hosts", name, "proxy"], h.proxy, specDir));
  }
  return problems;
}

/** Problems of one host entry's (or jump host's) key material; `at` is its path in the spec. */
function keyMaterialProblems(at: DataPath, h: HostSpec, specDir: string): PathProblem[] {
  const problems: PathProblem[] = [];
  if (h.hostKey !== undefined) {
    const why = hostKeyProblem(h.hostKey);
    if (why) problems.push({ path: [...at, "hostKey"], message: why });
  }
  if (h.privateKeyFile !== undefined) {
    const why = privateKeyFileProblem(resolvePath(h.privateKeyFile, specDir));
    if (why) problems.push({ path: [...at, "privateKeyFile"], message: why });
  }
  if (h.knownHostsFile !== undefined) {
    const why = knownHostsFileProblem(resolvePath(h.knownHostsFile, specDir), h.host, h.port ?? 22);
    if (why) problems.push({ path: [...at, "knownHostsFile"], message: why });
  }
  return problems;
}
