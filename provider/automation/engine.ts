/**
 * Running the Pulumi engine from Node (Automation API) offline: the CLI built
 * by scripts/setup.sh, a local file backend, an isolated PULUMI_HOME, and no
 * plugin downloads or update checks.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { isolateEngineLinks } from "./engine-link";

/** The Pulumi CLI version the project builds and tests against. */
export const PULUMI_VERSION = "v3.274.1";

/** Install prefix of the built engine (`bin/pulumi` and the dynamic provider shim). */
export function enginePrefix(): string {
  return process.env.HOSTNET_PULUMI_PREFIX ?? path.join(os.homedir(), ".cache", "pulumi-hostnet", `pulumi-${PULUMI_VERSION}`);
}

/**
 * The built CLI; fails with a clear message naming the missing piece. Also
 * isolates this process's gRPC links to the engines it will start (engine-link.ts).
 */
export async function pulumiCommand(): Promise<PulumiCommand> {
  isolateEngineLinks();
  const prefix = enginePrefix();
  const bin = path.join(prefix, "bin", "pulumi");
  if (!fs.existsSync(bin)) throw new Error(`the Pulumi CLI is not built at ${bin}: run scripts/setup.sh first`);
  if (!fs.existsSync(path.join(prefix, "bin", "pulumi-resource-pulumi-nodejs"))) throw new Error(`the dynamic provider shim is missing next to ${bin}: run scripts/setup.sh`);
  return PulumiCommand.get({ root: prefix });
}

/** Environment for an engine run whose backend and PULUMI_HOME live under `dir`. */
export function engineEnv(dir: string, passphrase = process.env.PULUMI_CONFIG_PASSPHRASE ?? "hostnet"): Record<string, string> {
  fs.mkdirSync(path.join(dir, "backend"), { recursive: true });
  fs.mkdirSync(path.join(dir, "home"), { recursive: true });
  return {
    PULUMI_BACKEND_URL: process.env.HOSTNET_BACKEND_URL ?? `file://${path.resolve(dir, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_HOME: path.resolve(dir, "home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PATH: `${path.join(enginePrefix(), "bin")}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
  };
}

/**
 * Runs a refresh with the engine's intermediate checkpoints off
 * (`PULUMI_SKIP_CHECKPOINTS`): the engine then writes the state once, at the
 * end, instead of the whole state after every resource read — 2N writes of
 * the whole state, most of a large stack's refresh. Safe for a refresh and
 * only for it: a refresh changes nothing on the hosts, so a run cut off
 * half-way leaves the state from before, which still records everything
 * that exists (the next refresh reads again). `up` and `destroy` keep them:
 * there a lost checkpoint would lose the record of what was made.
 */
export async function refreshWithoutCheckpoints<T>(stack: Stack, refresh: () => Promise<T>): Promise<T> {
  const env = stack.workspace.envVars;
  const before = env[SKIP_CHECKPOINTS];
  env[SKIP_CHECKPOINTS] = "true";
  try {
    return await refresh();
  } finally {
    if (before === undefined) delete env[SKIP_CHECKPOINTS];
    else env[SKIP_CHECKPOINTS] = before;
  }
}
const SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS";
