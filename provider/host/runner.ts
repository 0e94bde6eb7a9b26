/** The seam between pure code and hosts: every command goes through a Runner. */
import { CommandError, HostnetError } from "./errors";

/** Options of one command run. */
export interface RunOptions {
  /** Bytes written to the command's standard input, then closed. */
  readonly stdin?: string;
  /** Kill the command after this many milliseconds (default 120 000). */
  readonly timeoutMs?: number;
}

/** What a finished command produced. A non-zero exit is a result, not an exception. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** A long-running command that has signalled readiness; `release` closes its stdin and waits for it to end. */
export interface Held {
  release(): Promise<void>;
  /** Settles with a reason when the command ends, whether released or not (a killed holder ends early). */
  readonly ended: Promise<string>;
}

/** A command whose output is followed line by line (`docker events`) until {@link Followed.stop}. */
export interface Followed {
  /** Ends the command (its stdin is closed; the wrapper of {@link followArgv} then ends it) and waits for it. */
  stop(): Promise<void>;
  /** Settles with a reason when the command ends, stopped or not (a lost connection ends it too). */
  readonly ended: Promise<string>;
}

/** Called with each line of a followed command's stdout. */
export type LineListener = (line: string) => void;

/**
 * The argv that runs `argv` in the background and ends it when stdin closes:
 * a follower is stopped by closing its stdin, which works the same locally,
 * in a namespace and over SSH (closing an exec channel does not signal the
 * remote process). Values stay positional parameters of a constant script.
 */
export function followArgv(argv: readonly string[]): string[] {
  return ["sh", "-c", '"$@" & p=$!; cat >/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; exit 0', "sh", ...argv];
}

/** Splits chunks of output into lines for `onLine` (a partial last line waits for the rest). */
export function lineSplitter(onLine: LineListener): (chunk: Buffer | string) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== "") onLine(line);
    }
  };
}

/** Called with each `note:` line a held command prints before it is ready (e.g. who holds a lock it waits for). */
export type NoteListener = (note: string) => void;

/** One command of a sequence. */
export interface Command {
  readonly argv: readonly string[];
  /** Bytes written to the command's standard input, then closed. */
  readonly stdin?: string;
}

/**
 * What a sequence did: the results of the commands that ran, in order. It
 * stops after the first command that fails, so only the last result can be
 * a failure. `error` is set when it could not go on (the connection was
 * lost): then the command after the last result may or may not have run.
 */
export interface SequenceResult {
  readonly results: RunResult[];
  readonly error?: Error;
}

/** Options of a sequence. */
export interface SequenceOptions {
  readonly timeoutMs?: number;
  /** Run every command whatever the earlier ones returned (reads); by default a sequence stops after the first failure. */
  readonly all?: boolean;
}

/** Runs argv arrays on one host. Implementations never pass argv through a shell except the SSH one, which quotes once. */
export interface Runner {
  /** Stable identity of the host, used in resource IDs, ownership marks and errors. */
  readonly hostId: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /**
   * Runs commands in order in one round trip, stopping after the first that
   * fails (see {@link SequenceResult}). Optional: {@link runInOrder} runs
   * them one by one on runners without it.
   */
  runSequence?(commands: readonly Command[], opts?: SequenceOptions): Promise<SequenceResult>;
  /**
   * Starts a command that prints one line when ready and then runs until its
   * stdin closes (used to hold a `flock` on the host). Optional: runners
   * without it (the recording one) skip host-side locking.
   */
  hold?(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held>;
  /** The runner for undo commands, when it differs (a lock-guarded runner undoes even after its lock is lost). */
  forUndo?(): Runner;
  /** Starts a long-running command and calls `onLine` with each line it prints (see {@link followArgv}). Optional. */
  follow?(argv: readonly string[], onLine: LineListener): Promise<Followed>;
}

/**
 * Waits for the first line on a stream that is not a `note:` line (those go to
 * `onNote`); rejects if the process ends first or the time runs out.
 */
export function firstLine(stdout: NodeJS.ReadableStream, ended: Promise<string>, timeoutMs: number, onNote?: NoteListener): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
    stdout.on("data", (d: Buffer) => {
      if (ready) return;
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("note:")) {
          onNote?.(line.slice(5).trim());
          continue;
        }
        ready = true;
        clearTimeout(timer);
        resolve();
        return;
      }
    });
    ended.then((why) => {
      clearTimeout(timer);
      reject(new Error(why));
    });
  });
}

/** Runs `commands` in order, stopping after the first that fails: in one round trip where the runner can, else one by one. */
export async function runInOrder(runner: Runner, commands: readonly Command[], opts?: SequenceOptions): Promise<SequenceResult> {
  if (commands.length === 0) return { results: [] };
  if (runner.runSequence && commands.length > 1) return runner.runSequence(commands, opts);
  const results: RunResult[] = [];
  for (const c of commands) {
    try {
      const r = await runner.run(c.argv, c.stdin !== undefined ? { stdin: c.stdin } : undefined);
      results.push(r);
      if (r.exitCode !== 0 && !opts?.all) break;
    } catch (e) {
      return { results, error: e as Error };
    }
  }
  return { results };
}

/** Default timeout of one command. */
export const DEFAULT_TIMEOUT_MS = 120_000;

/** Runs a command and throws a {@link CommandError} when it exits non-zero. */
export async function runChecked(runner: Runner, argv: readonly string[], opts?: RunOptions & { context?: string }): Promise<RunResult> {
  const res = await runner.run(argv, opts);
  if (res.exitCode !== 0) {
    throw new CommandError({ host: runner.hostId, argv, exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr, context: opts?.context });
  }
  return res;
}

/** sudo refused to run a command without a password (or at all). */
export class SudoError extends HostnetError {}

const SUDO_REFUSED = /^sudo: (a password is required|a terminal is required|sorry, you must have a tty|.* is not in the sudoers file|.* is not allowed to execute)/m;

/** The {@link SudoError} for sudo's refusal in `stderr` (undefined when sudo did not refuse). */
export function sudoRefusal(hostId: string, user: string, what: string, stderr: string): SudoError | undefined {
  const m = SUDO_REFUSED.exec(stderr);
  if (!m) return undefined;
  return new SudoError(
    `sudo on ${hostId} refused to run ${what} for ${user} (${m[0].trim()}): hostnet runs every command with "sudo -n", which needs passwordless sudo; ` +
      `allow it with a sudoers rule such as "${user} ALL=(root) NOPASSWD: ALL" (visudo -f /etc/sudoers.d/hostnet), or connect as root`,
  );
}

/**
 * Prefixes every command with `sudo -n` (a non-root user of a local or
 * namespace runner; over SSH the session's shell itself runs under sudo,
 * once per session); a refusal by sudo is one clear {@link SudoError}.
 */
export class SudoRunner implements Runner {
  constructor(private readonly inner: Runner, private readonly user = "the SSH user") {}
  get hostId(): string {
    return this.inner.hostId;
  }
  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const res = await this.inner.run(["sudo", "-n", "--", ...argv], opts);
    this.refused(argv, res);
    return res;
  }
  /** Throws one clear {@link SudoError} when sudo itself refused. */
  private refused(argv: readonly string[], res: RunResult): void {
    if (res.exitCode === 0) return;
    const e = sudoRefusal(this.hostId, this.user, `\`${argv.join(" ")}\``, res.stderr);
    if (e) throw e;
  }
  follow(argv: readonly string[], onLine: LineListener): Promise<Followed> {
    if (!this.inner.follow) throw new Error("the underlying runner cannot follow a command");
    return this.inner.follow(["sudo", "-n", "--", ...argv], onLine);
  }
  hold(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held> {
    if (!this.inner.hold) throw new Error("the underlying runner cannot hold a command");
    return this.inner.hold(["sudo", "-n", "--", ...argv], timeoutMs, onNote);
  }
}
