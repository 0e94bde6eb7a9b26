/** Runs the built `hostnet` CLI in a directory, as a user would from there (its state lives in that directory's `.hostnet`). */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { spawnCollect } from "../../provider/host/local";
import { REPO_ROOT } from "./paths";

/** The built CLI. */
export const CLI = path.join(REPO_ROOT, "dist", "bin", "hostnet.js");

/** `hostnet ARGS…` run in `dir()`; fails the test with both streams when it exits non-zero, else returns stdout. */
export function cliIn(dir: () => string): (...args: string[]) => Promise<string> {
  return async (...args: string[]) => {
    const r = await spawnCollect(["sh", "-c", 'cd "$1" && shift && exec node "$@"', "sh", dir(), CLI, ...args], { timeoutMs: 600_000 });
    if (r.exitCode !== 0) assert.fail(`hostnet ${args.join(" ")} failed (${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
}
