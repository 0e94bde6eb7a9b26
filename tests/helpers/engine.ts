/**
 * The real Pulumi engine for integration tests: Automation API inline
 * programs, the CLI built by scripts/setup.sh, a file backend and PULUMI_HOME
 * under a fresh directory, and no network access of the engine's own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { engineEnv, pulumiCommand } from "../../provider/automation/engine";
import { REPO_ROOT } from "./paths";

/** A stack of an inline program, with its own backend directory. */
export interface TestStack {
  readonly stack: Stack;
  readonly dir: string;
  /** Destroys what is left (best effort) and removes the stack and its files. */
  cleanup(): Promise<void>;
}

let seq = 0;

/** Creates a stack for an inline program in a work dir under the repo (so the provider shim resolves this package's node_modules). */
export async function newStack(projectName: string, program: PulumiFn): Promise<TestStack> {
  const root = path.join(REPO_ROOT, ".test-work");
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, `${projectName}-${++seq}-`));
  const pulumiCmd = await pulumiCommand();
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "test", projectName, program },
    { workDir: dir, pulumiCommand: pulumiCmd, envVars: engineEnv(dir, "hostnet-tests"), projectSettings: { name: projectName, runtime: "nodejs" } },
  );
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
