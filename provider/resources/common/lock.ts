/**
 * Mutations on one host are serialised twice: within this process (the
 * dynamic provider serves every resource of an engine run) by a promise
 * chain per host, and across processes (two stacks, two CI jobs) by a
 * `flock` held on the host for the duration of the mutation. The lock file is
 * named for the host's network namespace, so test hosts sharing one /run keep
 * apart; it holds the current holder's description (stack, since when, PID).
 *
 * The holder is watched: it runs on its own SSH channel, and if it ends while
 * the mutation runs (killed, connection lost) the lock is gone, so the
 * mutation stops with a {@link LockLostError} before its next command. A
 * waiter says who holds the lock, and gives up after a timeout naming them.
 */
import { HostnetError } from "../../host/errors";
import { Held, RunOptions, RunResult, Runner } from "../../host/runner";
import { hostNetnsInode } from "./netns-id";

const tails = new Map<string, Promise<void>>();

/** How long to wait for another process's lock on the host (`HOSTNET_LOCK_TIMEOUT_S` overrides). */
export const HOST_LOCK_TIMEOUT_S = 300;

function lockTimeoutS(): number {
  const v = Number(process.env.HOSTNET_LOCK_TIMEOUT_S);
  return Number.isInteger(v) && v > 0 ? v : HOST_LOCK_TIMEOUT_S;
}

/** How a holder describes itself in the lock file: the owning stack. */
export function lockHolder(owner: string | undefined): string {
  return `stack ${owner ?? "unknown"}`;
}

/** The host lock's holder ended while a mutation was running: the host is no longer ours alone. */
export class LockLostError extends HostnetError {}

/** The lock file for the namespace with this inode. */
export function lockFilePath(netnsInode: string): string {
  return `/run/lock/hostnet.${netnsInode}.lock`;
}

/**
 * The holder: one POSIX sh process that opens the lock file as fd 9, takes the
 * lock (saying who holds it while it waits), makes sure the file it locked is
 * still the one at the path (a holder removes it on release; a waiter that got
 * the removed one starts over), writes its own description into the file,
 * says `locked`, then waits with the shell's own `read` (no child process: if
 * the holder is killed, its channel closes and the lock is seen lost) until
 * stdin closes, and removes the file before it lets go. Values travel as
 * positional parameters; correct under dash, bash and busybox sh. Exit 3:
 * timed out waiting.
 */
export function holdLockArgv(file: string, who: string, timeoutS = HOST_LOCK_TIMEOUT_S): string[] {
  const script = [
    "while :; do",
    '  exec 9>>"$1" || exit 1',
    '  if ! flock -n 9; then echo "note: waiting for the host lock $1, held by $(cat "$1" 2>/dev/null || echo unknown)"; ' +
      'flock -w "$2" 9 || { echo "held by $(cat "$1" 2>/dev/null || echo unknown)" >&2; exit 3; }; fi',
    '  [ "$1" -ef "/proc/$$/fd/9" ] && break',
    "done",
    'printf "%s since %s pid %s\\n" "$3" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$$" >"$1"',
    "echo locked",
    "while read -r _; do :; done",
    'rm -f "$1"',
  ].join("\n");
  return ["sh", "-c", script, "sh", file, String(timeoutS), who];
}

/** A runner that refuses to run anything once the lock holder has ended (undo commands excepted: see {@link Runner}). */
class LockedRunner implements Runner {
  lost?: string;
  constructor(private readonly inner: Runner, private readonly file: string) {}
  get hostId(): string {
    return this.inner.hostId;
  }
  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    if (this.lost !== undefined) {
      throw new LockLostError(
        `lost the host lock ${this.file} on ${this.hostId} (its holder ended: ${this.lost}); stopped before \`${argv.join(" ")}\`: another run may be changing this host, run again to converge`,
      );
    }
    return this.inner.run(argv, opts);
  }
  /** The runner for undoing what this mutation did, which goes on even after the lock is lost. */
  forUndo(): Runner {
    return this.inner;
  }
}

/**
 * Runs `fn` after every earlier call for the same host in this process has
 * finished, holding the host-side lock; `fn` must run its commands through the
 * runner it is given, which stops once the lock is lost.
 */
export async function withHostLock<T>(runner: Runner, fn: (locked: Runner) => Promise<T>, who = "pulumi-hostnet"): Promise<T> {
  const hostId = runner.hostId;
  const prev = tails.get(hostId) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  tails.set(hostId, tail);
  await prev;
  try {
    if (!runner.hold) return await fn(runner);
    const file = lockFilePath(await hostNetnsInode(runner));
    const timeout = lockTimeoutS();
    let held: Held;
    try {
      held = await runner.hold(holdLockArgv(file, who, timeout), (timeout + 10) * 1000, (note) => console.error(`${hostId}: ${note}`));
    } catch (e) {
      const msg = (e as Error).message;
      const holder = /exited with 3: (.*)$/s.exec(msg);
      if (holder) throw new HostnetError(`gave up after ${timeout} s waiting for the host lock ${file} on ${hostId}, ${holder[1].trim()}; try again when that run is done`);
      throw new HostnetError(`cannot take the host lock ${file} on ${hostId}: ${msg}`);
    }
    const locked = new LockedRunner(runner, file);
    let released = false;
    void held.ended.then((why) => {
      if (!released) locked.lost = why;
    });
    try {
      return await fn(locked);
    } finally {
      released = true;
      await held.release();
    }
  } finally {
    release();
    if (tails.get(hostId) === tail) tails.delete(hostId);
  }
}
