/**
 * The real Pulumi engine for integration tests: Automation API inline
 * programs, the CLI built by scripts/setup.sh, a file backend and PULUMI_HOME
 * under a fresh directory, and no network access of the engine's own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { engineEnv, pulumiCommand } from "../../provider/automation/engine";
import { ENGINE_LINK_LOST, guardedProgram } from "../../provider/automation/engine-link";
import { REPO_ROOT } from "./paths";

/** A stack of an inline program, with its own backend directory. */
export interface TestStack {
  readonly stack: Stack;
  readonly dir: string;
  /** Destroys what is left (best effort) and removes the stack and its files. */
  cleanup(): Promise<void>;
}

let seq = 0;

/**
 * Creates a stack for an inline program in a work dir under the repo (so the
 * provider shim resolves this package's node_modules). The program runs under
 * `guardedProgram` and transient engine-link failures are retried unless
 * `guard: false` / `retry: false` (the engine-link suite turns both off).
 */
export async function newStack(projectName: string, program: PulumiFn, opts: { guard?: boolean; retry?: boolean } = {}): Promise<TestStack> {
  const root = path.join(REPO_ROOT, ".test-work");
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, `${projectName}-${++seq}-`));
  const pulumiCmd = await pulumiCommand();
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "test", projectName, program: opts.guard === false ? program : guardedProgram(program) },
    { workDir: dir, pulumiCommand: pulumiCmd, envVars: engineEnv(dir, "hostnet-tests"), projectSettings: { name: projectName, runtime: "nodejs" } },
  );
  if (opts.retry !== false) retryTransient(stack);
  let cleaned = false;
  return {
    stack,
    dir,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      try {
        await stack.destroy({ color: "never" });
      } finally {
        await stack.workspace.removeStack("test", { force: true }).catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The gRPC link between the inline program (this process) and the engine failed before anything ran. */
function isTransientEngineLink(e: unknown): boolean {
  const m = String((e as Error)?.message ?? e);
  return /14 UNAVAILABLE: No connection established/.test(m) || m.includes(ENGINE_LINK_LOST);
}

/**
 * Wraps up/preview/refresh/destroy so that a failure of the program's gRPC link
 * to the engine ("14 UNAVAILABLE: No connection established", seen once in many
 * runs on a loaded 2-core machine) is retried: the operations are declarative,
 * so a second run is the same request. Any other failure passes through.
 */
function retryTransient(stack: Stack): void {
  for (const op of ["up", "preview", "refresh", "destroy"] as const) {
    const original = stack[op].bind(stack) as (...args: unknown[]) => Promise<unknown>;
    (stack as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await original(...args);
        } catch (e) {
          if (attempt >= 3 || !isTransientEngineLink(e)) throw e;
          console.error(`(retrying ${op} after a transient engine link failure: ${String((e as Error).message).split("\n").find((l) => l.includes("UNAVAILABLE"))?.trim()})`);
        }
      }
    };
  }
}
