/**
 * hostnet — apply a pulumi-hostnet spec file without writing a program.
 *
 *   hostnet validate FILE
 *   hostnet graph FILE [--format mermaid|dot]
 *   hostnet preview FILE [--markdown OUT.md]
 *   hostnet up FILE [--yes]
 *   hostnet refresh FILE [--yes]
 *   hostnet destroy FILE [--yes]
 *
 * Options: --stack NAME (default dev), --project NAME (default hostnet-<file>),
 * --backend URL (default file://./.hostnet/state), --work-dir DIR.
 * The engine is the Pulumi CLI built by scripts/setup.sh (or $HOSTNET_PULUMI_PREFIX).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { engineEnv, pulumiCommand } from "../provider/automation/engine";
import { guardedProgram } from "../provider/automation/engine-link";
import { ConnectionSpec, hostIdOf } from "../provider/host/connection";
import { PREFLIGHT_ENV } from "../provider/resources/common/preflight";
import { loadSpec } from "../provider/spec/load";
import { SpecError, formatProblem } from "../provider/spec/errors";
import { LoadedSpec, Spec } from "../provider/spec/types";
import { Topology } from "../provider/topology/topology";
import { toDot, toMermaid } from "../provider/topology/graph";
import { PreviewStep, previewMarkdown } from "../provider/cli/markdown";
import { StateResource, removedFromSpec, urnName } from "../provider/cli/removed";
import { planTopology, resourceNamesOf } from "../provider/topology/plan";

interface Options {
  command: string;
  file: string;
  yes: boolean;
  format: string;
  markdown?: string;
  stack: string;
  project?: string;
  backend?: string;
  workDir?: string;
  /** Resource operations the engine runs at once (`--parallel`); default from the spec ({@link engineParallel}). */
  parallel?: number;
}

const USAGE = "usage: hostnet <validate|graph|preview|up|refresh|destroy> FILE [--yes] [--format mermaid|dot] [--markdown OUT] [--stack NAME] [--project NAME] [--backend URL] [--work-dir DIR] [--parallel N]";

function parseArgs(argv: string[]): Options {
  const o: Options = { command: argv[0] ?? "", file: "", yes: false, format: "mermaid", stack: "dev" };
  const rest = argv.slice(1);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--yes" || a === "-y") o.yes = true;
    else if (a === "--format") o.format = value();
    else if (a === "--markdown") o.markdown = value();
    else if (a === "--stack") o.stack = value();
    else if (a === "--project") o.project = value();
    else if (a === "--backend") o.backend = value();
    else if (a === "--work-dir") o.workDir = value();
    else if (a === "--parallel") {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`--parallel needs a whole number >= 1\n${USAGE}`);
      o.parallel = n;
    }
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}\n${USAGE}`);
    else if (!o.file) o.file = a;
    else throw new Error(`unexpected argument ${a}\n${USAGE}`);
  }
  if (!["validate", "graph", "preview", "up", "refresh", "destroy"].includes(o.command) || !o.file) throw new Error(USAGE);
  return o;
}

/**
 * How many resource operations the engine runs at once: 8 per host of the
 * spec (each host runs at most 8 mutations side by side anyway, see
 * HOSTNET_PARALLEL), at least the engine's own default of 8 and at most 64, so
 * hosts proceed in parallel instead of queueing behind the engine's default.
 */
export function engineParallel(spec: Spec, given?: number): number {
  return given ?? Math.min(64, Math.max(8, 8 * Object.keys(spec.hosts).length));
}

/** The passphrase for secrets in the local state: $PULUMI_CONFIG_PASSPHRASE, else a random one kept (0600) next to the state. */
function passphrase(stateDir: string): string {
  if (process.env.PULUMI_CONFIG_PASSPHRASE !== undefined) return process.env.PULUMI_CONFIG_PASSPHRASE;
  const file = path.join(stateDir, "passphrase");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(24).toString("base64"), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8");
}

async function openStack(o: Options, loaded: LoadedSpec): Promise<Stack> {
  const base = path.resolve(".hostnet");
  const workDir = path.resolve(o.workDir ?? path.join(base, "work"));
  fs.mkdirSync(workDir, { recursive: true });
  const env = engineEnv(base, passphrase(base));
  const backend = o.backend ?? `file://${path.join(base, "state")}`;
  if (backend.startsWith("file://")) fs.mkdirSync(backend.slice("file://".length), { recursive: true });
  env.PULUMI_BACKEND_URL = backend;
  // Which containers the spec names on each host: the provider's checks read them all in one go (preflight.ts).
  const hint: Record<string, string[]> = {};
  for (const c of loaded.spec.containers ?? []) {
    const h = loaded.spec.hosts[c.host];
    if (h) (hint[hostIdOf({ host: h.host, port: h.port, local: h.local, netns: h.netns } as ConnectionSpec)] ??= []).push(c.name);
  }
  env[PREFLIGHT_ENV] = JSON.stringify(hint);
  const projectName = o.project ?? `hostnet-${path.basename(o.file).replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_.-]/g, "-")}`;
  return LocalWorkspace.createOrSelectStack(
    {
      stackName: o.stack,
      projectName,
      program: guardedProgram(async () => {
        const t = new Topology("topology", { spec: loaded });
        return { inventory: t.inventory };
      }),
    },
    { workDir, pulumiCommand: await pulumiCommand(), envVars: env, projectSettings: { name: projectName, runtime: "nodejs" } },
  );
}

async function confirm(o: Options, what: string): Promise<boolean> {
  if (o.yes) return true;
  if (!process.stdin.isTTY) throw new Error(`${what} needs confirmation: pass --yes for non-interactive runs`);
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`Do you want to ${what}? [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** Top-level inputs that differ (dynamic providers cannot report a detailed diff, so the summary computes it). */
function changedInputs(olds: Record<string, unknown> | undefined, news: Record<string, unknown> | undefined): string[] {
  if (!olds || !news) return [];
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => k !== "__provider" && JSON.stringify(olds[k]) !== JSON.stringify(news[k])).sort();
}

async function preview(stack: Stack, loaded: LoadedSpec, o: Options): Promise<void> {
  const steps: PreviewStep[] = [];
  await stack.preview({
    color: "never",
    parallel: engineParallel(loaded.spec, o.parallel),
    onOutput: (s) => process.stdout.write(s),
    onEvent: (e) => {
      const m = e.resourcePreEvent?.metadata;
      if (m) steps.push({ op: m.op, name: m.urn.split("::").at(-1) ?? m.urn, type: m.type, diffs: m.diffs?.length ? m.diffs : changedInputs(m.old?.inputs, m.new?.inputs) });
    },
  });
  if (o.markdown) {
    fs.writeFileSync(o.markdown, previewMarkdown(o.file, loaded.spec, steps));
    console.log(`wrote ${o.markdown}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  let loaded: LoadedSpec;
  try {
    loaded = loadSpec(o.file);
  } catch (e) {
    if (e instanceof SpecError) {
      for (const p of e.problems) console.error(formatProblem(p));
      console.error(`${o.file}: ${e.problems.length} problem(s); nothing was applied`);
      return 1;
    }
    throw e;
  }
  const s = loaded.spec;
  if (o.command === "validate") {
    console.log(`${o.file}: valid — ${Object.keys(s.hosts).length} host(s), ${(s.bridges ?? []).length} bridge(s), ${(s.containers ?? []).length} container(s), ${(s.links ?? []).length} link(s), ${(s.nat?.masquerade ?? []).length + (s.nat?.publish ?? []).length} NAT rule(s)`);
    return 0;
  }
  if (o.command === "graph") {
    if (o.format !== "mermaid" && o.format !== "dot") throw new Error(`--format must be mermaid or dot, got ${o.format}`);
    process.stdout.write(o.format === "dot" ? toDot(s) : toMermaid(s));
    return 0;
  }
  const stack = await openStack(o, loaded);
  const parallel = engineParallel(s, o.parallel);
  if (o.command === "preview") {
    await preview(stack, loaded, o);
    return 0;
  }
  if (o.command === "up") {
    if (!o.yes) await preview(stack, loaded, o);
    if (!(await confirm(o, "apply these changes"))) return 1;
    // Hosts are independent: carry on with the other hosts when one fails, so none is left half-done by an early stop.
    const onOutput = (x: string) => process.stdout.write(x);
    // What left the spec is deleted only after everything else applied: with continue-on-error the engine would
    // otherwise delete it even when its successor (a renamed bridge, a moved port) failed, and the host would lose what worked.
    const state = ((await stack.exportStack()).deployment?.resources ?? []) as StateResource[];
    const removed = removedFromSpec(state, resourceNamesOf(planTopology(s)));
    if (removed.length > 0) {
      console.log(`hostnet: ${removed.length} resource(s) left the spec (${removed.map(urnName).join(", ")}); applying the rest first, and deleting them only if that succeeds`);
      try {
        await stack.up({ color: "never", onOutput, continueOnError: true, exclude: removed, parallel });
      } catch (e) {
        console.error(`hostnet: kept ${removed.map(urnName).join(", ")} on their hosts because applying the rest of the spec failed; the next up that succeeds deletes them`);
        throw e;
      }
    }
    const res = await stack.up({ color: "never", onOutput, continueOnError: true, parallel });
    console.log(`\ninventory: ${JSON.stringify(res.outputs.inventory?.value ?? {}, null, 2)}`);
    return 0;
  }
  if (o.command === "refresh") {
    await stack.refresh({ color: "never", onOutput: (x) => process.stdout.write(x), parallel });
    return 0;
  }
  if (!(await confirm(o, "destroy everything in this spec"))) return 1;
  await stack.destroy({ color: "never", onOutput: (x) => process.stdout.write(x), continueOnError: true, parallel });
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`hostnet: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
