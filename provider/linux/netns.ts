/** argv builders for working inside another network namespace from the host. Pure. */

/** The network namespace of the command itself, i.e. the host's (or the test host's). */
export const SELF_NETNS = "/proc/self/ns/net";

/** Where a container's or a named namespace's network namespace is. */
export function netnsPathOfPid(pid: number): string {
  return `/proc/${pid}/ns/net`;
}

/** Path of a named namespace (`ip netns add NAME`). */
export function netnsPathOfName(name: string): string {
  return `/run/netns/${name}`;
}

/** Runs argv inside the network namespace at `path` (only the network namespace is entered). */
export function inNetns(path: string, argv: readonly string[]): string[] {
  return ["nsenter", `--net=${path}`, "--", ...argv];
}

/** Prints the inode of a namespace file (its identity): `stat -L -c %i PATH`. */
export function statInode(path: string): string[] {
  return ["stat", "-L", "-c", "%i", path];
}

/**
 * Moves a link from the namespace at `path` back into the namespace the
 * command runs in. The script is constant; the values travel as positional
 * parameters. The outer `sh` stays in the host namespace, so `/proc/$$/ns/net`
 * names it while `nsenter` runs `ip` inside the other one.
 */
export function moveLinkBack(path: string, ifname: string): string[] {
  return ["sh", "-c", 'nsenter --net="$1" -- ip link set dev "$2" netns "/proc/$$/ns/net"', "sh", path, ifname];
}
