/**
 * The real Pulumi engine for integration tests: Automation API inline
 * programs, the CLI built by scripts/setup.sh, a file backend and PULUMI_HOME
 * under a fresh directory, and no network access of the engine's own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { REPO_ROOT, enginePrefix } from "./paths";

/** A stack of an inline program, with its own backend directory. */
export interface TestStack {
  readonly stack: Stack;
  readonly dir: string;
  /** Destroys what is left (best effort) and removes the stack and its files. */
  cleanup(): Promise<void>;
}

let seq = 0;

/** Fails with a clear message when the engine is not built. */
export async function pulumiCommand(): Promise<PulumiCommand> {
  const prefix = enginePrefix();
  const bin = path.join(prefix, "bin", "pulumi");
  if (!fs.existsSync(bin)) throw new Error(`the Pulumi CLI is not built at ${bin}: run scripts/setup.sh first`);
  if (!fs.existsSync(path.join(prefix, "bin", "pulumi-resource-pulumi-nodejs"))) throw new Error(`the dynamic provider shim is missing next to ${bin}: run scripts/setup.sh`);
  return PulumiCommand.get({ root: prefix, skipVersionCheck: false });
}

/** Environment for every engine run: offline, isolated, the built CLI and its shim first on PATH. */
export function engineEnv(dir: string): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: `file://${path.join(dir, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: "hostnet-tests",
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PATH: `${path.join(enginePrefix(), "bin")}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
  };
}

/** Creates a stack for an inline program in a work dir under the repo (so the provider shim resolves this package's node_modules). */
export async function newStack(projectName: string, program: PulumiFn): Promise<TestStack> {
  const root = path.join(REPO_ROOT, ".test-work");
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, `${projectName}-${++seq}-`));
  fs.mkdirSync(path.join(dir, "backend"));
  fs.mkdirSync(path.join(dir, "home"));
  const pulumiCmd = await pulumiCommand();
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "test", projectName, program },
    { workDir: dir, pulumiCommand: pulumiCmd, envVars: engineEnv(dir), projectSettings: { name: projectName, runtime: "nodejs" } },
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
