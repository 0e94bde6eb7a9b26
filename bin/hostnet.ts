/**
 * hostnet — apply a pulumi-hostnet spec file without writing a program.
 *
 *   hostnet validate|graph|preview|up|inspect|refresh|destroy FILE [options]
 *   hostnet --help | hostnet <command> --help | hostnet --version
 *
 * The command line is parsed in provider/cli/args.ts (options, help, exit
 * codes). The engine is the Pulumi CLI built by scripts/setup.sh (or
 * $HOSTNET_PULUMI_PREFIX).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { engineEnv, projectSettings, pulumiCommand, refreshWithoutCheckpoints } from "../provider/automation/engine";
import { guardedProgram } from "../provider/automation/engine-link";
import { ConnectionSpec, hostIdOf } from "../provider/host/connection";
import { StateEntry, inspect } from "../provider/inspect/read";
import { allInSync, formatReport } from "../provider/inspect/report";
import { ownerOf } from "../provider/resources/common/owner";
import { closeAllSsh, hostKeyMismatches } from "../provider/host/ssh";
import { plainConnectionOf, resolvedConnectionOf } from "../provider/topology/connections";
import { PREFLIGHT_ENV } from "../provider/resources/common/preflight";
import { loadSpec } from "../provider/spec/load";
import { SpecError, formatProblem } from "../provider/spec/errors";
import { LoadedSpec, Spec } from "../provider/spec/types";
import { Topology } from "../provider/topology/topology";
import { toDot, toMermaid } from "../provider/topology/graph";
import { CliOptions, CommandName, EXIT, UsageError, helpText, parseCli } from "../provider/cli/args";
import { engineErrors, failureMessage } from "../provider/cli/failure";
import { engineOutputFilter } from "../provider/cli/progress";
import { PreviewStep, changeSummary, changesOf, previewMarkdown } from "../provider/cli/markdown";
import { StateResource, removedFromSpec, urnName } from "../provider/cli/removed";
import { hostTargets } from "../provider/cli/targets";
import { watchedHosts } from "../provider/cli/watch";
import { watch } from "./watch";
import { planTopology, resourceNamesOf } from "../provider/topology/plan";

type Options = CliOptions & { readonly command: CommandName; readonly file: string };

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

/** The state backend: --backend, else a local file backend in ./.hostnet/state. */
const backendOf = (o: Options) => o.backend ?? `file://${path.join(path.resolve(".hostnet"), "state")}`;

/** Which containers the spec names on each host (by host identity), as JSON: the provider's checks and reads take them all in one go (preflight.ts). */
function containersHint(o: Options, loaded: LoadedSpec): string {
  const hint: Record<string, string[]> = {};
  for (const c of loaded.spec.containers ?? []) {
    const h = loaded.spec.hosts[c.host];
    if (h) (hint[hostIdOf(plainConnectionOf(h, path.dirname(path.resolve(o.file))))] ??= []).push(c.name);
  }
  return JSON.stringify(hint);
}

/** The spec's host entries this run is about: those named by --host, else all. */
const selectedHosts = (o: Options, s: Spec) => Object.entries(s.hosts).filter(([name]) => !o.hosts || o.hosts.includes(name));

/** The Pulumi project and stack of a spec: its name, unless --project/--stack say otherwise. */
const stackNames = (o: Options, loaded: LoadedSpec) => ({ projectName: o.project ?? loaded.spec.name, stackName: o.stack ?? loaded.spec.name });

async function openStack(o: Options, loaded: LoadedSpec): Promise<Stack> {
  const base = path.resolve(".hostnet");
  const workDir = path.resolve(o.workDir ?? path.join(base, "work"));
  fs.mkdirSync(workDir, { recursive: true });
  const env = engineEnv(base, passphrase(base), o.pulumi);
  const backend = backendOf(o);
  if (backend.startsWith("file://")) fs.mkdirSync(backend.slice("file://".length), { recursive: true });
  env.PULUMI_BACKEND_URL = backend;
  env[PREFLIGHT_ENV] = containersHint(o, loaded);
  const { projectName, stackName } = stackNames(o, loaded);
  if (o.project === undefined && o.stack === undefined) refuseLegacyState(backend, o.file, projectName, stackName);
  return LocalWorkspace.createOrSelectStack(
    {
      stackName,
      projectName,
      program: guardedProgram(async () => {
        const t = new Topology("topology", { spec: loaded });
        return { inventory: t.inventory };
      }),
    },
    { workDir, pulumiCommand: await pulumiCommand(o.pulumi), envVars: env, projectSettings: projectSettings(projectName, o.pulumi) },
  );
}

/**
 * hostnet 0.1 named the project after the spec's file (`hostnet-network`)
 * and the stack `dev`. A spec now names both; state left by 0.1 in this
 * backend is not picked up silently under the new names (its objects carry
 * the old stack's ownership mark, so a new stack would refuse them or make
 * them twice): this says how to keep managing it.
 */
function refuseLegacyState(backend: string, file: string, project: string, stack: string): void {
  if (!backend.startsWith("file://")) return;
  const stacks = path.join(backend.slice("file://".length), ".pulumi", "stacks");
  const legacy = `hostnet-${path.basename(file).replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_.-]/g, "-")}`;
  const has = (p: string, s: string) => fs.existsSync(path.join(stacks, p, `${s}.json`));
  if (legacy === project || !has(legacy, "dev") || has(project, stack)) return;
  throw new Error(
    `this directory's state has the stack ${legacy}/dev, which hostnet 0.1 made from ${path.basename(file)} (before specs had a name); ` +
      `its objects carry that stack's mark. To keep managing them, run with --project ${legacy} --stack dev ` +
      `(or destroy them with those options, then use the name ${JSON.stringify(project)})`,
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

/** The engine's colour: on a terminal unless NO_COLOR is set (https://no-color.org) or the output is JSON. */
const color = (o: Options): "always" | "never" => (!o.json && process.stdout.isTTY && !process.env.NO_COLOR ? "always" : "never");

/**
 * Runs an engine call with its progress streamed to stdout (unless the output
 * is JSON: then the result alone goes there), each error said once: the
 * filter (progress.ts) leaves them to the summary a failed run ends with.
 */
async function streamed<T>(o: Options, call: (onOutput: ((x: string) => void) | undefined) => Promise<T>): Promise<T> {
  if (o.json) return call(undefined);
  const filter = engineOutputFilter((x) => process.stdout.write(x));
  try {
    return await call((x) => filter.push(x));
  } finally {
    filter.end();
  }
}

/** Resource steps of a preview or an update, as the engine reported them. */
function stepRecorder(steps: PreviewStep[]) {
  return (e: EngineEvent) => {
    const m = e.resourcePreEvent?.metadata;
    if (!m) return;
    const diffs = m.diffs?.length ? m.diffs : changedInputs(m.old?.inputs, m.new?.inputs);
    const values = m.old?.inputs && m.new?.inputs ? Object.fromEntries(diffs.map((f) => [f, { old: m.old?.inputs?.[f], new: m.new?.inputs?.[f] }])) : undefined;
    // A create's or a delete's inputs, without credentials: what pairs a moved port's delete with its create (markdown.ts).
    const side = m.op === "create" ? m.new?.inputs : m.op === "delete" ? m.old?.inputs : undefined;
    const inputs = side ? Object.fromEntries(Object.entries(side).filter(([k]) => k !== "connection" && k !== "__provider")) : undefined;
    steps.push({ op: m.op, name: m.urn.split("::").at(-1) ?? m.urn, type: m.type, diffs, ...(values ? { values } : {}), ...(inputs ? { inputs } : {}) });
  };
}

async function preview(stack: Stack, loaded: LoadedSpec, o: Options, targeted?: { target: string[]; targetDependents: true }, refresh = false): Promise<PreviewStep[]> {
  const steps: PreviewStep[] = [];
  const writeMarkdown = (error?: string) => o.markdown && fs.writeFileSync(o.markdown, previewMarkdown(o.file, loaded.spec, steps, error, { stack: stack.name, backend: backendOf(o) }));
  try {
    await streamed(o, (onOutput) => stack.preview({ color: color(o), parallel: engineParallel(loaded.spec, o.parallel), onOutput, onEvent: stepRecorder(steps), refresh, ...targeted }));
  } catch (e) {
    // The pull request comment says why the preview failed.
    const message = e instanceof Error ? e.message : String(e);
    writeMarkdown(failureMessage("preview", engineErrors(message)) ?? message);
    throw e;
  }
  if (!o.json) process.stdout.write(changeSummary(changesOf(steps)));
  writeMarkdown();
  if (o.markdown && !o.json) console.log(`wrote ${o.markdown}`);
  return steps;
}

/** Counts of a spec's parts (validate's summary). */
function specCounts(s: Spec) {
  return { hosts: Object.keys(s.hosts).length, bridges: (s.bridges ?? []).length, containers: (s.containers ?? []).length, links: (s.links ?? []).length, natRules: (s.nat?.masquerade ?? []).length + (s.nat?.publish ?? []).length, overlays: (s.overlays ?? []).length };
}

/** Prints the result of a command: JSON on stdout with --json, else the human line(s). */
function result(o: Options, json: Record<string, unknown>, human?: string): void {
  if (o.json) process.stdout.write(JSON.stringify({ command: o.command, file: o.file, ...json }, null, 2) + "\n");
  else if (human !== undefined) console.log(human);
}

async function run(o: Options): Promise<number> {
  let loaded: LoadedSpec;
  try {
    loaded = loadSpec(o.file);
  } catch (e) {
    if (e instanceof SpecError) {
      if (o.json) result(o, { ok: false, problems: e.problems });
      else for (const p of e.problems) console.error(formatProblem(p));
      console.error(`${o.file}: ${e.problems.length} problem(s); nothing was applied`);
      return EXIT.failure;
    }
    throw e;
  }
  const s = loaded.spec;
  if (o.command === "validate") {
    const c = specCounts(s);
    result(o, { ok: true, ...c }, `${o.file}: valid — ${c.hosts} host(s), ${c.bridges} bridge(s), ${c.containers} container(s), ${c.links} link(s), ${c.natRules} NAT rule(s)${c.overlays ? `, ${c.overlays} overlay(s)` : ""}`);
    return EXIT.ok;
  }
  if (o.command === "graph") {
    const text = o.format === "dot" ? toDot(s) : toMermaid(s);
    if (o.json) result(o, { ok: true, format: o.format, graph: text });
    else process.stdout.write(text);
    return EXIT.ok;
  }
  const unknown = (o.hosts ?? []).filter((h) => !(h in s.hosts));
  if (unknown.length > 0) {
    console.error(`hostnet: --host ${unknown.join(", ")}: not a host of ${o.file} (its hosts: ${Object.keys(s.hosts).join(", ")})`);
    return EXIT.usage;
  }
  // A host that does not offer its pinned key stops the run before the engine starts: one message, no login anywhere.
  const mismatched = await hostKeyMismatches(selectedHosts(o, s).map(([, h]) => plainConnectionOf(h, path.dirname(path.resolve(o.file)))));
  if (mismatched.length > 0) {
    if (o.json) result(o, { ok: false, errors: mismatched.map((e) => e.message) });
    console.error(`hostnet: ${o.command} stopped before running anything: ${mismatched.length} host(s) of ${o.file} did not offer the pinned key:\n${mismatched.map((e) => `  ${e.message}`).join("\n")}`);
    return EXIT.failure;
  }
  const stack = await openStack(o, loaded);
  const parallel = engineParallel(s, o.parallel);
  const stateOf = async () => ((await stack.exportStack()).deployment?.resources ?? []) as StateResource[];
  /** With --host: the engine's targets (with their dependents) for this command; undefined for the whole spec. */
  const targetsIn = (state: readonly StateResource[], destroy = false): { target: string[]; targetDependents: true } | undefined =>
    o.hosts ? { target: hostTargets(o.hosts, planTopology(s), state, Object.keys(s.hosts), destroy), targetDependents: true } : undefined;
  const targets = async (destroy = false) => (o.hosts ? targetsIn(await stateOf(), destroy) : undefined);
  if (o.command === "preview") {
    const changes = changesOf(await preview(stack, loaded, o, await targets()));
    result(o, { ok: true, stack: stack.name, changes });
    if (o.expectNoChanges && changes.length > 0) {
      console.error(`hostnet: ${changes.length} change(s) found (--expect-no-changes): ${changes.map((c) => `${c.op} ${c.name}`).join(", ")}`);
      return EXIT.changes;
    }
    return EXIT.ok;
  }
  if (o.command === "up") {
    const state = await stateOf();
    const targeted = targetsIn(state);
    // By default the hosts are read first (refresh), so that what changed on them (a restarted container, an edit by hand) is repaired too.
    if (!o.yes) await preview(stack, loaded, o, targeted, o.refresh);
    if (!(await confirm(o, "apply these changes"))) return EXIT.failure;
    // Hosts are independent: by default carry on with the other hosts when one fails, so none is left half-done by an early stop.
    const steps: PreviewStep[] = [];
    // What left the spec is deleted only after everything else applied: with continue-on-error the engine would
    // otherwise delete it even when its successor (a renamed bridge, a moved port) failed, and the host would lose what worked.
    const removed = removedFromSpec(state, resourceNamesOf(planTopology(s))).filter((urn) => !targeted || targeted.target.includes(urn));
    if (removed.length > 0) {
      if (!o.json) console.log(`hostnet: ${removed.length} resource(s) left the spec (${removed.map(urnName).join(", ")}); applying the rest first, and deleting them only if that succeeds`);
      try {
        const first = targeted ? { ...targeted, target: targeted.target.filter((t) => !removed.includes(t)) } : { exclude: removed };
        await streamed(o, (onOutput) => stack.up({ color: color(o), onOutput, onEvent: stepRecorder(steps), continueOnError: o.continueOnError, ...first, parallel, refresh: o.refresh }));
      } catch (e) {
        console.error(`hostnet: kept ${removed.map(urnName).join(", ")} on their hosts because applying the rest of the spec failed; the next up that succeeds deletes them`);
        throw e;
      }
    }
    const res = await streamed(o, (onOutput) => stack.up({ color: color(o), onOutput, onEvent: stepRecorder(steps), continueOnError: o.continueOnError, parallel, ...targeted, refresh: o.refresh && removed.length === 0 }));
    const inventory = res.outputs.inventory?.value ?? {};
    result(o, { ok: true, stack: stack.name, resourceChanges: res.summary.resourceChanges ?? {}, changes: changesOf(steps), inventory }, `\ninventory: ${JSON.stringify(inventory, null, 2)}`);
    return EXIT.ok;
  }
  if (o.command === "inspect") return inspectCommand(o, loaded, stack, await stateOf());
  if (o.command === "watch") return watchCommand(o, loaded, stack);
  if (o.command === "refresh") {
    const targeted = await targets();
    const res = await refreshWithoutCheckpoints(stack, () => streamed(o, (onOutput) => stack.refresh({ color: color(o), onOutput, parallel, ...(targeted ? { target: targeted.target } : {}) })));
    result(o, { ok: true, stack: stack.name, resourceChanges: res.summary.resourceChanges ?? {} });
    return EXIT.ok;
  }
  if (!(await confirm(o, "destroy everything in this spec"))) return EXIT.failure;
  const targeted = await targets(true);
  const res = await streamed(o, (onOutput) => stack.destroy({ color: color(o), onOutput, continueOnError: o.continueOnError, parallel, ...targeted }));
  result(o, { ok: true, stack: stack.name, resourceChanges: res.summary.resourceChanges ?? {} });
  return EXIT.ok;
}

/** The connections of these hosts of the spec, their key material resolved (files, environment, the stack's decrypted config). */
async function connectionsOf(o: Options, s: Spec, stack: Stack, names: readonly string[]): Promise<Record<string, ConnectionSpec>> {
  const specDir = path.dirname(path.resolve(o.file));
  const connections: Record<string, ConnectionSpec> = {};
  for (const name of names) connections[name] = await resolvedConnectionOf(name, s.hosts[name], specDir, async (key) => (await stack.getConfig(`hostnet:${key}`)).value);
  return connections;
}

/** `hostnet watch`: follows each host's Docker events and re-applies a container that (re)started (bin/watch.ts). */
async function watchCommand(o: Options, loaded: LoadedSpec, stack: Stack): Promise<number> {
  const s = loaded.spec;
  const hosts = watchedHosts(s, planTopology(s), o.hosts);
  if (hosts.length === 0) {
    console.error(`hostnet: ${o.file} names no Docker container${o.hosts ? ` on ${o.hosts.join(", ")}` : ""}: nothing to watch`);
    return EXIT.failure;
  }
  const connections = await connectionsOf(o, s, stack, hosts.map((h) => h.host));
  process.env[PREFLIGHT_ENV] = containersHint(o, loaded);
  const stopRequested = new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await watch({
    stack,
    hosts,
    connections,
    debounceMs: o.debounceMs,
    stopRequested,
    up: async (names) => {
      const res = await streamed(o, (onOutput) => stack.up({ color: color(o), onOutput, target: names.map((n) => `**::${n}`), refresh: true, parallel: engineParallel(s, o.parallel) }));
      return Object.entries(res.summary.resourceChanges ?? {}).map(([op, n]) => `${op} ${n}`).join(", ");
    },
  });
  return EXIT.ok;
}

/** `hostnet inspect`: reads every host (read-only, in this process) and prints where each object of the spec stands. */
async function inspectCommand(o: Options, loaded: LoadedSpec, stack: Stack, state: readonly StateResource[]): Promise<number> {
  const s = loaded.spec;
  const { projectName, stackName } = stackNames(o, loaded);
  const connections = await connectionsOf(o, s, stack, selectedHosts(o, s).map(([name]) => name));
  process.env[PREFLIGHT_ENV] = containersHint(o, loaded);
  let report;
  try {
    report = await inspect({ stack: `${projectName}/${stackName}`, owner: ownerOf(`${projectName}/${stackName}`), plans: planTopology(s), state: state as StateEntry[], connections, ...(o.hosts ? { hosts: o.hosts } : {}) });
  } finally {
    closeAllSsh();
  }
  if (o.json || o.format === "json") process.stdout.write(JSON.stringify({ command: o.command, file: o.file, ok: true, ...report, inSync: allInSync(report) }, null, 2) + "\n");
  else process.stdout.write(formatReport(report));
  if (o.expectNoChanges && !allInSync(report)) {
    console.error(`hostnet: ${o.file}: not everything is in sync (--expect-no-changes)`);
    return EXIT.changes;
  }
  return EXIT.ok;
}

/** The package's version (package.json two levels above dist/bin). */
export function version(): string {
  for (const p of [path.join(__dirname, "..", "..", "package.json"), path.join(__dirname, "..", "package.json")]) {
    if (fs.existsSync(p)) return (JSON.parse(fs.readFileSync(p, "utf8")) as { version: string }).version;
  }
  return "unknown";
}

/** Runs `hostnet` with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let req;
  try {
    req = parseCli(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`hostnet: ${e.message}\n\n${helpText(e.command)}`);
    return EXIT.usage;
  }
  if (req.kind === "help") {
    process.stdout.write(req.text);
    return EXIT.ok;
  }
  if (req.kind === "version") {
    console.log(`hostnet ${version()}`);
    return EXIT.ok;
  }
  const o: Options = { ...req.options, command: req.command, file: req.file };
  try {
    return await run(o);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // A failed engine run: its output was streamed already (or, with --json, goes into the result as its errors); say each resource's error once.
    const errors = engineErrors(message);
    if (o.json) result(o, errors.length > 0 ? { ok: false, errors } : { ok: false, error: message });
    console.error(`hostnet: ${o.debug && e instanceof Error && e.stack ? e.stack : (failureMessage(o.command, errors) ?? message)}`);
    return EXIT.failure;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`hostnet: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = EXIT.failure;
    },
  );
}
