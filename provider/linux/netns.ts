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
 * A guard: succeeds only while the namespace file at `path` is still the
 * namespace whose inode is `inode` (exit 1 when it is another, or gone). It
 * goes first in a round trip of changes planned from an earlier read, so a
 * PID that has come to name another namespace is never entered. One process
 * (`find`, GNU or busybox): `false` runs, and fails the guard, only when the
 * inode differs.
 */
export function netnsIs(path: string, inode: string): string[] {
  return ["find", "-L", path, "-maxdepth", "0", "!", "-inum", inode, "-exec", "false", "{}", "+"];
}

/**
 * Moves a link from the namespace at `path` back into the namespace the
 * command runs in. The script is constant; the values travel as positional
 * parameters. `ip` gets the shell's own PID, whose namespace is the host's,
 * and the trailing `exit $?` keeps the shell alive while `ip` runs: bash execs
 * the last command of `sh -c` in place, so 0.1's lone command with
 * `/proc/$$/ns/net` named `ip`'s own (the container's) namespace under bash
 * and silently moved nothing. A PID (not a path) also suits busybox's `ip`.
 * Tested under dash, bash and busybox sh.
 */
export function moveLinkBack(path: string, ifname: string): string[] {
  return ["sh", "-c", 'nsenter --net="$1" -- ip link set dev "$2" netns "$$"; exit $?', "sh", path, ifname];
}
