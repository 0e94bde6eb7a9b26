/**
 * `hostnet inspect`'s reads: every resource of a spec's stack is read on its
 * host by its own provider's `read` (the same code a refresh runs, so
 * inspect and refresh never disagree), compared with what the last `up`
 * applied (the state), and each host is searched for objects carrying this
 * stack's mark that no resource claims. Read-only: nothing here changes a
 * host, and no namespace or container is entered that no resource recorded.
 */
import { ConnectionSpec } from "../host/connection";
import { runnerFor } from "../host";
import { Runner } from "../host/runner";
import * as ipt from "../linux/iptables";
import { NFT_TABLE, parseNftTable } from "../linux/nftables";
import { hostLinksOnce } from "../resources/common/preflight";
import { Owner, parseMark } from "../resources/common/owner";
import { BridgeProvider } from "../resources/bridge/provider";
import { VethProvider } from "../resources/veth/provider";
import { AttachmentProvider } from "../resources/attachment/provider";
import { NatOutputs } from "../resources/nat/args";
import { natPresence } from "../resources/nat/provider";
import { normalizeBridge } from "../resources/bridge/plan";
import { normalizeVeth } from "../resources/veth/plan";
import { normalizeAttachment } from "../resources/attachment/plan";
import { HostsProvider } from "../resources/hosts/provider";
import { normalizeHosts } from "../resources/hosts/plan";
import { VxlanProvider } from "../resources/vxlan/provider";
import { normalizeVxlan } from "../resources/vxlan/plan";
import { HostPlan, resourceNamesOf } from "../topology/plan";
import { urnName } from "../cli/removed";
import { Drift, InspectReport, InspectedObject, ObjectKind, Orphan, driftOf, hostOfUrn, kindOfType, objectDetails, objectName } from "./report";

/** A resource as exported in a stack's deployment. */
export interface StateEntry {
  readonly urn: string;
  readonly type: string;
  readonly custom?: boolean;
  readonly id?: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
}

/** What to inspect. */
export interface InspectArgs {
  /** `project/stack`, as shown. */
  readonly stack: string;
  /** The stack's owner (its marks). */
  readonly owner: Owner;
  /** The spec's plan (what it declares). */
  readonly plans: readonly HostPlan[];
  /** The stack's resources. */
  readonly state: readonly StateEntry[];
  /** Connection (with its credentials) of each host inspected: the state records them only encrypted. */
  readonly connections: Readonly<Record<string, ConnectionSpec>>;
  /** Only these hosts (all when undefined). */
  readonly hosts?: readonly string[];
}

/** How a kind of resource is read on its host (its provider's own `read`) and put in normal form for comparing (NAT rules compare by their rule count instead). */
interface Kind {
  read(id: string, props: Record<string, unknown>): Promise<{ id?: string; props?: Record<string, unknown>; inputs?: Record<string, unknown> }>;
  normalize(raw: Record<string, unknown>): unknown;
}

const asKind = (p: object, normalize: (raw: Record<string, unknown>) => unknown): Kind => ({ read: (p as Kind).read.bind(p), normalize });

const kinds: Record<Exclude<ObjectKind, "nat">, () => Kind> = {
  bridge: () => asKind(new BridgeProvider(), normalizeBridge),
  veth: () => asKind(new VethProvider(), normalizeVeth),
  attachment: () => asKind(new AttachmentProvider(), normalizeAttachment),
  hosts: () => asKind(new HostsProvider(), normalizeHosts),
  vxlan: () => asKind(new VxlanProvider(), normalizeVxlan),
};

/** Reads one resource of the state on its host and says where it stands. */
async function inspectOne(host: string, kind: ObjectKind, r: StateEntry, connection: ConnectionSpec): Promise<InspectedObject> {
  const outputs: Record<string, unknown> = { ...(r.outputs ?? {}), connection };
  const base = { host, kind, resource: urnName(r.urn), object: objectName(kind, outputs) };
  if (kind === "nat") return inspectNat(base, outputs as unknown as NatOutputs, connection);
  const k = kinds[kind]();
  const read = await k.read(r.id ?? "", outputs);
  if (!read.id) return { ...base, details: objectDetails(kind, outputs), status: "missing", drift: [] };
  const have = read.props ?? outputs;
  if (kind === "attachment" && have.present === false && (have.addresses as unknown[] | undefined)?.length === 0) {
    return { ...base, details: `${String(outputs.ifname)} is not in ${objectName(kind, outputs).split(":")[0]}`, status: "missing", drift: [] };
  }
  const norm = (raw: Record<string, unknown> | undefined) => k.normalize({ ...(raw ?? {}), connection }) as Record<string, unknown>;
  const drift = driftOf(norm(r.inputs), norm(read.inputs));
  return { ...base, details: objectDetails(kind, have), status: drift.length > 0 ? "drifted" : "in sync", drift };
}

/**
 * A NAT rule: how many of the rules carrying its tag are there, against how
 * many implement it, and whether the built-in chains still jump to ours (the
 * same read, shared per host, as the provider's `read`).
 */
async function inspectNat(base: Pick<InspectedObject, "host" | "kind" | "resource" | "object">, props: NatOutputs, connection: ConnectionSpec): Promise<InspectedObject> {
  const p = await natPresence(runnerFor(connection), props);
  const details = `${p.rules} rule(s) in ${p.backend}`;
  if (p.rules === 0) return { ...base, details, status: "missing", drift: [] };
  const drift: Drift[] = [];
  if (p.rules !== p.expected) drift.push({ field: "rules", want: String(p.expected), have: String(p.rules) });
  if (p.hooked.length !== p.hooks.length) drift.push({ field: "hooks", want: p.hooks.join(", "), have: p.hooked.join(", ") || "(none)" });
  return { ...base, details, status: drift.length > 0 ? "drifted" : "in sync", drift };
}

/** What a host's plan declares that the state does not hold yet. */
function notApplied(p: HostPlan, inState: ReadonlySet<string>): InspectedObject[] {
  const out: InspectedObject[] = [];
  const add = (kind: ObjectKind, resource: string, v: Record<string, unknown>) => {
    if (!inState.has(resource)) out.push({ host: p.host, kind, resource, object: objectName(kind, v), details: "", status: "not applied", drift: [] });
  };
  for (const b of p.bridges) add("bridge", b.resourceName, { ...b });
  for (const v of p.veths) {
    if (v.pair) add("veth", v.resourceName, { ...v });
    for (const a of v.attachments) add("attachment", a.resourceName, { container: a.target, ifname: a.ifname });
  }
  for (const n of p.nat) add("nat", n.resourceName, { ...n.rule });
  for (const h of p.hosts) add("hosts", h.resourceName, { container: h.target, entries: h.entries });
  for (const o of p.overlays) add("vxlan", o.resourceName, { ...o });
  return out;
}

/**
 * Objects on a host that carry `owner`'s mark and no resource claims: links
 * of the host's own namespace by name, rules (both iptables flavours, our nft
 * table) by the object their mark names. Containers' namespaces are not
 * searched: only resources enter those, where they recorded going.
 */
async function orphansOn(host: string, runner: Runner, owner: Owner, claimed: { links: Set<string>; objects: Set<string> }): Promise<Orphan[]> {
  const out: Orphan[] = [];
  const ours = (mark: string | undefined) => {
    const p = parseMark(mark);
    return p?.hash === owner.hash ? p : undefined;
  };
  for (const l of await hostLinksOnce(runner)) {
    if (ours(l.alias) && !claimed.links.has(l.name)) out.push({ host, where: `link ${l.name}`, mark: l.alias });
  }
  for (const bins of (["nft", "legacy"] as const).flatMap((flavor) => [ipt.binsOf(flavor, 4), ipt.binsOf(flavor, 6)])) {
    const res = await runner.run([bins.save]);
    if (res.exitCode !== 0) continue;
    for (const table of ["nat", "filter"] as const) {
      for (const line of ipt.parseSave(res.stdout, table).rules) {
        const chain = line.split(" ")[1];
        const mark = ipt.commentOf(line);
        const p = chain.startsWith("HOSTNET-") ? ours(mark) : undefined;
        if (p && mark && !claimed.objects.has(p.object)) out.push({ host, where: `${bins.iptables} ${table} ${chain}`, mark });
      }
    }
  }
  const nft = await runner.run(["nft", "-j", "list", "table", "inet", NFT_TABLE]);
  if (nft.exitCode === 0) {
    for (const r of parseNftTable(nft.stdout).rules) {
      const p = ours(r.comment);
      if (p && r.comment && !claimed.objects.has(p.object)) out.push({ host, where: `nftables inet ${NFT_TABLE}`, mark: r.comment });
    }
  }
  return out;
}

/** What the resources of a host claim: link names, and the objects their rules' marks name. */
function claimsOf(entries: readonly { kind: ObjectKind; r: StateEntry }[]): { links: Set<string>; objects: Set<string> } {
  const links = new Set<string>();
  const objects = new Set<string>();
  for (const { kind, r } of entries) {
    const o = r.outputs ?? {};
    if (kind === "bridge") {
      links.add(String(o.name));
      objects.add(`bridge/${String(o.name)}`);
    } else if (kind === "veth") {
      links.add(String(o.name));
      links.add(String(o.peerName));
    } else if (kind === "attachment") {
      links.add(String(o.interface));
    } else if (kind === "nat") {
      const p = parseMark(String(o.tag ?? ""));
      if (p) objects.add(p.object);
    } else if (kind === "vxlan") {
      links.add(String(o.name));
      objects.add(`vxlan/${String(o.name)}`);
    }
    // hosts entries live in containers' files, which the orphan search does not open.
  }
  return { links, objects };
}

/** Inspects every (selected) host of a spec's stack. Read-only. */
export async function inspect(a: InspectArgs): Promise<InspectReport> {
  const hostNames = a.plans.map((p) => p.host);
  const selected = hostNames.filter((h) => !a.hosts || a.hosts.includes(h));
  const declared = resourceNamesOf(a.plans);
  const entries = a.state.flatMap((r) => {
    const kind = kindOfType(r.type);
    const host = hostOfUrn(r.urn, hostNames);
    return r.custom !== false && kind && host ? [{ kind, host, r }] : [];
  });
  const perHost = await Promise.all(
    selected.map(async (host) => {
      const connection = a.connections[host];
      const mine = entries.filter((e) => e.host === host);
      const objects = await Promise.all(mine.map(async (e) => {
        const o = await inspectOne(host, e.kind, e.r, connection);
        return declared.has(o.resource) ? o : { ...o, status: "not in spec" as const, drift: [] };
      }));
      const plan = a.plans.find((p) => p.host === host);
      const pending = plan ? notApplied(plan, new Set(mine.map((e) => urnName(e.r.urn)))) : [];
      const orphans = await orphansOn(host, runnerFor(connection), a.owner, claimsOf(mine));
      return { objects: [...objects, ...pending], orphans };
    }),
  );
  const order: ObjectKind[] = ["bridge", "vxlan", "veth", "attachment", "nat", "hosts"];
  const sorted = perHost.flatMap((h) => [...h.objects].sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind) || x.object.localeCompare(y.object)));
  return { stack: a.stack, objects: sorted, orphans: perHost.flatMap((h) => h.orphans) };
}
