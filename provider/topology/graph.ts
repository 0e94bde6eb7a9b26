/** Mermaid and DOT pictures of a spec: hosts, bridges, containers, links and NAT. Pure. */
import { Spec } from "../spec/types";
import { planTopology } from "./plan";

interface Graph {
  hosts: { host: string; id: string; nodes: { id: string; label: string; shape: "bridge" | "container" | "port" | "outside" }[] }[];
  edges: { from: string; to: string; label: string; style: "solid" | "dotted" | "arrow" }[];
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
  for (const p of planTopology(spec)) {
    const nodes: Graph["hosts"][number]["nodes"] = [];
    const containers = new Set<string>();
    for (const b of p.bridges) nodes.push({ id: id(p.host, "br", b.name), label: `bridge ${b.name}${b.addresses.length ? ` ${b.addresses.join(" ")}` : ""}`, shape: "bridge" });
    for (const v of p.veths) {
      for (const a of v.attachments) {
        if (!containers.has(a.container)) nodes.push({ id: id(p.host, "c", a.container), label: `container ${a.container}`, shape: "container" });
        containers.add(a.container);
        if (v.bridge) g.edges.push({ from: id(p.host, "c", a.container), to: id(p.host, "br", v.bridge), label: `${a.ifname} ${a.addresses.join(" ")}`.trim(), style: "solid" });
      }
      if (!v.bridge && v.attachments.length === 2) {
        const [a, b] = v.attachments;
        g.edges.push({ from: id(p.host, "c", a.container), to: id(p.host, "c", b.container), label: `p2p ${a.ifname} ${a.addresses.join(" ")} / ${b.ifname} ${b.addresses.join(" ")}`, style: "solid" });
      }
    }
    for (const n of p.nat) {
      if (n.rule.kind === "masquerade") {
        const out = id(p.host, "outside");
        if (!nodes.some((x) => x.id === out)) nodes.push({ id: out, label: "outside", shape: "outside" });
        g.edges.push({ from: id(p.host, "br", n.rule.notOutInterface), to: out, label: `masquerade ${n.rule.source}`, style: "dotted" });
      } else {
        const port = id(p.host, "port", n.rule.protocol, String(n.rule.hostPort));
        const c = n.after[0].split(".")[1];
        nodes.push({ id: port, label: `${n.rule.protocol}:${n.rule.hostPort}`, shape: "port" });
        g.edges.push({ from: port, to: id(p.host, "c", c), label: `dnat ${n.rule.to}`, style: "arrow" });
      }
    }
    g.hosts.push({ host: p.host, id: id("host", p.host), nodes });
  }
  return g;
}

const q = (s: string) => s.replace(/"/g, "'");

/** Mermaid `flowchart LR` with one subgraph per host. */
export function toMermaid(spec: Spec): string {
  const g = topologyGraph(spec);
  const lines = ["flowchart LR"];
  for (const h of g.hosts) {
    lines.push(`  subgraph ${h.id}["host ${q(h.host)}"]`);
    for (const n of h.nodes) {
      const label = q(n.label);
      lines.push(`    ${n.id}${n.shape === "bridge" ? `[["${label}"]]` : n.shape === "container" ? `["${label}"]` : n.shape === "port" ? `(["${label}"])` : `(("${label}"))`}`);
    }
    lines.push("  end");
  }
  for (const e of g.edges) lines.push(`  ${e.from} ${e.style === "dotted" ? "-.->" : e.style === "arrow" ? "-->" : "---"}|"${q(e.label)}"| ${e.to}`);
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
