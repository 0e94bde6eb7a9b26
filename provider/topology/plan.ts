/**
 * Spec → the resources to declare, per host, with stable names and their
 * dependencies. Pure: the Topology component turns this plan into resources,
 * and graph/preview use it to label things.
 */
import * as ipaddr from "ipaddr.js";
import { bracketed, hostPrefix, parseCidr } from "../linux/names";
import { linkVethNames, vethNames } from "../spec/names";
import { overlayMtuOf, publishTarget } from "../spec/semantic";
import { Spec } from "../spec/types";
import { ResolvedHostsEntry, hostsEntriesOf } from "../spec/hosts";

/** A bridge to declare. */
export interface PlannedBridge {
  readonly kind: "bridge";
  readonly host: string;
  readonly resourceName: string;
  readonly name: string;
  readonly addresses: string[];
  readonly mtu?: number;
  readonly stp?: boolean;
  /** Take over the bridge when it exists and is not ours. */
  readonly adopt?: boolean;
}

/** A veth pair plus the attachment(s) of its container end(s). */
export interface PlannedAttachment {
  readonly container: string;
  readonly target: { docker: string } | { netns: string };
  /** Which end of the pair goes in: `peer` for bridge interfaces, `name`/`peer` for link ends. */
  readonly end: "name" | "peer";
  readonly ifname: string;
  readonly addresses: string[];
  readonly gateway?: string;
  readonly gateway6?: string;
  readonly routes: { to: string; via?: string }[];
  readonly mtu?: number;
  readonly resourceName: string;
}

/**
 * A veth pair (on a bridge, or a point-to-point link) and what is attached to
 * it. A bridge interface's pair is made by its one `ContainerAttachment`
 * (the container end created inside the container's namespace): `pair` is
 * false and no `VethPair` is declared. A point-to-point link is a `VethPair`
 * (`pair` true, named `resourceName`) and one attachment per end.
 */
export interface PlannedVeth {
  readonly kind: "veth";
  readonly host: string;
  /** Whether a `VethPair` resource is declared for it (named {@link resourceName}). */
  readonly pair: boolean;
  readonly resourceName: string;
  readonly name: string;
  readonly peerName: string;
  readonly bridge?: string;
  readonly attachments: PlannedAttachment[];
}

/** A NAT rule. */
export interface PlannedNat {
  readonly kind: "nat";
  readonly host: string;
  readonly resourceName: string;
  readonly rule:
    | { kind: "masquerade"; source: string; notOutInterface: string }
    | { kind: "dnat"; protocol: "tcp" | "udp"; hostPort: number | string; hostIp?: string; to: string; hairpinSource: string };
  /** Resource names this rule must wait for. */
  readonly after: string[];
}

/** A Docker container's hosts entries (S4: names for linked containers). */
/** One member host's end of a VXLAN segment. */
export interface PlannedVxlan {
  readonly kind: "vxlan";
  readonly host: string;
  readonly resourceName: string;
  /** The device's name. */
  readonly name: string;
  readonly vni: number;
  readonly local: string;
  readonly remotes: string[];
  readonly bridge: string;
  readonly port?: number;
  readonly mtu: number;
}

export interface PlannedHosts {
  readonly kind: "hosts";
  readonly host: string;
  readonly resourceName: string;
  readonly container: string;
  readonly target: { docker: string };
  readonly entries: ResolvedHostsEntry[];
}

/** Everything to declare on one host. */
export interface HostPlan {
  readonly host: string;
  readonly bridges: PlannedBridge[];
  readonly veths: PlannedVeth[];
  readonly nat: PlannedNat[];
  readonly hosts: PlannedHosts[];
  readonly overlays: PlannedVxlan[];
}

/** The first subnet of a family among a bridge's addresses. */
function subnetOf(addresses: readonly string[] | undefined, family: 4 | 6): string | undefined {
  for (const a of addresses ?? []) {
    const c = parseCidr(a, "address");
    if (c.family === family) return `${(family === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(c.text).toString()}/${c.prefix}`;
  }
  return undefined;
}

/** IPv4 rules keep the names they had before IPv6 NAT; IPv6 ones add a 6 (`h.masquerade6.br0`, `h.publish6.web.tcp.8080`). */
const natName = (family: 4 | 6, kind: string) => (family === 4 ? kind : `${kind}6`);

const hostRoute = (cidr: string) => {
  const c = parseCidr(cidr, "address");
  return `${c.address}${hostPrefix(c.address)}`;
};

/** Plans every host of a (checked) spec. Resource names are `host.kind.name…`, so editing one entry does not rename others. */
export function planTopology(spec: Spec): HostPlan[] {
  const plans = new Map<string, HostPlan>();
  const plan = (h: string) => {
    let p = plans.get(h);
    if (!p) plans.set(h, (p = { host: h, bridges: [], veths: [], nat: [], hosts: [], overlays: [] }));
    return p;
  };
  for (const h of Object.keys(spec.hosts)) plan(h);
  const bridgeAddrs = new Map<string, string[]>();
  for (const b of spec.bridges ?? []) {
    bridgeAddrs.set(`${b.host}/${b.name}`, b.addresses ?? []);
    plan(b.host).bridges.push({ kind: "bridge", host: b.host, resourceName: `${b.host}.bridge.${b.name}`, name: b.name, addresses: b.addresses ?? [], ...(b.mtu ? { mtu: b.mtu } : {}), ...(b.stp !== undefined ? { stp: b.stp } : {}), ...(b.adopt ? { adopt: true } : {}) });
  }
  // A bridge that joins a VXLAN segment: its container interfaces get the segment's MTU (the smallest, on two) unless they give one.
  const overlayMtu = new Map<string, number>();
  for (const o of spec.overlays ?? []) {
    const mtu = overlayMtuOf(o);
    for (const m of o.members) {
      const key = `${m.host}/${m.bridge}`;
      overlayMtu.set(key, Math.min(mtu, overlayMtu.get(key) ?? mtu));
      plan(m.host).overlays.push({
        kind: "vxlan", host: m.host, resourceName: `${m.host}.overlay.${o.name}`, name: o.ifname ?? `hnvx${o.vni}`, vni: o.vni, local: m.address,
        remotes: o.members.filter((x) => x !== m).map((x) => x.address), bridge: m.bridge, ...(o.port ? { port: o.port } : {}), mtu,
      });
    }
  }
  const targets = new Map<string, { docker: string } | { netns: string }>();
  for (const c of spec.containers ?? []) {
    const target = c.netns ? { netns: c.netns } : { docker: c.docker ?? c.name };
    targets.set(`${c.host}/${c.name}`, target);
    if (c.hosts && c.hosts.length > 0 && !c.netns) {
      plan(c.host).hosts.push({ kind: "hosts", host: c.host, resourceName: `${c.host}.${c.name}.hosts`, container: c.name, target: { docker: c.docker ?? c.name }, entries: hostsEntriesOf(spec, c.host, c.hosts) });
    }
    for (const itf of c.interfaces ?? []) {
      const ifname = itf.ifname ?? "eth0";
      const names = vethNames(c.host, c.name, ifname);
      const mtu = itf.mtu ?? overlayMtu.get(`${c.host}/${itf.bridge}`);
      const base = `${c.host}.${c.name}.${ifname}`;
      plan(c.host).veths.push({
        kind: "veth", host: c.host, pair: false, resourceName: `${base}.veth`, ...names, bridge: itf.bridge,
        attachments: [{ container: c.name, target, end: "peer", ifname, addresses: itf.addresses ?? [], ...(itf.gateway ? { gateway: itf.gateway } : {}), ...(itf.gateway6 ? { gateway6: itf.gateway6 } : {}), routes: itf.routes ?? [], ...(mtu ? { mtu } : {}), resourceName: base }],
      });
    }
  }
  for (const l of spec.links ?? []) {
    const aIf = l.a.ifname ?? "eth0";
    const bIf = l.b.ifname ?? "eth0";
    const names = linkVethNames(l.host, l.a.container, aIf, l.b.container, bIf);
    const base = `${l.host}.link.${l.a.container}.${aIf}-${l.b.container}.${bIf}`;
    const target = (c: string) => targets.get(`${l.host}/${c}`) ?? { docker: c };
    plan(l.host).veths.push({
      kind: "veth", host: l.host, pair: true, resourceName: `${base}.veth`, ...names,
      attachments: [
        { container: l.a.container, target: target(l.a.container), end: "name", ifname: aIf, addresses: l.a.addresses, routes: l.b.addresses.map((a) => ({ to: hostRoute(a) })), resourceName: `${base}.a` },
        { container: l.b.container, target: target(l.b.container), end: "peer", ifname: bIf, addresses: l.b.addresses, routes: l.a.addresses.map((a) => ({ to: hostRoute(a) })), resourceName: `${base}.b` },
      ],
    });
  }
  // Each family the bridge has a subnet of is masqueraded (an IPv4 and an IPv6 rule for a dual-stack bridge).
  for (const m of spec.nat?.masquerade ?? []) {
    for (const family of [4, 6] as const) {
      const source = subnetOf(bridgeAddrs.get(`${m.host}/${m.bridge}`), family);
      if (!source) continue;
      plan(m.host).nat.push({ kind: "nat", host: m.host, resourceName: `${m.host}.${natName(family, "masquerade")}.${m.bridge}`, rule: { kind: "masquerade", source, notOutInterface: m.bridge }, after: [`${m.host}.bridge.${m.bridge}`] });
    }
  }
  // A port is published on each family the container has an address of (like Docker), or on `hostIp`'s family only.
  for (const p of spec.nat?.publish ?? []) {
    const c = (spec.containers ?? []).find((x) => x.host === p.host && x.name === p.container);
    if (!c) continue;
    const families = p.hostIp ? [p.hostIp.includes(":") ? (6 as const) : (4 as const)] : ([4, 6] as const);
    for (const family of families) {
      const t = publishTarget(c, family);
      if (!t) continue;
      const hairpinSource = subnetOf(bridgeAddrs.get(`${p.host}/${t.bridge}`), family) ?? `${t.ip}${hostPrefix(t.ip)}`;
      const port = p.port ?? (typeof p.hostPort === "number" ? p.hostPort : undefined);
      const protocol = p.protocol ?? "tcp";
      const attachment = (c.interfaces ?? []).find((i) => i.bridge === t.bridge);
      const to = bracketed(t.ip);
      plan(p.host).nat.push({
        kind: "nat", host: p.host, resourceName: `${p.host}.${natName(family, "publish")}.${p.container}.${protocol}.${p.hostPort}`,
        rule: { kind: "dnat", protocol, hostPort: p.hostPort, ...(p.hostIp ? { hostIp: p.hostIp } : {}), to: port === undefined ? to : `${to}:${port}`, hairpinSource },
        after: [`${p.host}.${p.container}.${attachment?.ifname ?? "eth0"}`],
      });
    }
  }
  return [...plans.values()];
}

/** The names of every resource the plans declare (what `Topology` registers under its parent). */
export function resourceNamesOf(plans: readonly HostPlan[]): Set<string> {
  const names = new Set<string>();
  for (const p of plans) {
    for (const b of p.bridges) names.add(b.resourceName);
    for (const v of p.veths) {
      if (v.pair) names.add(v.resourceName);
      for (const a of v.attachments) names.add(a.resourceName);
    }
    for (const n of p.nat) names.add(n.resourceName);
    for (const h of p.hosts) names.add(h.resourceName);
    for (const o of p.overlays) names.add(o.resourceName);
  }
  return names;
}
