/**
 * Mutations on one host are kept apart twice: within this process (the
 * dynamic provider serves every resource of an engine run) by scope — two
 * mutations of one scope (the host's tables, one namespace, one link) run
 * one after the other, others side by side, a bounded number at once — and
 * across processes (two stacks, two CI jobs) by a `flock` on the host. The
 * flock is taken on the first mutation and held while mutations follow each
 * other (one holder per host per engine run, not one per mutation: taking
 * it costs an SSH channel and a login shell), then let go shortly after the
 * last, or when the process and its connection end. The lock file is
 * named for the host's network namespace, so test hosts sharing one /run keep
 * apart; it holds the current holder's description (stack, since when, PID).
 *
 * The holder is watched: it runs on its own SSH channel, and if it ends while
 * the mutation runs (killed, connection lost) the lock is gone, so the
 * mutation stops with a {@link LockLostError} before its next command. A
 * waiter says who holds the lock, and gives up after a timeout naming them.
 */
import { forgetSnapshots } from "./snapshot";
import { HostnetError } from "../../host/errors";
import { Command, Held, RunOptions, RunResult, Runner, SequenceOptions, SequenceResult, runInOrder } from "../../host/runner";
import { Semaphore } from "../../host/semaphore";
import { hostNetnsInode } from "./netns-id";

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

/** One hold of the host lock, shared by the mutations of this process on that host while they come in close succession. */
interface Lease {
  readonly file: string;
  readonly held: Held;
  /** Why the holder ended, once it has. */
  lost?: string;
  /** Mutations running under it. */
  active: number;
  released: boolean;
  linger?: NodeJS.Timeout;
}

/** A runner that refuses to run anything once the lock holder has ended (undo commands excepted: see {@link Runner}). */
class LockedRunner implements Runner {
  constructor(private readonly inner: Runner, private readonly lease: Lease) {}
  get hostId(): string {
    return this.inner.hostId;
  }
  private check(argv: readonly string[]): void {
    if (this.lease.lost !== undefined) {
      throw new LockLostError(
        `lost the host lock ${this.lease.file} on ${this.hostId} (its holder ended: ${this.lease.lost}); stopped before \`${argv.join(" ")}\`: another run may be changing this host, run again to converge`,
      );
    }
  }
  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    this.check(argv);
    return this.inner.run(argv, opts);
  }
  /** One check for a sequence sent in one round trip; one per command where they go one by one. */
  async runSequence(commands: readonly Command[], opts?: SequenceOptions): Promise<SequenceResult> {
    if (!this.inner.runSequence) return runInOrder({ hostId: this.hostId, run: (a, o) => this.run(a, o) }, commands, opts);
    if (commands.length > 0) this.check(commands[0].argv);
    return this.inner.runSequence(commands, opts);
  }
  /** The runner for undoing what this mutation did, which goes on even after the lock is lost. */
  forUndo(): Runner {
    return this.inner;
  }
}

/** How long a lease outlives its last mutation, waiting for the next (`HOSTNET_LOCK_LINGER_MS` overrides). */
export const LOCK_LINGER_MS = 500;

/** How many mutations run at once on one host (`HOSTNET_PARALLEL` overrides; below sshd's default MaxSessions of 10). */
export const HOST_PARALLELISM = 8;

function envInt(name: string, dflt: number, min: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v >= min ? v : dflt;
}

const leases = new Map<string, Promise<Lease>>();

/** The host's live lease, or a new hold of its lock (one at a time per host). */
async function acquire(runner: Runner, who: string): Promise<Lease> {
  const hostId = runner.hostId;
  for (;;) {
    const existing = leases.get(hostId);
    if (!existing) break;
    const lease = await existing.catch(() => undefined);
    if (lease && !lease.released && lease.lost === undefined) {
      clearTimeout(lease.linger);
      lease.active++;
      return lease;
    }
    if (leases.get(hostId) === existing) leases.delete(hostId);
  }
  const hold = (async (): Promise<Lease> => {
    const hold = runner.hold;
    if (!hold) throw new Error("the runner cannot hold a command");
    const file = lockFilePath(await hostNetnsInode(runner));
    const timeout = lockTimeoutS();
    let held: Held;
    try {
      held = await hold.call(runner, holdLockArgv(file, who, timeout), (timeout + 10) * 1000, (note) => console.error(`${hostId}: ${note}`));
    } catch (e) {
      const msg = (e as Error).message;
      const holder = /exited with 3: (.*)$/s.exec(msg);
      if (holder) throw new HostnetError(`gave up after ${timeout} s waiting for the host lock ${file} on ${hostId}, ${holder[1].trim()}; try again when that run is done`);
      throw new HostnetError(`cannot take the host lock ${file} on ${hostId}: ${msg}`);
    }
    const lease: Lease = { file, held, active: 1, released: false };
    void held.ended.then((why) => {
      if (!lease.released) lease.lost = why;
    });
    return lease;
  })();
  leases.set(hostId, hold);
  try {
    return await hold;
  } catch (e) {
    if (leases.get(hostId) === hold) leases.delete(hostId);
    throw e;
  }
}

/** Ends one mutation's use of the lease; the last one lets it go after {@link LOCK_LINGER_MS} unless another starts. */
function letGo(lease: Lease): Promise<void> {
  lease.active--;
  if (lease.active > 0 || lease.released) return Promise.resolve();
  const release = async () => {
    if (lease.active > 0 || lease.released) return;
    // Marked released, it is replaced by the next acquire (which drops it from `leases`).
    lease.released = true;
    await lease.held.release();
  };
  const linger = envInt("HOSTNET_LOCK_LINGER_MS", LOCK_LINGER_MS, 0);
  if (linger === 0) return release();
  lease.linger = setTimeout(() => void release().catch(() => undefined), linger);
  lease.linger.unref();
  return Promise.resolve();
}

const gates = new Map<string, Semaphore>();
const scopes = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier holder of `key` in this process has finished. */
async function serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = scopes.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const tail = prev.then(() => mine);
  scopes.set(key, tail);
  await prev;
  try {
    return await fn();
  } finally {
    done();
    if (scopes.get(key) === tail) scopes.delete(key);
  }
}

/**
 * What a mutation changes on its host, for running mutations side by side:
 * two with the same scope on one host run one after the other; others run
 * at once (up to {@link HOST_PARALLELISM}). `firewall` is for everything that
 * reads and writes host-wide tables (iptables/nft, the forward chain,
 * ip_forward, the subnets of bridges); `file:` is one file on the host (a
 * container's hosts file).
 */
export type LockScope = "firewall" | `netns:${string}` | `link:${string}` | `file:${string}`;

/**
 * Runs `fn` holding the host-side lock; `fn` must run its commands through
 * the runner it is given, which stops once the lock is lost. The lock is held
 * once for the mutations that follow each other on a host in this process (an
 * engine run), and let go {@link LOCK_LINGER_MS} after the last; mutations
 * of different scopes run side by side under it, up to
 * {@link HOST_PARALLELISM} at once.
 */
export async function withHostLock<T>(runner: Runner, fn: (locked: Runner) => Promise<T>, who = "pulumi-hostnet", scope: LockScope = "firewall"): Promise<T> {
  const hostId = runner.hostId;
  let gate = gates.get(hostId);
  if (!gate) gates.set(hostId, (gate = new Semaphore(envInt("HOSTNET_PARALLEL", HOST_PARALLELISM, 1))));
  return serially(`${hostId}\n${scope}`, async () => {
    await gate.take();
    // What refresh read of this host is about to be out of date.
    forgetSnapshots(hostId);
    try {
      if (!runner.hold) return await fn(runner);
      const lease = await acquire(runner, who);
      try {
        return await fn(new LockedRunner(runner, lease));
      } finally {
        await letGo(lease);
      }
    } finally {
      forgetSnapshots(hostId);
      gate.give();
    }
  });
}
