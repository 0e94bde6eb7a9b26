/**
 * Mutations on one host are serialised twice: within this process (the
 * dynamic provider serves every resource of an engine run) by a promise
 * chain per host, and across processes (two stacks, two CI jobs) by a
 * `flock` held on the host for the duration of the mutation. The lock file is
 * named for the host's network namespace, so test hosts sharing one /run keep
 * apart; a dropped connection ends the holder and frees the lock.
 */
import { HostnetError } from "../../host/errors";
import { Runner } from "../../host/runner";
import { hostNetnsInode } from "./netns-id";

const tails = new Map<string, Promise<void>>();

/** How long to wait for another process's lock on the host. */
export const HOST_LOCK_TIMEOUT_S = 300;

/** The lock file for the namespace with this inode. */
export function lockFilePath(netnsInode: string): string {
  return `/run/lock/hostnet.${netnsInode}.lock`;
}

async function lockFile(runner: Runner): Promise<string> {
  return lockFilePath(await hostNetnsInode(runner));
}

/** argv that takes the host lock, says so, and keeps it until stdin closes. */
export function holdLockArgv(file: string): string[] {
  return ["flock", "-w", String(HOST_LOCK_TIMEOUT_S), file, "sh", "-c", "echo locked; exec cat >/dev/null"];
}

/** Runs `fn` after every earlier call for the same host in this process has finished, holding the host-side lock. */
export async function withHostLock<T>(runner: Runner, fn: () => Promise<T>): Promise<T> {
  const hostId = runner.hostId;
  const prev = tails.get(hostId) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  tails.set(hostId, tail);
  await prev;
  try {
    if (!runner.hold) return await fn();
    const file = await lockFile(runner);
    let held;
    try {
      held = await runner.hold(holdLockArgv(file), (HOST_LOCK_TIMEOUT_S + 10) * 1000);
    } catch (e) {
      throw new HostnetError(`cannot take the host lock ${file} on ${hostId}: ${(e as Error).message}`);
    }
    try {
      return await fn();
    } finally {
      await held.release();
    }
  } finally {
    release();
    if (tails.get(hostId) === tail) tails.delete(hostId);
  }
}
