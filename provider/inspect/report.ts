/**
 * What `hostnet inspect` reports, and the pure parts of making it: which
 * fields drifted between what the last `up` applied and what a host has now,
 * how each object is described, and the table. The reads live in read.ts.
 */
import { urnName } from "../cli/removed";
import { hostOfName } from "../topology/graph";
import { PortRange } from "../resources/nat/args";
import { portRangeText } from "../resources/nat/plan";

/** The kinds of object a spec owns. */
export type ObjectKind = "bridge" | "veth" | "attachment" | "nat" | "hosts" | "vxlan";

/**
 * Where an object stands:
 * - `in sync`: on the host as the last `up` left it;
 * - `drifted`: there, with fields that differ (see {@link InspectedObject.drift});
 * - `missing`: recorded in the state, not on the host (any more);
 * - `not applied`: in the spec, never applied (no state yet);
 * - `not in spec`: in the state, no longer in the spec (the next `up` deletes it).
 */
export type ObjectStatus = "in sync" | "drifted" | "missing" | "not applied" | "not in spec";

/** One field that differs: what the state wants, what the host has (both as shown). */
export interface Drift {
  readonly field: string;
  readonly want: string;
  readonly have: string;
}

/** One object of the spec on one host. */
export interface InspectedObject {
  readonly host: string;
  readonly kind: ObjectKind;
  /** The resource's name (`h1.bridge.mybr0`). */
  readonly resource: string;
  /** What it is, in the host's terms (`mybr0`, `web:eth0`, `tcp 8080 -> 172.16.0.2:80`). */
  readonly object: string;
  /** Its main values as read from the host (or as recorded, when missing). */
  readonly details: string;
  readonly status: ObjectStatus;
  readonly drift: readonly Drift[];
}

/** An object on a host carrying this stack's mark that no resource of the state claims. */
export interface Orphan {
  readonly host: string;
  /** `link mybr1`, `iptables-nft nat HOSTNET-POSTROUTING`, `nftables inet hostnet`. */
  readonly where: string;
  /** The mark it carries. */
  readonly mark: string;
}

/** A whole inspection: per host, its objects and orphans. */
export interface InspectReport {
  readonly stack: string;
  readonly objects: readonly InspectedObject[];
  readonly orphans: readonly Orphan[];
}

/** Inputs that are not the object's own (how to reach the host, who owns it, the engine's). */
const NOT_COMPARED = new Set(["connection", "owner", "__provider", "blockedBy", "adopt"]);

/** A value as a short text: lists joined by ", ", objects as `k=v`, absent as `(none)`. */
export function show(v: unknown): string {
  if (v === undefined || v === null) return "(none)";
  if (Array.isArray(v)) return v.length === 0 ? "(none)" : v.map(show).join(", ");
  if (typeof v === "object") {
    return Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${k}=${show(x)}`)
      .join(" ");
  }
  return String(v);
}

/** JSON with object keys sorted, so that equal values compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/** The fields of `want` (a resource's inputs in the state) that `have` (the inputs read back from the host) gives differently. */
export function driftOf(want: Readonly<Record<string, unknown>>, have: Readonly<Record<string, unknown>>): Drift[] {
  const keys = [...new Set([...Object.keys(want), ...Object.keys(have)])].filter((k) => !NOT_COMPARED.has(k)).sort();
  return keys.filter((k) => canonical(want[k]) !== canonical(have[k])).map((k) => ({ field: k, want: show(want[k]), have: show(have[k]) }));
}

/** The kind of a hostnet resource type (`pulumi-nodejs:dynamic/hostnet:Bridge` → `bridge`), else undefined. */
export function kindOfType(type: string): ObjectKind | undefined {
  const k = type.split(":").at(-1);
  return k === "Bridge" ? "bridge" : k === "VethPair" ? "veth" : k === "ContainerAttachment" ? "attachment" : k === "NatRule" ? "nat" : k === "HostsEntries" ? "hosts" : k === "Vxlan" ? "vxlan" : undefined;
}

/** The host of a Topology resource, from its URN's name (`h1.bridge.mybr0` → `h1`). */
export function hostOfUrn(urn: string, hosts: readonly string[]): string | undefined {
  const h = hostOfName(urnName(urn), hosts);
  return hosts.includes(h) ? h : undefined;
}

const containerName = (c: unknown): string => {
  const r = (c ?? {}) as Record<string, unknown>;
  return String(r.docker ?? r.netns ?? r.pid ?? "?");
};

/** A port as the plan gives it (`8080`, `"9000-9005"`) or as a rule's state does (`{ from, to }`). */
const portText = (p: unknown): string => (typeof p === "number" || typeof p === "string" ? String(p) : p ? portRangeText(p as PortRange) : "?");

/** How an object is named in the report, from its inputs or outputs. */
export function objectName(kind: ObjectKind, v: Readonly<Record<string, unknown>>): string {
  switch (kind) {
    case "bridge":
      return String(v.name);
    case "veth":
      return `${String(v.name)} <-> ${String(v.peerName)}`;
    case "attachment":
      return `${containerName(v.container)}:${String(v.ifname)}`;
    case "hosts":
      return `${containerName(v.container)}:/etc/hosts`;
    case "vxlan":
      return `${String(v.name)} VNI ${String(v.vni)}`;
    case "nat":
      if (v.kind === "dnat") {
        const to = v.toIp !== undefined ? `${String(v.toIp)}:${portText(v.toPort ?? v.hostPort)}` : String(v.to);
        return `publish ${String(v.protocol ?? "tcp")} ${v.hostIp ? `${String(v.hostIp)}:` : ""}${portText(v.hostPort)} -> ${to}`;
      }
      if (v.kind === "masquerade") return `masquerade ${String(v.source ?? "any")}${v.notOutInterface ? ` !-o ${String(v.notOutInterface)}` : ""}${v.outInterface ? ` -o ${String(v.outInterface)}` : ""}`;
      return `snat ${String(v.source ?? "any")} to ${String(v.toSource)}`;
  }
}

/** An object's main values, as a user of `ip` and `iptables` reads them. */
export function objectDetails(kind: ObjectKind, v: Readonly<Record<string, unknown>>): string {
  switch (kind) {
    case "bridge":
      return [show(v.addresses), v.mtu !== undefined ? `mtu ${String(v.mtu)}` : "", v.up === false ? "down" : "up"].filter((x) => x !== "").join(" ");
    case "veth":
      return v.bridge ? `on ${String(v.bridge)}` : "point-to-point";
    case "attachment":
      return [show(v.addresses), v.gateway ? `via ${String(v.gateway)}` : "", v.gateway6 ? `via ${String(v.gateway6)}` : "", v.bridge ? `host end ${String(v.interface)} on ${String(v.bridge)}` : `from ${String(v.interface)}`].filter((x) => x !== "").join(" ");
    case "hosts":
      return ((v.entries ?? []) as { address: string; names: string[] }[]).map((e) => `${e.names.join(" ")}=${e.address}`).join(", ");
    case "vxlan":
      return `${String(v.local)} -> ${show(v.remotes)} on ${String(v.bridge)} mtu ${String(v.mtu)}`;
    case "nat":
      return v.intact === false ? "some rules missing" : `${String(v.flavor ?? "")}`.trim();
  }
}

/** Pads the columns of `rows` to a table. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n") + "\n";
}

/** The status column: `drifted (field: want → have; …)`. */
export function statusText(o: InspectedObject): string {
  if (o.status !== "drifted") return o.status;
  return `drifted (${o.drift.map((d) => `${d.field}: ${d.want} → ${d.have}`).join("; ")})`;
}

/** The report as a table per host, then orphans, then a one-line summary. */
export function formatReport(r: InspectReport): string {
  const out: string[] = [];
  const hosts = [...new Set([...r.objects.map((o) => o.host), ...r.orphans.map((o) => o.host)])];
  for (const h of hosts) {
    const objects = r.objects.filter((o) => o.host === h);
    out.push(`host ${h}`);
    if (objects.length > 0) out.push(table([["KIND", "OBJECT", "DETAILS", "STATUS"], ...objects.map((o) => [o.kind, o.object, o.details, statusText(o)])]).replace(/^/gm, "  ").trimEnd());
    const orphans = r.orphans.filter((o) => o.host === h);
    if (orphans.length > 0) {
      out.push("  orphans (carry this stack's mark, claimed by no resource):");
      for (const o of orphans) out.push(`    ${o.where}: ${o.mark}`);
    }
  }
  const count = (s: ObjectStatus) => r.objects.filter((o) => o.status === s).length;
  const parts = (["in sync", "drifted", "missing", "not applied", "not in spec"] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
  out.push(`stack ${r.stack}: ${parts.length > 0 ? parts.join(", ") : "no objects"}${r.orphans.length > 0 ? `, ${r.orphans.length} orphan(s)` : ""}`);
  return out.join("\n") + "\n";
}

/** True when everything is in sync and nothing is orphaned. */
export function allInSync(r: InspectReport): boolean {
  return r.orphans.length === 0 && r.objects.every((o) => o.status === "in sync");
}
