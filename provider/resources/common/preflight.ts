/**
 * The read-only checks `check` makes during `preview` (and `up`), so what can
 * be known before anything changes is refused before anything changes: a
 * container that is missing, stopped or in host network mode, a name taken
 * by a link that is not ours, a subnet overlapping a link that is not ours.
 *
 * Reads are batched per host: one `ip -j -d addr show` of the host's links,
 * and one `docker inspect` plus one `stat` for the containers the spec names
 * there, shared by all resources of that host in this process for
 * {@link PREFLIGHT_TTL_MS} (not dropped by this process's own changes). Each resource's create/update reads again
 * under the host lock, so a stale answer here can only let something
 * through to be refused there, never make a change.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../host/connection";
import { CommandError, HostKeyError } from "../../host/errors";
import { Runner } from "../../host/runner";
import { ContainerInfo, containerNamed, dockerInspectAll, parseDockerInspectAll } from "../../linux/docker";
import { SELF_NETNS, netnsPathOfPid } from "../../linux/netns";
import { LinkState } from "../../linux/parse";
import { ContainerRef } from "../attachment/args";
import { KnownContainer, TargetGoneError, hostNamespaceError, refuseContainer } from "../attachment/target";
import { RunnerFactory, checkWith, withSecretsRedacted } from "./crud";
import { readLinks } from "./links";
import { ContainerSnapshot, ContainersSnapshot, alsoForgetAll, readContainersSnapshot, readForChecks, readOnce } from "./snapshot";
import { OWNER_PREFIX, Owner, otherOwner } from "./owner";
import { containsUnknown } from "./unknown";

/** How long one host's answers are reused. */
export const PREFLIGHT_TTL_MS = 30_000;

/**
 * The host's links, read once per host per {@link PREFLIGHT_TTL_MS} for every
 * check on it (snapshot.ts: checks look for links that are not ours, which
 * this process's mutations do not change).
 */
export function hostLinksForChecks(runner: Runner): Promise<LinkState[]> {
  return readForChecks(runner, "links", () => readLinks(runner), PREFLIGHT_TTL_MS);
}

/** The host's links for refresh reads: one read per host shared by every resource (snapshot.ts: any mutation on the host drops it). */
export function hostLinksOnce(runner: Runner): Promise<LinkState[]> {
  return readOnce(runner, "links", () => readLinks(runner));
}

/**
 * The refusal of a link name taken on the host by a link that is not this
 * stack's (another hostnet stack's, or not hostnet's at all), from the host's
 * links as {@link hostLinksOnce} read them; undefined when the name is free
 * or the link is this stack's.
 */
export function nameTaken(links: readonly LinkState[], hostId: string, field: string, name: string, owner: Owner, hint = ""): pulumi.dynamic.CheckFailure | undefined {
  const l = links.find((x) => x.name === name);
  if (!l) return undefined;
  const other = otherOwner(l.alias, owner);
  if (other) return { property: field, reason: `a link named ${name} already exists on ${hostId} and belongs to another hostnet ${other} (alias ${JSON.stringify(l.alias)}); choose another name, or destroy it in that stack first` };
  if (!l.alias.startsWith(OWNER_PREFIX)) return { property: field, reason: `a link named ${name} already exists on ${hostId} (a ${l.kind || "plain device"}) and is not managed by hostnet${l.alias ? ` (alias ${JSON.stringify(l.alias)})` : ""}; choose another name${hint}` };
  return undefined;
}

/** The environment variable through which `hostnet` tells its provider which containers a spec names on each host. */
export const PREFLIGHT_ENV = "HOSTNET_PREFLIGHT_CONTAINERS";

/** Container names per host id, as `hostnet` passes them (JSON `{ "10.0.0.5:22": ["web", "db"] }`). */
export function containersHint(env: NodeJS.ProcessEnv = process.env): Record<string, string[]> {
  try {
    const v = JSON.parse(env[PREFLIGHT_ENV] ?? "{}") as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) return {};
    const out: Record<string, string[]> = {};
    for (const [k, names] of Object.entries(v)) if (Array.isArray(names)) out[k] = names.filter((n): n is string => typeof n === "string");
    return out;
  } catch {
    return {};
  }
}

/** What one read said of each container asked for (`undefined`: no such container) and of the namespaces. */
interface ContainerRead {
  readonly infos: Map<string, ContainerInfo | undefined>;
  readonly inodes: Map<string, string>;
}
/** Per host, per container name: the read that answered for it (one read answers for every name the spec hints at). */
const containerReads = new Map<string, Map<string, { at: number; read: Promise<ContainerRead> }>>();
alsoForgetAll(() => containerReads.clear());

async function readContainers(runner: Runner, names: readonly string[]): Promise<ContainerRead> {
  const res = await runner.run(dockerInspectAll(names));
  const all = parseDockerInspectAll(res.stdout);
  if (all.length === 0 && res.exitCode !== 0 && !/No such (container|object)/i.test(res.stderr)) {
    throw new CommandError({ host: runner.hostId, argv: dockerInspectAll(names), ...res, context: "inspect containers" });
  }
  const infos = new Map(names.map((n) => [n, containerNamed(all, n)] as const));
  const paths = all.filter((c) => c.pid > 0).map((c) => netnsPathOfPid(c.pid));
  const st = await runner.run(["stat", "-L", "-c", "%n %i", ...paths, SELF_NETNS]);
  const inodes = new Map(st.stdout.trim().split("\n").filter(Boolean).map((l) => l.split(" ") as [string, string]));
  return { infos, inodes };
}

/**
 * Checks that a docker container can be attached to: it exists, runs, and
 * has a network namespace of its own. The engine checks one resource at a
 * time, so the first check on a host reads every container the spec names
 * there (from {@link PREFLIGHT_ENV}, set by `hostnet`): one `docker inspect`
 * and one `stat` per host, reused by the checks that follow. Without the
 * hint (a program of your own) each container is read when checked.
 */
export async function checkContainer(runner: Runner, ref: ContainerRef): Promise<void> {
  if (!("docker" in ref)) return;
  const name = ref.docker;
  const reads = containerReads.get(runner.hostId) ?? new Map<string, { at: number; read: Promise<ContainerRead> }>();
  containerReads.set(runner.hostId, reads);
  let hit = reads.get(name);
  if (!hit || Date.now() - hit.at >= PREFLIGHT_TTL_MS) {
    const hinted = containersHint()[runner.hostId] ?? [];
    const names = hinted.includes(name) ? [...new Set(hinted)] : [name];
    const entry = { at: Date.now(), read: readContainers(runner, names) };
    for (const n of names) reads.set(n, entry);
    entry.read.catch(() => names.forEach((n) => reads.get(n) === entry && reads.delete(n)));
    hit = entry;
  }
  const { infos, inodes } = await hit.read;
  const info = infos.get(name);
  if (!info) throw new TargetGoneError(`container ${name} does not exist on ${runner.hostId}`);
  refuseContainer(info, name, runner.hostId);
  const inode = inodes.get(netnsPathOfPid(info.pid));
  if (inode !== undefined && inode === inodes.get(SELF_NETNS)) {
    throw hostNamespaceError(`container ${name}`, runner.hostId);
  }
}

/** How long create and update reuse what the preflight read of a container (its namespace's inode is checked again). */
export const KNOWN_TTL_MS = 300_000;

/**
 * What this run's preflight read of a Docker container, if it did (and
 * recently): create and update then skip their own `docker inspect`. Safe to
 * be stale: the caller stats the namespace again and compares its inode.
 */
export async function knownContainer(runner: Runner, ref: ContainerRef): Promise<KnownContainer | undefined> {
  if (!("docker" in ref)) return undefined;
  const hit = containerReads.get(runner.hostId)?.get(ref.docker);
  if (!hit || Date.now() - hit.at >= KNOWN_TTL_MS) return undefined;
  const read = await hit.read.catch(() => undefined);
  const info = read?.infos.get(ref.docker);
  if (!read || !info || info.pid <= 0) return undefined;
  const inode = read.inodes.get(netnsPathOfPid(info.pid));
  const hostInode = read.inodes.get(SELF_NETNS);
  return { info, ...(inode !== undefined ? { inode } : {}), ...(hostInode !== undefined ? { hostInode } : {}) };
}

/**
 * A `check` that validates with `normalize`, then runs `against` on the host
 * (read-only) and returns what it objects to as failures. A host that cannot
 * be read fails nothing here: create reads it again under the lock and
 * reports the command that failed.
 */
export async function checkOnHost<T extends { connection: ConnectionSpec }>(
  normalize: (raw: Record<string, unknown>) => T,
  news: Record<string, unknown>,
  runners: RunnerFactory,
  against: (runner: Runner, inputs: T) => Promise<pulumi.dynamic.CheckFailure[]>,
): Promise<pulumi.dynamic.CheckResult> {
  const res = checkWith(normalize, news);
  if ((res.failures?.length ?? 0) > 0 || containsUnknown(news)) return res;
  const inputs = res.inputs as unknown as T;
  let failures: pulumi.dynamic.CheckFailure[] = [];
  try {
    failures = await withSecretsRedacted(inputs.connection, () => against(runners(inputs.connection), inputs));
  } catch (e) {
    // A host that is not the one pinned is refused now: a preview must not look fine against it.
    if (e instanceof HostKeyError) return { inputs: res.inputs, failures: [{ property: "connection", reason: e.message }] };
    // The host could not be read: create reads it again under the lock and reports what failed.
  }
  return failures.length > 0 ? { inputs: res.inputs, failures } : res;
}

/**
 * For `read` (refresh): what the host's snapshot says of a Docker container
 * the spec names (its inspect, namespace inode, links and routes) and the
 * host's links. The first read on a host reads every named container in one
 * `docker inspect`, one `stat` and one round trip of `ip` reads; undefined
 * without the hint, or when the container could not be read that way (the
 * caller then reads on its own).
 */
export async function snapshotOf(runner: Runner, ref: ContainerRef): Promise<{ container: ContainerSnapshot; hostLinks: ContainersSnapshot["hostLinks"] } | undefined> {
  if (!("docker" in ref)) return undefined;
  const hinted = [...new Set(containersHint()[runner.hostId] ?? [])];
  if (!hinted.includes(ref.docker)) return undefined;
  const snap = await readOnce(runner, "containers", async () => readContainersSnapshot(runner, await readContainers(runner, hinted)));
  const container = snap.containers.get(ref.docker);
  return container ? { container, hostLinks: snap.hostLinks } : undefined;
}
