/** Resolving an attachment's target to a network namespace on the host, refusing the host's own. */
import { CommandError, HostnetError } from "../../host/errors";
import { Command, RunResult, Runner, runInOrder } from "../../host/runner";
import { ContainerInfo } from "../../linux/docker";
import { inspectContainer } from "../common/container";
import { SELF_NETNS, netnsPathOfName, netnsPathOfPid, statInode } from "../../linux/netns";
import { ContainerRef } from "./args";
import { containerLabel } from "./plan";

/** The container (or namespace) does not exist (any more). */
export class TargetGoneError extends HostnetError {}

/** The target's network namespace is the host's own: attaching would rewire the host. */
export class HostNamespaceError extends HostnetError {}

/** The refusal of a target whose network namespace is the host's own. */
export function hostNamespaceError(label: string, hostId: string): HostNamespaceError {
  return new HostNamespaceError(`${label} on ${hostId} shares the host's network namespace (host network mode); attaching to it would rewire the host; refusing`);
}

/** The container exists but is not running: it has no network namespace to attach to. */
export class TargetStoppedError extends HostnetError {}

/** Refuses a container that cannot be attached to (host network mode, not running). */
export function refuseContainer(info: ContainerInfo, ref: string, hostId: string): void {
  if (info.networkMode === "host") {
    throw new HostNamespaceError(`container ${ref} on ${hostId} runs in host network mode: its network namespace is the host's, and attaching to it would rewire the host; refusing`);
  }
  if (!info.running || info.pid <= 0) throw new TargetStoppedError(`container ${ref} on ${hostId} is not running (start it first: a stopped container has no network namespace)`);
}

/** A resolved target. */
export interface Target {
  /** Path of the network namespace file on the host. */
  readonly nsPath: string;
  /** Inode of that namespace: its identity. */
  readonly inode: string;
  readonly pid: number;
  readonly containerId: string;
  /** For messages: `docker:web`, plus the namespace owner in `container:` mode. */
  readonly label: string;
}

/** Resolves the target on the host; throws {@link TargetGoneError} when it does not exist, and refuses stopped containers and the host's own namespace. */
export async function resolveTarget(runner: Runner, ref: ContainerRef): Promise<Target> {
  return (await resolveAndRead(runner, ref, () => [])).target;
}

/** What a container read earlier in this run said (`docker inspect`, and the inode of its namespace then). */
export interface KnownContainer {
  readonly info: ContainerInfo;
  readonly inode?: string;
  /** The inode of the host's own namespace, read alongside. */
  readonly hostInode?: string;
}

/**
 * The target as this run's preflight read it, when that read says all a
 * create needs (a running container with a namespace of its own, not shared
 * with another container, and both inodes): else undefined. Its namespace
 * may have changed since: the caller guards the inode in the same round trip.
 */
export function knownTarget(ref: ContainerRef, known: KnownContainer | undefined): Target | undefined {
  if (!known || !("docker" in ref)) return undefined;
  const { info, inode, hostInode } = known;
  if (!info.running || info.pid <= 0 || info.networkMode === "host" || info.networkMode.startsWith("container:")) return undefined;
  if (inode === undefined || hostInode === undefined || inode === hostInode) return undefined;
  return { nsPath: netnsPathOfPid(info.pid), inode, pid: info.pid, containerId: info.id, label: containerLabel(ref) };
}

/**
 * Resolves the target and runs `reads(nsPath)` in the same round trip as the
 * `stat` that identifies its namespace. With `known` (what the preflight of
 * this run read of a Docker container) no `docker inspect` runs, unless the
 * namespace is no longer the one read then, which reads the container anew.
 */
export async function resolveAndRead(runner: Runner, ref: ContainerRef, reads: (nsPath: string) => Command[], known?: KnownContainer): Promise<{ target: Target; results: RunResult[] }> {
  let nsPath: string;
  let pid = 0;
  let containerId = "";
  let label = containerLabel(ref);
  if ("docker" in ref) {
    const info = known?.info ?? (await inspectContainer(runner, ref.docker));
    if (!info) throw new TargetGoneError(`container ${ref.docker} does not exist on ${runner.hostId}`);
    refuseContainer(info, ref.docker, runner.hostId);
    pid = info.pid;
    containerId = info.id;
    nsPath = netnsPathOfPid(pid);
    if (info.networkMode.startsWith("container:")) label = `${label} (sharing the network namespace of ${info.networkMode})`;
  } else if ("pid" in ref) {
    pid = ref.pid;
    nsPath = netnsPathOfPid(pid);
  } else {
    nsPath = netnsPathOfName(ref.netns);
  }
  const argv = statInode(nsPath).concat(SELF_NETNS);
  const seq = await runInOrder(runner, [{ argv }, ...reads(nsPath)], { all: true });
  if (seq.error) throw seq.error;
  const [st, ...results] = seq.results;
  const [inode, self] = st.exitCode === 0 ? st.stdout.trim().split(/\s+/) : [];
  // What the preflight read is stale (the container stopped, or was restarted into a new namespace): read it anew.
  if (known && (st.exitCode !== 0 || (known.inode !== undefined && known.inode !== inode))) return resolveAndRead(runner, ref, reads);
  if (st.exitCode !== 0) {
    if (/No such file/i.test(st.stderr)) throw new TargetGoneError(`${label}: network namespace ${nsPath} does not exist on ${runner.hostId}`);
    throw new CommandError({ host: runner.hostId, argv, ...st, context: `identify the namespace of ${label}` });
  }
  if (inode === self) {
    throw hostNamespaceError(label, runner.hostId);
  }
  return { target: { nsPath, inode, pid, containerId, label }, results };
}
