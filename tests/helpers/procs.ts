import * as fs from "node:fs";
/** Small helpers to run commands in tests (argv arrays, no shell). */
import { spawnCollect } from "../../provider/host/local";
import { RunResult } from "../../provider/host/runner";

/** Runs a command and throws with its stderr when it fails. */
export async function sh(argv: readonly string[], stdin?: string): Promise<string> {
  const r: RunResult = await spawnCollect(argv, { stdin, timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs a command and returns its result whatever the exit code. */
export function tryRun(argv: readonly string[], stdin?: string): Promise<RunResult> {
  return spawnCollect(argv, { stdin, timeoutMs: 60_000 });
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when the tests run as root (needed to make namespaces). */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Retries `fn` every 200 ms until it says true; fails the test with `what` after `tries` attempts. */
export async function eventually(what: string, fn: () => Promise<boolean>, tries = 25): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return;
    await sleep(200);
  }
  throw new Error(`not seen in ${tries} tries: ${what}`);
}

/** `root` and every process under it, found by parent PID in one pass over /proc, leaving out the subtrees of `except` (processes that end while being read are left out). */
export function processTree(root: number, except: ReadonlySet<number> = new Set()): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const tree: number[] = [];
  for (const todo = [root]; todo.length > 0; ) {
    const pid = todo.pop() as number;
    if (except.has(pid)) continue;
    tree.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return tree;
}
