/** Runs commands on this machine with execFile semantics: no shell, argv passed as is. */
import { spawn } from "node:child_process";
import { DEFAULT_TIMEOUT_MS, Followed, Held, LineListener, NoteListener, RunOptions, RunResult, Runner, firstLine, followArgv, lineSplitter } from "./runner";

/** Runs a command locally and collects its output. Exit code -1 means it could not be started or was killed. */
export function spawnCollect(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], shell: false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      err.push(Buffer.from(`\n(killed after ${opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms)`));
    }, opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const finish = (exitCode: number, extra?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") + (extra ?? ""), exitCode });
    };
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => finish(-1, e.message));
    child.on("close", (code) => finish(code ?? -1));
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts?.stdin ?? "");
  });
}

/** The local machine (`{ local: true }`). */
export class LocalRunner implements Runner {
  readonly hostId = "local";
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return spawnCollect(argv, opts);
  }
  hold(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held> {
    return spawnHeld(argv, timeoutMs, onNote);
  }
  follow(argv: readonly string[], onLine: LineListener): Promise<Followed> {
    return spawnFollowed(argv, onLine);
  }
}

/** Starts a local command (wrapped by {@link followArgv}) and calls `onLine` with each line of its stdout; stop closes its stdin. */
export async function spawnFollowed(argv: readonly string[], onLine: LineListener): Promise<Followed> {
  const [file, ...args] = followArgv(argv);
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], shell: false });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.on("data", lineSplitter(onLine));
  const ended = new Promise<string>((r) => {
    child.on("error", (e) => r(e.message));
    child.on("close", (code) => r(`exited with ${code}${stderr.trim() ? `: ${stderr.trim()}` : ""}`));
  });
  return {
    ended,
    async stop() {
      child.stdin.end();
      await ended;
    },
  };
}

/** Starts a local command and resolves once it printed its first line; release closes its stdin. */
export async function spawnHeld(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held> {
  const [file, ...args] = argv;
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], shell: false });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<string>((r) => {
    child.on("error", (e) => r(e.message));
    child.on("close", (code) => r(`exited with ${code}: ${stderr.trim()}`));
  });
  try {
    await firstLine(child.stdout, ended, timeoutMs, onNote);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${argv.join(" ")}: ${(e as Error).message}`);
  }
  return {
    ended,
    async release() {
      child.stdin.end();
      await ended;
    },
  };
}
