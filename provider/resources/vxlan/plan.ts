/** Pure logic of `Vxlan`: validation, the diff policy, reading `ip -d`/`bridge fdb` JSON and the steps. */
import { ValidationError } from "../../host/errors";
import { checkConnection, hostIdOf } from "../../host/connection";
import * as ip from "../../linux/ip";
import { checkIfName, checkMtu, parseIp } from "../../linux/names";
import { LinkState } from "../../linux/parse";
import { Step } from "../common/steps";
import { ownerFromInput } from "../common/owner";
import { VxlanInputs, VxlanOutputs } from "./args";

/** Bytes VXLAN adds in front of a frame: outer IPv4 (20) or IPv6 (40), UDP (8), VXLAN (8) and the inner Ethernet header (14). */
export const vxlanOverhead = (local: string): number => (local.includes(":") ? 70 : 50);

/** The MTU a segment gets when none is given: what a 1500-byte underlay of `local`'s family carries (1450 over IPv4, 1430 over IPv6). */
export const defaultVxlanMtu = (local: string): number => 1500 - vxlanOverhead(local);

function checkInt(v: unknown, field: string, min: number, max: number, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new ValidationError(field, `expected ${what} ${min}-${max}, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates and normalises raw inputs. */
export function normalizeVxlan(raw: Record<string, unknown>): VxlanInputs {
  const local = parseIp(raw.local, "local");
  if (!Array.isArray(raw.remotes)) throw new ValidationError("remotes", "expected a list of the other members' underlay addresses");
  const remotes = raw.remotes.map((r, i) => {
    const a = parseIp(r, `remotes[${i}]`);
    if (a.includes(":") !== local.includes(":")) throw new ValidationError(`remotes[${i}]`, `${a} is not of the family of local ${local}`);
    if (a === local) throw new ValidationError(`remotes[${i}]`, `${a} is this host's own address (local)`);
    return a;
  });
  const dup = remotes.find((r, i) => remotes.indexOf(r) !== i);
  if (dup) throw new ValidationError("remotes", `${dup} is listed twice`);
  const out: VxlanInputs = {
    connection: checkConnection(raw.connection),
    name: checkIfName(raw.name, "name"),
    vni: checkInt(raw.vni, "vni", 1, 16777215, "a VXLAN network identifier"),
    local,
    remotes: [...remotes].sort(),
    bridge: checkIfName(raw.bridge, "bridge"),
    port: raw.port === undefined ? 4789 : checkInt(raw.port, "port", 1, 65535, "a UDP port"),
    mtu: raw.mtu === undefined ? defaultVxlanMtu(local) : checkMtu(raw.mtu, "mtu"),
  };
  if (out.bridge === out.name) throw new ValidationError("bridge", `the device ${out.name} cannot be its own bridge`);
  if (raw.owner !== undefined) out.owner = ownerFromInput(raw.owner).label;
  return out;
}

/** Diff policy: host, name, VNI, local address and port make another device (replace, delete first); members, bridge and MTU change in place. */
export function diffVxlan(olds: Partial<VxlanOutputs>, news: VxlanInputs): { changes: boolean; replaces: string[]; changed: string[] } {
  const replaces: string[] = [];
  if (olds.connection && hostIdOf(olds.connection) !== hostIdOf(news.connection)) replaces.push("connection");
  for (const f of ["name", "vni", "local", "port"] as const) if (olds[f] !== news[f]) replaces.push(f);
  const changed: string[] = [];
  if (JSON.stringify(olds.remotes ?? []) !== JSON.stringify(news.remotes)) changed.push("remotes");
  for (const f of ["bridge", "mtu"] as const) if (olds[f] !== news[f]) changed.push(f);
  if (olds.present === false) changed.push("present");
  if (news.owner !== undefined && olds.owner !== news.owner) changed.push("owner");
  if (replaces.length === 0 && olds.connection && JSON.stringify(olds.connection) !== JSON.stringify(news.connection)) changed.push("connection");
  return { changes: replaces.length + changed.length > 0, replaces, changed: [...replaces, ...changed] };
}

/** What the kernel says of a VXLAN device (`ip -j -d addr show dev NAME`'s `info_data`). */
export interface VxlanDevice {
  readonly vni: number;
  readonly local: string;
  readonly port: number;
  /** The underlay link (`dev`). */
  readonly underlay?: string;
}

/** The VXLAN data of a device from `ip -j -d addr show` output; undefined when it is not a VXLAN device. */
export function parseVxlanDevice(stdout: string, name: string): VxlanDevice | undefined {
  const text = stdout.trim();
  if (text === "") return undefined;
  const l = (JSON.parse(text) as { ifname?: string; linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; local6?: string; port?: number; link?: string } } }[]).find((x) => x.ifname === name);
  const d = l?.linkinfo?.info_kind === "vxlan" ? l.linkinfo.info_data : undefined;
  if (!d) return undefined;
  return { vni: d.id ?? 0, local: d.local ?? d.local6 ?? "", port: d.port ?? 0, ...(d.link ? { underlay: d.link } : {}) };
}

/** A VXLAN device's FDB as `bridge -j fdb show dev NAME` gives it: the remotes (all-zero flood entries, sorted) and the MACs learnt behind each remote. */
export interface VxlanFdb {
  readonly remotes: string[];
  readonly learnt: ReadonlyMap<string, string[]>;
}

/** Parses `bridge -j fdb show dev NAME` of a VXLAN device. */
export function parseVxlanFdb(stdout: string): VxlanFdb {
  const text = stdout.trim();
  const entries = text === "" ? [] : (JSON.parse(text) as { mac?: string; dst?: string; state?: string }[]);
  const learnt = new Map<string, string[]>();
  for (const e of entries) {
    if (!e.dst || !e.mac || e.mac === "00:00:00:00:00:00" || e.state === "permanent") continue;
    learnt.set(e.dst, [...(learnt.get(e.dst) ?? []), e.mac]);
  }
  return { remotes: entries.filter((e) => e.mac === "00:00:00:00:00:00" && e.dst).map((e) => e.dst as string).sort(), learnt };
}

/** The link that holds `local` among the host's links (the underlay). */
export function underlayOf(links: readonly LinkState[], local: string): LinkState | undefined {
  return links.find((l) => l.addresses.some((a) => a.split("/")[0] === local));
}

/** Why the underlay cannot carry the device's MTU, or undefined. */
export function mtuProblem(underlay: LinkState, d: VxlanInputs): string | undefined {
  const max = underlay.mtu - vxlanOverhead(d.local);
  return d.mtu > max ? `the underlay ${underlay.name} has MTU ${underlay.mtu}, and VXLAN over IPv${d.local.includes(":") ? 6 : 4} adds ${vxlanOverhead(d.local)} bytes: give mtu ${max} or less (and the same or less to the interfaces on ${d.bridge}), or raise the underlay's MTU` : undefined;
}

/** The underlay link for `d` among the host's links, or what is wrong with it (no link holds `local`, or it cannot carry the MTU), by field. */
export function underlayFor(links: readonly LinkState[], d: VxlanInputs, hostId: string): { underlay: LinkState } | { field: "local" | "mtu"; problem: string } {
  const underlay = underlayOf(links, d.local);
  if (!underlay) return { field: "local", problem: `${d.local} is not an address of any link on ${hostId}; give the host's underlay address` };
  const mtu = mtuProblem(underlay, d);
  return mtu ? { field: "mtu", problem: mtu } : { underlay };
}

/** Steps that make the device from nothing: add (its undo deletes it, FDB with it), mark, MTU, bridge, up, one flood entry per remote. */
export function planVxlanCreate(d: VxlanInputs, underlay: string, mark: string): Step[] {
  return [
    { description: `create vxlan ${d.name} (VNI ${d.vni}, local ${d.local}, port ${d.port}) on ${underlay}`, argv: ip.ipLinkAddVxlan(d.name, d.vni, d.local, d.port, underlay), undo: [ip.ipLinkDel(d.name)] },
    { description: `mark ${d.name} as ours`, argv: ip.ipLinkSetAlias(d.name, mark), undo: [] },
    { description: `set ${d.name} mtu ${d.mtu}, on ${d.bridge}, up`, argv: ip.ipLinkSetMtuMasterUp(d.name, d.mtu, d.bridge), undo: [] },
    ...d.remotes.map((r) => ({ description: `flood to ${r}`, argv: ip.bridgeFdbFlood("append", d.name, r), undo: [] })),
  ];
}

/**
 * Steps that bring an existing device of ours (`actual`, with its FDB `fdb`)
 * to `d`: bridge, MTU, up, members added and removed. A removed member's
 * learnt MACs go with it (else the device would keep sending to it until they
 * age out, 300 s); they are learnt again wherever they turn up.
 */
export function planVxlanUpdate(actual: LinkState, fdb: VxlanFdb, d: VxlanInputs): Step[] {
  const remotes = fdb.remotes;
  const n = d.name;
  const steps: Step[] = [];
  if (actual.master !== d.bridge) steps.push({ description: `put ${n} on ${d.bridge}`, argv: ip.ipLinkSetMaster(n, d.bridge), undo: [actual.master ? ip.ipLinkSetMaster(n, actual.master) : ip.ipLinkSetNoMaster(n)] });
  if (actual.mtu !== d.mtu) steps.push({ description: `set ${n} mtu ${d.mtu}`, argv: ip.ipLinkSetMtu(n, d.mtu), undo: [ip.ipLinkSetMtu(n, actual.mtu)] });
  if (!actual.up) steps.push({ description: `set ${n} up`, argv: ip.ipLinkSetUp(n, true), undo: [ip.ipLinkSetUp(n, false)] });
  for (const r of d.remotes) if (!remotes.includes(r)) steps.push({ description: `add member ${r}`, argv: ip.bridgeFdbFlood("append", n, r), undo: [ip.bridgeFdbFlood("del", n, r)] });
  for (const r of remotes) {
    if (d.remotes.includes(r)) continue;
    steps.push({ description: `remove member ${r}`, argv: ip.bridgeFdbFlood("del", n, r), undo: [ip.bridgeFdbFlood("append", n, r)] });
    for (const mac of fdb.learnt.get(r) ?? []) steps.push({ description: `forget ${mac}, learnt behind ${r}`, argv: ip.bridgeFdbDel(mac, n, r), undo: [] });
  }
  return steps;
}

/** What differs after apply (empty when converged). */
export function verifyVxlan(actual: LinkState | undefined, dev: VxlanDevice | undefined, remotes: readonly string[], d: VxlanInputs, mark: string): string[] {
  if (!actual || !dev) return [`${d.name} is missing`];
  const problems: string[] = [];
  if (actual.alias !== mark) problems.push(`${d.name} is not marked as ours`);
  if (dev.vni !== d.vni || dev.local !== d.local || dev.port !== d.port) problems.push(`${d.name} is VNI ${dev.vni}, local ${dev.local}, port ${dev.port}`);
  if (actual.master !== d.bridge) problems.push(`${d.name} is on ${actual.master ?? "no bridge"}, not ${d.bridge}`);
  if (actual.mtu !== d.mtu) problems.push(`${d.name} mtu is ${actual.mtu}`);
  if (!actual.up) problems.push(`${d.name} is down`);
  if (JSON.stringify([...remotes].sort()) !== JSON.stringify(d.remotes)) problems.push(`members are ${remotes.join(", ") || "none"}`);
  return problems;
}
