/** Mermaid and DOT pictures of a spec: hosts, bridges, containers, links and NAT. Pure. */
import { Spec } from "../spec/types";
import { PlannedVxlan, planTopology } from "./plan";

interface Graph {
  hosts: { host: string; id: string; nodes: { id: string; label: string; shape: "bridge" | "container" | "port" | "outside"; resources: string[] }[] }[];
  edges: { from: string; to: string; label: string; style: "solid" | "dotted" | "arrow"; resource?: string }[];
}

/**
 * Node ids for Mermaid and DOT: the parts joined with `_`, every other
 * character made `_` (readable: `node1_c_web`), and a `_2`, `_3`, … suffix when
 * that id is taken by other parts (`node-1` and `node_1` are two nodes).
 */
function idRegistry(): (...parts: string[]) => string {
  const byKey = new Map<string, string>();
  const used = new Set<string>();
  return (...parts) => {
    const key = JSON.stringify(parts);
    const known = byKey.get(key);
    if (known) return known;
    const base = parts.join("_").replace(/[^A-Za-z0-9_]/g, "_");
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    byKey.set(key, id);
    used.add(id);
    return id;
  };
}

/** The nodes and edges of a spec. */
export function topologyGraph(spec: Spec): Graph {
  const g: Graph = { hosts: [], edges: [] };
  const id = idRegistry();
  const planned: PlannedVxlan[] = [];
  for (const p of planTopology(spec)) {
    planned.push(...p.overlays);
    const nodes: Graph["hosts"][number]["nodes"] = [];
    const containers = new Map<string, Graph["hosts"][number]["nodes"][number]>();
    for (const b of p.bridges) nodes.push({ id: id(p.host, "br", b.name), label: `bridge ${b.name}${b.addresses.length ? ` ${b.addresses.join(" ")}` : ""}`, shape: "bridge", resources: [b.resourceName] });
    for (const v of p.veths) {
      for (const a of v.attachments) {
        let node = containers.get(a.container);
        if (!node) {
          node = { id: id(p.host, "c", a.container), label: `container ${a.container}`, shape: "container", resources: [] };
          nodes.push(node);
          containers.set(a.container, node);
        }
        node.resources.push(a.resourceName);
        if (v.bridge) g.edges.push({ from: id(p.host, "c", a.container), to: id(p.host, "br", v.bridge), label: `${a.ifname} ${a.addresses.join(" ")}`.trim(), style: "solid", resource: a.resourceName });
      }
      if (!v.bridge && v.attachments.length === 2) {
        const [a, b] = v.attachments;
        g.edges.push({ from: id(p.host, "c", a.container), to: id(p.host, "c", b.container), label: `p2p ${a.ifname} ${a.addresses.join(" ")} / ${b.ifname} ${b.addresses.join(" ")}`, style: "solid", resource: v.pair ? v.resourceName : a.resourceName });
      }
    }
    for (const n of p.nat) {
      if (n.rule.kind === "masquerade") {
        const out = id(p.host, "outside");
        if (!nodes.some((x) => x.id === out)) nodes.push({ id: out, label: "outside", shape: "outside", resources: [] });
        g.edges.push({ from: id(p.host, "br", n.rule.notOutInterface), to: out, label: `masquerade ${n.rule.source}`, style: "dotted", resource: n.resourceName });
      } else {
        const port = id(p.host, "port", n.rule.protocol, String(n.rule.hostPort));
        const c = n.after[0].split(".")[1];
        // A port published on both families is one node with two rules.
        const known = nodes.find((x) => x.id === port);
        if (known) known.resources.push(n.resourceName);
        else nodes.push({ id: port, label: `${n.rule.protocol}:${n.rule.hostPort}`, shape: "port", resources: [n.resourceName] });
        g.edges.push({ from: port, to: id(p.host, "c", c), label: `dnat ${n.rule.to}`, style: "arrow", resource: n.resourceName });
      }
    }
    g.hosts.push({ host: p.host, id: id("host", p.host), nodes });
  }
  // A VXLAN segment: an edge between the bridges of each two members (across the hosts' boxes).
  for (const o of spec.overlays ?? []) {
    const ends = planned.filter((x) => x.resourceName.endsWith(`.overlay.${o.name}`) && o.members.some((m) => m.host === x.host));
    for (let i = 0; i < ends.length; i++) {
      for (let j = i + 1; j < ends.length; j++) {
        g.edges.push({ from: id(ends[i].host, "br", ends[i].bridge), to: id(ends[j].host, "br", ends[j].bridge), label: `vxlan ${o.vni} ${ends[i].local} - ${ends[j].local}`, style: "dotted", resource: ends[i].resourceName });
      }
    }
  }
  return g;
}

const q = (s: string) => s.replace(/"/g, "'");

/** The host a resource belongs to (names start with `host.`; the longest such host name wins, as names may hold dots). */
export function hostOfName(name: string, hosts: readonly string[]): string {
  return [...hosts].sort((a, b) => b.length - a.length).find((h) => name.startsWith(`${h}.`)) ?? "(other)";
}

/** How a preview changes a resource, for the picture: `added`, `changed` (updated or replaced) or `removed`. */
export type GraphChange = "added" | "changed" | "removed";

/** The engine's step operation as a {@link GraphChange} (undefined: unchanged). */
export function graphChangeOf(op: string): GraphChange | undefined {
  if (op === "create") return "added";
  if (op === "delete") return "removed";
  if (op === "same" || op === "read" || op === "refresh") return undefined;
  return "changed";
}

const CHANGE_STYLE: Record<GraphChange, { node: string; link: string }> = {
  added: { node: "fill:#e6ffe6,stroke:#1a7f37,stroke-width:2px", link: "stroke:#1a7f37,stroke-width:2px" },
  changed: { node: "fill:#fff8c5,stroke:#9a6700,stroke-width:2px", link: "stroke:#9a6700,stroke-width:2px" },
  removed: { node: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5", link: "stroke:#cf222e,stroke-dasharray:5 5" },
};

/**
 * Mermaid `flowchart LR` with one subgraph per host. With `changes`
 * (resource name → how a preview changes it), what is added, changed or
 * removed is drawn in green, amber or dashed red, and each host's removed
 * resources (no longer in the spec, so not in the picture) are listed in a
 * node of their own.
 */
export function toMermaid(spec: Spec, changes?: ReadonlyMap<string, GraphChange>): string {
  const g = topologyGraph(spec);
  const lines = ["flowchart LR"];
  const classes: string[] = [];
  const hosts = g.hosts.map((h) => h.host);
  /** A node's change: added when all its resources are, changed when any is added or changed. */
  const nodeChange = (resources: readonly string[]): GraphChange | undefined => {
    const cs = resources.map((r) => changes?.get(r));
    if (cs.length === 0 || cs.every((c) => c === undefined)) return undefined;
    return cs.every((c) => c === "added") ? "added" : "changed";
  };
  for (const h of g.hosts) {
    lines.push(`  subgraph ${h.id}["host ${q(h.host)}"]`);
    for (const n of h.nodes) {
      const label = q(n.label);
      lines.push(`    ${n.id}${n.shape === "bridge" ? `[["${label}"]]` : n.shape === "container" ? `["${label}"]` : n.shape === "port" ? `(["${label}"])` : `(("${label}"))`}`);
      const c = nodeChange(n.resources);
      if (c) classes.push(`  class ${n.id} ${c}`);
    }
    const removed = [...(changes ?? [])].filter(([name, c]) => c === "removed" && hostOfName(name, hosts) === h.host).map(([name]) => name);
    if (removed.length > 0) {
      lines.push(`    ${h.id}_removed["removed: ${q(removed.join(", "))}"]`);
      classes.push(`  class ${h.id}_removed removed`);
    }
    lines.push("  end");
  }
  const linkStyles: string[] = [];
  g.edges.forEach((e, i) => {
    lines.push(`  ${e.from} ${e.style === "dotted" ? "-.->" : e.style === "arrow" ? "-->" : "---"}|"${q(e.label)}"| ${e.to}`);
    const c = e.resource ? changes?.get(e.resource) : undefined;
    if (c) linkStyles.push(`  linkStyle ${i} ${CHANGE_STYLE[c].link}`);
  });
  if (changes && (classes.length > 0 || linkStyles.length > 0)) {
    for (const [k, v] of Object.entries(CHANGE_STYLE)) lines.push(`  classDef ${k} ${v.node}`);
    lines.push(...classes, ...linkStyles);
  }
  return lines.join("\n") + "\n";
}

/** Graphviz DOT with one cluster per host. */
export function toDot(spec: Spec): string {
  const g = topologyGraph(spec);
  const lines = ["graph hostnet {", "  rankdir=LR;"];
  for (const h of g.hosts) {
    lines.push(`  subgraph cluster_${h.id.replace(/^host_/, "")} {`, `    label="host ${q(h.host)}";`);
    for (const n of h.nodes) lines.push(`    ${n.id} [label="${q(n.label)}", shape=${n.shape === "bridge" ? "box3d" : n.shape === "container" ? "box" : n.shape === "port" ? "oval" : "doublecircle"}];`);
    lines.push("  }");
  }
  for (const e of g.edges) lines.push(`  ${e.from} -- ${e.to} [label="${q(e.label)}"${e.style === "dotted" ? ", style=dotted" : ""}${e.style === "arrow" ? ", dir=forward" : ""}];`);
  lines.push("}");
  return lines.join("\n") + "\n";
}
