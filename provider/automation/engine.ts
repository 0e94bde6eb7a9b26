/**
 * Running the Pulumi engine from Node (Automation API) offline: a Pulumi CLI
 * (the one scripts/setup.sh built, or one installed on the machine), a local
 * file backend, an isolated PULUMI_HOME, and no plugin downloads or update
 * checks.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { isolateEngineLinks } from "./engine-link";

/** The Pulumi CLI version the project builds and tests against. */
export const PULUMI_VERSION = "v3.274.1";

/** Install prefix of the engine that scripts/setup.sh builds (`bin/pulumi` and the dynamic provider shim). */
export function enginePrefix(): string {
  return process.env.HOSTNET_PULUMI_PREFIX ?? path.join(os.homedir(), ".cache", "pulumi-hostnet", `pulumi-${PULUMI_VERSION}`);
}

/** The environment variable naming the `pulumi` binary to use (as `--pulumi` does). */
export const PULUMI_BIN_ENV = "HOSTNET_PULUMI";

/** The name of the plugin through which the engine runs dynamic resources (a shell script that starts Node). */
const SHIM = "pulumi-resource-pulumi-nodejs";

/** The Pulumi CLI a run uses, and how it was found. */
export interface EngineChoice {
  /** The `pulumi` binary. */
  readonly bin: string;
  /** Its version, as `pulumi version` printed it. */
  readonly version: string;
  /** Where it came from, for messages: `--pulumi`, `scripts/setup.sh`, `PATH`, … */
  readonly source: string;
  /** Whether the dynamic provider shim lies next to it (else the one in `@pulumi/pulumi` is used). */
  readonly shimBeside: boolean;
}

/** `[major, minor, patch]` of a version such as `v3.274.1` or `3.280.0-alpha.x`; undefined when it is not one. */
export function versionParts(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether version `v` is at least `min` (both as `pulumi version` prints them). */
export function versionAtLeast(v: string, min: string): boolean {
  const a = versionParts(v);
  const b = versionParts(min);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/**
 * Where a `pulumi` binary may be, in the order they are tried: the one named
 * by `--pulumi` or {@link PULUMI_BIN_ENV}; the one scripts/setup.sh built;
 * `pulumi` on `PATH`; the official installer's (`$PULUMI_HOME/bin`,
 * `~/.pulumi/bin`).
 */
export function engineCandidates(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { bin: string; source: string }[] {
  const given = explicit ?? env[PULUMI_BIN_ENV];
  if (given) return [{ bin: fs.existsSync(given) && fs.statSync(given).isDirectory() ? path.join(given, "bin", "pulumi") : given, source: explicit ? "--pulumi" : PULUMI_BIN_ENV }];
  const out = [{ bin: path.join(enginePrefix(), "bin", "pulumi"), source: "scripts/setup.sh" }];
  for (const dir of (env.PATH ?? "").split(":").filter(Boolean)) out.push({ bin: path.join(dir, "pulumi"), source: "PATH" });
  if (env.PULUMI_HOME) out.push({ bin: path.join(env.PULUMI_HOME, "bin", "pulumi"), source: "$PULUMI_HOME/bin" });
  out.push({ bin: path.join(os.homedir(), ".pulumi", "bin", "pulumi"), source: "~/.pulumi/bin" });
  return out;
}

let chosen: { key: string; choice: EngineChoice } | undefined;

/**
 * The first Pulumi CLI of {@link engineCandidates} that runs and is at least
 * {@link PULUMI_VERSION}; throws, naming every place tried and what it
 * found there, when there is none.
 */
export function chooseEngine(explicit?: string): EngineChoice {
  const key = `${explicit ?? ""}\0${process.env[PULUMI_BIN_ENV] ?? ""}\0${enginePrefix()}\0${process.env.PATH ?? ""}`;
  if (chosen?.key === key) return chosen.choice;
  const tried: string[] = [];
  for (const c of engineCandidates(explicit)) {
    if (!fs.existsSync(c.bin)) {
      if (c.source !== "PATH") tried.push(`${c.bin} (${c.source}): not there`);
      continue;
    }
    const r = spawnSync(c.bin, ["version"], { encoding: "utf8", timeout: 30_000, env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    const version = (r.stdout ?? "").trim();
    if (r.status !== 0 || !versionParts(version)) {
      tried.push(`${c.bin} (${c.source}): \`pulumi version\` failed${r.error ? `: ${r.error.message}` : `: ${(r.stderr ?? "").trim().split("\n")[0] ?? ""}`}`);
      continue;
    }
    if (!versionAtLeast(version, PULUMI_VERSION)) {
      tried.push(`${c.bin} (${c.source}): ${version}, older than ${PULUMI_VERSION}`);
      continue;
    }
    const choice = { bin: c.bin, version, source: c.source, shimBeside: fs.existsSync(path.join(path.dirname(c.bin), SHIM)) };
    chosen = { key, choice };
    return choice;
  }
  throw new Error(
    [
      `no Pulumi CLI ${PULUMI_VERSION} or newer found; tried:`,
      ...tried.map((t) => `  - ${t}`),
      "Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and put it on PATH, name it with --pulumi PATH or $" + PULUMI_BIN_ENV + ",",
      "or, in a checkout of pulumi-hostnet, build it with scripts/setup.sh.",
    ].join("\n"),
  );
}

/** The folder holding the `@pulumi/pulumi` that this package uses (its `node_modules`). */
function sdkModulesDir(): string {
  return path.dirname(path.dirname(path.dirname(require.resolve("@pulumi/pulumi/package.json"))));
}

/**
 * The CLI for the Automation API ({@link chooseEngine}). Also isolates this
 * process's gRPC links to the engines it will start (engine-link.ts).
 */
export async function pulumiCommand(explicit?: string): Promise<PulumiCommand> {
  isolateEngineLinks();
  const choice = chooseEngine(explicit);
  let root = path.dirname(path.dirname(choice.bin));
  if (path.basename(path.dirname(choice.bin)) !== "bin" || path.basename(choice.bin) !== "pulumi") {
    // PulumiCommand runs <root>/bin/pulumi: give it that layout, one folder per binary, made once and reused.
    const target = path.resolve(choice.bin);
    root = path.join(os.tmpdir(), `hostnet-pulumi-${process.getuid?.() ?? 0}-${crypto.createHash("sha256").update(target).digest("hex").slice(0, 16)}`);
    const link = path.join(root, "bin", "pulumi");
    const points = () => fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() === true && fs.readlinkSync(link) === target;
    if (!points()) {
      fs.mkdirSync(path.dirname(link), { recursive: true, mode: 0o700 });
      fs.rmSync(link, { force: true });
      try {
        fs.symlinkSync(target, link);
      } catch (e) {
        // Another hostnet made it at the same moment.
        if (!points()) throw e;
      }
    }
  }
  return PulumiCommand.get({ root });
}

/**
 * Environment for an engine run whose backend and PULUMI_HOME live under
 * `dir`. The dynamic provider shim finds the dynamic provider's code through
 * `NODE_PATH`: the engine runs it in its work directory, which has no
 * `node_modules` when `hostnet` is run outside a checkout.
 */
export function engineEnv(dir: string, passphrase = process.env.PULUMI_CONFIG_PASSPHRASE ?? "hostnet", explicit?: string): Record<string, string> {
  fs.mkdirSync(path.join(dir, "backend"), { recursive: true });
  fs.mkdirSync(path.join(dir, "home"), { recursive: true });
  const choice = chooseEngine(explicit);
  const modules = sdkModulesDir();
  return {
    PULUMI_BACKEND_URL: process.env.HOSTNET_BACKEND_URL ?? `file://${path.resolve(dir, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_HOME: path.resolve(dir, "home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PATH: [path.dirname(choice.bin), path.dirname(process.execPath), process.env.PATH ?? ""].join(":"),
    NODE_PATH: [modules, process.env.NODE_PATH ?? ""].filter(Boolean).join(":"),
  };
}

/** The project settings (`Pulumi.yaml`) of an inline program. */
export interface InlineProjectSettings {
  name: string;
  runtime: "nodejs";
  /** Where the engine finds the dynamic provider shim when it is not next to the CLI (Pulumi's project plugins). */
  plugins?: { providers: { name: string; path: string }[] };
}

/**
 * The project settings of an inline program named `name`: when the chosen
 * CLI has no dynamic provider shim beside it (a CLI installed without it),
 * the project names the one in this package's `@pulumi/pulumi` as a project
 * plugin, so the engine neither looks on `PATH` nor warns about it.
 */
export function projectSettings(name: string, explicit?: string): InlineProjectSettings {
  const choice = chooseEngine(explicit);
  if (choice.shimBeside) return { name, runtime: "nodejs" };
  return { name, runtime: "nodejs", plugins: { providers: [{ name: "pulumi-nodejs", path: path.join(sdkModulesDir(), "@pulumi", "pulumi") }] } };
}

/** Where an Automation API program keeps its engine's state and files, and which Pulumi CLI it runs. */
export interface WorkspaceOptionsArgs {
  /** The project name (a spec's `name`, for instance). */
  readonly project: string;
  /** Folder for the work dir, the local file backend and PULUMI_HOME (default `./.hostnet`). */
  readonly dir?: string;
  /** The secrets passphrase (default `$PULUMI_CONFIG_PASSPHRASE`, else `hostnet`). */
  readonly passphrase?: string;
  /** The Pulumi CLI binary or install prefix (default: as `hostnet` chooses it, {@link chooseEngine}). */
  readonly pulumi?: string;
}

/**
 * The options for `LocalWorkspace.createOrSelectStack` that run an inline
 * program with hostnet resources from any directory, as `hostnet` does: a
 * work dir, a local file backend and an isolated PULUMI_HOME under `dir`;
 * the Pulumi CLI {@link chooseEngine} finds; and the environment in which
 * the engine's dynamic provider finds this package's code (engineEnv).
 * Without them, the engine's default work dir (a temporary folder with no
 * `node_modules`) cannot load the dynamic provider.
 *
 * ```ts
 * const stack = await LocalWorkspace.createOrSelectStack(
 *   { stackName: "dev", projectName: "lab", program: async () => { new Topology("lab", { spec: loadSpec("network.yaml") }); } },
 *   await workspaceOptions({ project: "lab" }),
 * );
 * ```
 */
export async function workspaceOptions(args: WorkspaceOptionsArgs): Promise<{ workDir: string; pulumiCommand: PulumiCommand; envVars: Record<string, string>; projectSettings: InlineProjectSettings }> {
  const dir = path.resolve(args.dir ?? ".hostnet");
  const workDir = path.join(dir, "work");
  fs.mkdirSync(workDir, { recursive: true });
  return {
    workDir,
    pulumiCommand: await pulumiCommand(args.pulumi),
    envVars: engineEnv(dir, args.passphrase ?? process.env.PULUMI_CONFIG_PASSPHRASE ?? "hostnet", args.pulumi),
    projectSettings: projectSettings(args.project, args.pulumi),
  };
}

/** The engine's switch for writing the state only at the end of a run. */
const SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS";

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
