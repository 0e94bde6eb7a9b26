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
 */
import { CommandError } from "../../host/errors";
import { RunResult, Runner, runInOrder } from "../../host/runner";
import { ContainerInfo } from "../../linux/docker";
import * as ip from "../../linux/ip";
import { inNetns, netnsPathOfPid } from "../../linux/netns";
import { LinkState, RouteState, parseLinks, parseRoutes } from "../../linux/parse";

/** How long a host's snapshot answers reads. */
export const SNAPSHOT_TTL_MS = 10_000;

const snapshots = new Map<string, Map<string, { at: number; value: Promise<unknown> }>>();

/**
 * The value of `read` for this host and `key`, read once per `ttlMs`
 * (default {@link SNAPSHOT_TTL_MS}) for every caller (concurrent callers share the one
 * read; a failed read is not kept).
 */
export function readOnce<T>(runner: Runner, key: string, read: () => Promise<T>, ttlMs = SNAPSHOT_TTL_MS): Promise<T> {
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
}

/** Drops every snapshot of a host (called before each mutation on it). */
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
  const argvs: string[][] = [ip.ipAddrShowAll()];
  for (const [, info] of running) {
    const ns = netnsPathOfPid(info.pid);
    argvs.push(inNetns(ns, ip.ipAddrShowAll()), inNetns(ns, ip.ipRouteShow(4)), inNetns(ns, ip.ipRouteShow(6)));
  }
  const seq = await runInOrder(runner, argvs.map((argv) => ({ argv })), { all: true });
  if (seq.error) throw seq.error;
  const ok = (i: number): RunResult => {
    const r = seq.results[i];
    if (r.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv: argvs[i], ...r, context: "read the host and its containers" });
    return r;
  };
  const containers = new Map<string, ContainerSnapshot>();
  for (const [name, info] of found.infos) if (!info || !running.some(([n]) => n === name)) containers.set(name, { info, links: [], routes: [] });
  running.forEach(([name, info], k) => {
    const base = 1 + 3 * k;
    // A container that stopped between the inspect and this read has no namespace to read: the resource reads on its own.
    if (seq.results[base].exitCode !== 0) return;
    containers.set(name, {
      info,
      inode: found.inodes.get(netnsPathOfPid(info.pid)),
      links: parseLinks(ok(base).stdout),
      routes: [...parseRoutes(ok(base + 1).stdout), ...parseRoutes(ok(base + 2).stdout)],
    });
  });
  return { containers, hostLinks: parseLinks(ok(0).stdout) };
}
