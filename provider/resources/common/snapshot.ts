/**
 * Per-host read snapshots for `refresh`: the engine reads every resource of a
 * stack, and each read used to cost its own round trips (N attachments → 2N).
 * Here the first read on a host reads what every resource of that host needs
 * — the host's links, the NAT state of a backend, and the links and routes of
 * every container the spec names there — and the reads that follow (or run
 * alongside) answer from it. A snapshot lives {@link SNAPSHOT_TTL_MS} and is
 * dropped by any mutation on the host ({@link forgetSnapshots}, called by the
 * host lock), so it never outlives a change this process made.
 *
 * Only containers the spec names (the preflight hint, which `hostnet` passes)
 * are entered; without the hint each resource reads on its own, as before.
 *
 * Checks have snapshots of their own ({@link readForChecks}), which this
 * process's mutations do not drop: a check asks whether a name or subnet is
 * taken by something that is not ours, or whether a container runs, and what
 * this process changes is ours alone. (Dropping them made every check that
 * followed a create re-read the host: the engine checks one resource at a
 * time, so that read paced the whole `up`.)
 */
import { CommandError } from "../../host/errors";
import { Runner, runInOrder } from "../../host/runner";
import { ContainerInfo } from "../../linux/docker";
import * as ip from "../../linux/ip";
import { netnsPathOfPid } from "../../linux/netns";
import { LinkState, RouteState, parseLinks } from "../../linux/parse";
import { namespaceReads } from "./links";

/** How long a host's snapshot answers reads (unless a mutation drops it first). */
export const SNAPSHOT_TTL_MS = 30_000;

type Snapshots = Map<string, Map<string, { at: number; value: Promise<unknown> }>>;
const snapshots: Snapshots = new Map();
const checkSnapshots: Snapshots = new Map();

/**
 * The value of `read` for this host and `key`, read once per `ttlMs`
 * (default {@link SNAPSHOT_TTL_MS}) for every caller (concurrent callers share the one
 * read; a failed read is not kept).
 */
export function readOnce<T>(runner: Runner, key: string, read: () => Promise<T>, ttlMs = SNAPSHOT_TTL_MS): Promise<T> {
  return readIn(snapshots, runner, key, read, ttlMs);
}

/**
 * Like {@link readOnce}, for `check`: the snapshot is not dropped by this
 * process's own mutations, only by age.
 */
export function readForChecks<T>(runner: Runner, key: string, read: () => Promise<T>, ttlMs = SNAPSHOT_TTL_MS): Promise<T> {
  return readIn(checkSnapshots, runner, key, read, ttlMs);
}

function readIn<T>(snapshots: Snapshots, runner: Runner, key: string, read: () => Promise<T>, ttlMs: number): Promise<T> {
  let host = snapshots.get(runner.hostId);
  if (!host) snapshots.set(runner.hostId, (host = new Map()));
  const hit = host.get(key);
  if (hit && Date.now() - hit.at < ttlMs) return hit.value as Promise<T>;
  const value = read();
  const entry = { at: Date.now(), value };
  host.set(key, entry);
  const h = host;
  value.catch(() => h.get(key) === entry && h.delete(key));
  return value;
}

/** Drops every snapshot of every host (tests, between cases that script one host differently). */
export function forgetAllSnapshots(): void {
  snapshots.clear();
  checkSnapshots.clear();
  for (const f of forgetters) f();
}

const forgetters: (() => void)[] = [];

/** Registers what else {@link forgetAllSnapshots} drops (a cache kept elsewhere, such as the preflight's container reads). */
export function alsoForgetAll(f: () => void): void {
  forgetters.push(f);
}

/** Drops every snapshot of a host but those of checks (called before and after each mutation on it). */
export function forgetSnapshots(hostId: string): void {
  snapshots.delete(hostId);
}

/** What a snapshot says of one container: its `docker inspect`, its namespace's inode, links and routes. */
export interface ContainerSnapshot {
  readonly info: ContainerInfo | undefined;
  readonly inode?: string;
  readonly links: LinkState[];
  readonly routes: RouteState[];
}

/** The snapshot of a host's named containers and of its own links. */
export interface ContainersSnapshot {
  readonly containers: Map<string, ContainerSnapshot>;
  readonly hostLinks: LinkState[];
}

/**
 * Reads, in one round trip, the host's links and the links and both route
 * tables of each running container in `found` (what one `docker inspect` and
 * one `stat` of the named containers said).
 */
export async function readContainersSnapshot(runner: Runner, found: { infos: Map<string, ContainerInfo | undefined>; inodes: Map<string, string> }): Promise<ContainersSnapshot> {
  const running = [...found.infos].filter((e): e is [string, ContainerInfo] => e[1] !== undefined && e[1].running && e[1].pid > 0);
  const hostArgv = ip.ipAddrShowAll();
  const perContainer = running.map(([, info]) => namespaceReads(runner, netnsPathOfPid(info.pid)));
  const seq = await runInOrder(runner, [{ argv: hostArgv }, ...perContainer.flatMap((r) => r.commands)], { all: true });
  if (seq.error) throw seq.error;
  const host = seq.results[0];
  if (host.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv: hostArgv, ...host, context: "read the host and its containers" });
  const containers = new Map<string, ContainerSnapshot>();
  for (const [name, info] of found.infos) if (!info || !running.some(([n]) => n === name)) containers.set(name, { info, links: [], routes: [] });
  let at = 1;
  running.forEach(([name, info], k) => {
    const reads = perContainer[k];
    const results = seq.results.slice(at, at + reads.commands.length);
    at += reads.commands.length;
    // A container that stopped between the inspect and this read has no namespace to read: the resource reads on its own.
    if (results[0].exitCode !== 0 && results[0].stdout.trim() === "") return;
    const { links, routes } = reads.parse(results);
    containers.set(name, { info, inode: found.inodes.get(netnsPathOfPid(info.pid)), links, routes });
  });
  return { containers, hostLinks: parseLinks(host.stdout) };
}
