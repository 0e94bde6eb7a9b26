/** A pull-request summary of a preview: per host, a table of changes with the changed fields, and the resulting topology. Pure. */
import { Spec } from "../spec/types";
import { graphChangeOf, hostOfName, toMermaid } from "../topology/graph";

/** One resource step of a preview, as the engine reports it. */
export interface PreviewStep {
  /** `create`, `update`, `replace`, `delete`, `same`, … */
  op: string;
  /** Logical name, e.g. `node1.bridge.mybr0`. */
  name: string;
  /** Resource type, e.g. `pulumi-nodejs:dynamic/hostnet:Bridge`. */
  type: string;
  /** Changed input fields. */
  diffs: string[];
  /** Each changed field's value before and after (absent when the engine did not report inputs, e.g. a create). */
  values?: Record<string, { old: unknown; new: unknown }>;
  /** A create's new inputs or a delete's old ones (credentials left out): what pairs a moved port's delete with its create. */
  inputs?: Record<string, unknown>;
  /** For a published port moved to another host port: the name of the rule it replaces. */
  was?: string;
}

/** Fields whose values are never shown (credentials). */
const HIDDEN = new Set(["connection"]);
/** Pulumi's marker of a secret value in engine events and state. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A value as a reviewer reads it: lists joined, secrets and credentials hidden. */
export function showValue(field: string, v: unknown): string {
  if (HIDDEN.has(field)) return "(credentials)";
  if (v === undefined || v === null) return "—";
  if (typeof v === "string") return v === "[secret]" ? "[secret]" : v;
  if (typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] !== undefined) return "[secret]";
  if (Array.isArray(v)) return v.length === 0 ? "[]" : v.map((x) => showValue(field, x)).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** `field: old → new` for each changed field (the field name alone when its values are not known). */
export function changedFields(s: PreviewStep): string[] {
  return s.diffs.map((f) => {
    const v = s.values?.[f];
    return v ? `${f}: ${showValue(f, v.old)} → ${showValue(f, v.new)}` : f;
  });
}

/**
 * The changes of a preview for the terminal, after the engine's own output:
 * deletes and replacements first (marked ⚠), then the rest, each with its
 * changed fields as old → new. Empty when nothing changes.
 */
export function changeSummary(changes: readonly PreviewStep[]): string {
  if (changes.length === 0) return "";
  const ordered = [...changes.filter(isRisky), ...changes.filter((s) => !isRisky(s))];
  const lines = ordered.map((s) => `  ${isRisky(s) ? "⚠ " : ""}${s.op} ${s.name} (${kindOf(s.type)})${fieldsSuffix(s)}`);
  return ["", "Changes:", ...lines, ""].join("\n");
}

/** A step that removes something from a host (listed first, marked ⚠). */
const isRisky = (s: PreviewStep) => s.op === "delete" || s.op === "replace";

/** `: field: old → new; …`, or nothing when no field changed. */
const fieldsSuffix = (s: PreviewStep) => (s.diffs.length ? `: ${changedFields(s).join("; ")}` : "");

/**
 * The steps of the spec's own resources (not the stack or the Topology
 * component); a replacement, which the engine reports as create-replacement +
 * replace + delete-replaced, is its one `replace` step.
 */
export function ownSteps(steps: readonly PreviewStep[]): PreviewStep[] {
  return pairMovedPorts(steps.filter((s) => s.type.includes("hostnet:") && !s.type.endsWith("Topology") && s.op !== "create-replacement" && s.op !== "delete-replaced"));
}

/** Inputs that are not the rule itself. */
const NOT_COMPARED = new Set(["connection", "__provider", "blockedBy"]);

/**
 * A published port moved to another host port is, to the engine, the delete
 * of one rule (`h.publish.web.tcp.8080`) and the create of another
 * (`…tcp.8081`): its name holds the port. Here such a pair (same host,
 * container and protocol, both with their inputs) is the one `replace` it
 * is, with each field that differs as old → new (`hostPort: 8080 → 8081`).
 */
export function pairMovedPorts(steps: readonly PreviewStep[]): PreviewStep[] {
  const stem = (s: PreviewStep) => (s.type.endsWith(":NatRule") && /\.publish\./.test(s.name) && s.inputs ? s.name.slice(0, s.name.lastIndexOf(".")) : undefined);
  const deletes = new Map<string, PreviewStep[]>();
  for (const s of steps) {
    const k = s.op === "delete" ? stem(s) : undefined;
    if (k) deletes.set(k, [...(deletes.get(k) ?? []), s]);
  }
  const paired = new Set<PreviewStep>();
  const out: PreviewStep[] = [];
  for (const s of steps) {
    const k = s.op === "create" ? stem(s) : undefined;
    const gone = k ? deletes.get(k)?.find((d) => !paired.has(d)) : undefined;
    if (!gone || !gone.inputs || !s.inputs) {
      out.push(s);
      continue;
    }
    paired.add(gone);
    const [before, after] = [gone.inputs, s.inputs];
    const diffs = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => !NOT_COMPARED.has(f) && JSON.stringify(before[f]) !== JSON.stringify(after[f])).sort();
    out.push({ op: "replace", name: s.name, type: s.type, diffs, values: Object.fromEntries(diffs.map((f) => [f, { old: before[f], new: after[f] }])), was: gone.name });
  }
  return out.filter((s) => !paired.has(s));
}

/** The own steps that change something (neither `same` nor `read`). */
export function changesOf(steps: readonly PreviewStep[]): PreviewStep[] {
  // `refresh` steps are up's reading of the hosts first (they change nothing themselves).
  return ownSteps(steps).filter((s) => s.op !== "same" && s.op !== "read" && s.op !== "refresh");
}

/** Markdown table cell text (pipes and line breaks escaped). */
const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");

const kindOf = (type: string) => type.split(":").at(-1) ?? type;

/** Where a preview ran: the stack and the state backend. */
export interface PreviewContext {
  readonly stack?: string;
  readonly backend?: string;
}

/** Renders the summary; with `error`, the preview failed: the comment says so first, with the error. */
export function previewMarkdown(specFile: string, spec: Spec, steps: readonly PreviewStep[], error?: string, context: PreviewContext = {}): string {
  const hosts = Object.keys(spec.hosts);
  const out: string[] = [`## hostnet preview: \`${specFile}\``, ""];
  const where = [context.stack ? `stack \`${context.stack}\`` : "", context.backend ? `backend \`${context.backend}\`` : ""].filter(Boolean);
  if (where.length > 0) out.push(`Spec \`${specFile}\`, ${where.join(", ")}.`, "");
  if (error !== undefined) out.push("**The preview failed**; what it showed before the failure is below.", "", "~~~", error.trimEnd().replace(/~~~/g, "~ ~ ~"), "~~~", "");
  const mine = ownSteps(steps);
  const counts = (list: readonly PreviewStep[]) => {
    const c: Record<string, number> = {};
    for (const s of list) c[s.op] = (c[s.op] ?? 0) + 1;
    return Object.entries(c).map(([k, v]) => `${v} ${k}`).join(", ") || "no resources";
  };
  out.push(`Total: ${counts(mine)}.`, "");
  // What removes something from a host comes first, so a reviewer cannot miss it.
  const risky = mine.filter(isRisky);
  if (risky.length > 0) {
    out.push(`### ⚠ ${risky.length} delete(s) and replacement(s)`, "");
    for (const s of risky) out.push(`- **${s.op}** \`${s.name}\` (${kindOf(s.type)})${fieldsSuffix(s)}`);
    out.push("");
  }
  for (const h of [...hosts, "(other)"]) {
    const list = mine.filter((s) => hostOfName(s.name, hosts) === h);
    if (list.length === 0) continue;
    const changes = list.filter((s) => s.op !== "same");
    out.push(`### host \`${h}\` — ${counts(list)}`, "");
    if (changes.length === 0) {
      out.push("No changes.", "");
      continue;
    }
    out.push("| change | resource | kind | changed fields |", "|---|---|---|---|");
    for (const s of changes) out.push(`| ${isRisky(s) ? `⚠ ${s.op}` : s.op} | \`${s.name}\` | ${kindOf(s.type)} | ${s.diffs.length ? cell(changedFields(s).join("; ")) : "—"} |`);
    out.push("");
  }
  // The picture marks what this preview adds, changes and removes.
  const drawn = new Map(mine.flatMap((s) => {
    const c = graphChangeOf(s.op);
    return c ? [[s.name, c] as const] : [];
  }));
  out.push("### Resulting topology", "", "_Added in green, changed in amber, removed dashed red._", "", "```mermaid", toMermaid(spec, drawn).trimEnd(), "```", "");
  return out.join("\n");
}
