/** The seam between pure code and hosts: every command goes through a Runner. */
import { CommandError } from "./errors";

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
}

/** Runs argv arrays on one host. Implementations never pass argv through a shell except the SSH one, which quotes once. */
export interface Runner {
  /** Stable identity of the host, used in resource IDs, ownership marks and errors. */
  readonly hostId: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /**
   * Starts a command that prints one line when ready and then runs until its
   * stdin closes (used to hold a `flock` on the host). Optional: runners
   * without it (the recording one) skip host-side locking.
   */
  hold?(argv: readonly string[], timeoutMs: number): Promise<Held>;
}

/** Waits for the first line on a stream; rejects with `onFail()` if the process ends first or the time runs out. */
export function firstLine(stdout: NodeJS.ReadableStream, ended: Promise<string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
    stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
    ended.then((why) => {
      clearTimeout(timer);
      reject(new Error(why));
    });
  });
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

/** Prefixes every command with `sudo -n` (for a non-root SSH user). */
export class SudoRunner implements Runner {
  constructor(private readonly inner: Runner) {}
  get hostId(): string {
    return this.inner.hostId;
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.inner.run(["sudo", "-n", "--", ...argv], opts);
  }
  hold(argv: readonly string[], timeoutMs: number): Promise<Held> {
    if (!this.inner.hold) throw new Error("the underlying runner cannot hold a command");
    return this.inner.hold(["sudo", "-n", "--", ...argv], timeoutMs);
  }
}
