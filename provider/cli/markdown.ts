/** A pull-request summary of a preview: per host, a table of changes with the changed fields, and the resulting topology. Pure. */
import { Spec } from "../spec/types";
import { toMermaid } from "../topology/graph";

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
}

const kindOf = (type: string) => type.split(":").at(-1) ?? type;

/** The host a resource belongs to (names start with `host.`). */
export function hostOfName(name: string, hosts: readonly string[]): string {
  return [...hosts].sort((a, b) => b.length - a.length).find((h) => name.startsWith(`${h}.`)) ?? "(other)";
}

/** Renders the summary; with `error`, the preview failed: the comment says so first, with the error. */
export function previewMarkdown(specFile: string, spec: Spec, steps: readonly PreviewStep[], error?: string): string {
  const hosts = Object.keys(spec.hosts);
  const out: string[] = [`## hostnet preview: \`${specFile}\``, ""];
  if (error !== undefined) out.push("**The preview failed**; what it showed before the failure is below.", "", "~~~", error.trimEnd().replace(/~~~/g, "~ ~ ~"), "~~~", "");
  // A replacement shows as create-replacement + replace + delete-replaced; the summary keeps the one `replace` row.
  const mine = steps.filter((s) => s.type.includes("hostnet:") && !s.type.endsWith("Topology") && s.op !== "create-replacement" && s.op !== "delete-replaced");
  const counts = (list: readonly PreviewStep[]) => {
    const c: Record<string, number> = {};
    for (const s of list) c[s.op] = (c[s.op] ?? 0) + 1;
    return Object.entries(c).map(([k, v]) => `${v} ${k}`).join(", ") || "no resources";
  };
  out.push(`Total: ${counts(mine)}.`, "");
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
    for (const s of changes) out.push(`| ${s.op} | \`${s.name}\` | ${kindOf(s.type)} | ${s.diffs.length ? s.diffs.join(", ") : "—"} |`);
    out.push("");
  }
  out.push("### Resulting topology", "", "```mermaid", toMermaid(spec).trimEnd(), "```", "");
  return out.join("\n");
}
