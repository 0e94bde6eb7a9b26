/** Pure logic of `ContainerAttachment`: validation, diff policy, and the steps inside the container. */
import * as ipaddr from "ipaddr.js";
import { ValidationError } from "../../host/errors";
import { checkConnection, hostIdOf } from "../../host/connection";
import * as ip from "../../linux/ip";
import { checkContainerName, checkIfName, checkMac, checkMtu, checkNetnsName, parseCidr, parseIp } from "../../linux/names";
import { inNetns, moveLinkBack } from "../../linux/netns";
import { LinkState, RouteState, canonicalRouteTo, sortCidrs } from "../../linux/parse";
import { Step } from "../common/steps";
import { Owner, linkMark, ownerFromInput } from "../common/owner";
import { AttachmentInputs, AttachmentOutputs, ContainerRef, RouteInput } from "./args";

function checkContainer(raw: unknown): ContainerRef {
  const c = (raw ?? {}) as Record<string, unknown>;
  const keys = Object.keys(c).filter((k) => c[k] !== undefined);
  if (keys.length !== 1) throw new ValidationError("container", "expected exactly one of { docker: NAME }, { pid: N } or { netns: NAME }");
  if (c.docker !== undefined) {
    return { docker: checkContainerName(c.docker, "container.docker") };
  }
  if (c.pid !== undefined) {
    if (typeof c.pid !== "number" || !Number.isInteger(c.pid) || c.pid < 2) throw new ValidationError("container.pid", `expected a process ID > 1, got ${JSON.stringify(c.pid)}`);
    return { pid: c.pid };
  }
  if (c.netns !== undefined) return { netns: checkNetnsName(c.netns, "container.netns") };
  throw new ValidationError("container", `unknown field ${keys[0]}; expected docker, pid or netns`);
}

/** A short label of the target, used in IDs and messages: `docker:web`, `pid:4242`, `netns:blue`. */
export function containerLabel(c: ContainerRef): string {
  return "docker" in c ? `docker:${c.docker}` : "pid" in c ? `pid:${c.pid}` : `netns:${c.netns}`;
}

/** 4 or 6. */
const familyOf = (ip: string): 4 | 6 => (ip.includes(":") ? 6 : 4);

/** A route as given (`{ to, via? }`) checked and made canonical; throws ValidationError naming `routes[i]`'s field. */
export function canonicalRoute(r: unknown, i: number): RouteInput {
  const o = (r ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== "to" && k !== "via") throw new ValidationError(`routes[${i}].${k}`, "unknown field; expected to and via");
  if (typeof o.to !== "string") throw new ValidationError(`routes[${i}].to`, "expected a destination (CIDR, address or default)");
  let to: string;
  try {
    to = canonicalRouteTo(o.to);
  } catch {
    throw new ValidationError(`routes[${i}].to`, `expected a destination (CIDR, address or default), got ${JSON.stringify(o.to)}`);
  }
  if (o.via === undefined) return { to };
  const via = parseIp(o.via, `routes[${i}].via`);
  // `::/0 via fd00::1` and `default via fd00::1` are one route (the kernel lists both as `default`); a dev route keeps `::/0`, its family.
  if (to === "::/0" && familyOf(via) === 4) throw new ValidationError(`routes[${i}].via`, `${via} is an IPv4 next hop for the IPv6 destination ${o.to}`);
  return { to: to === "::/0" ? "default" : to, via };
}

const routeKey = (r: { to: string; via?: string }) => `${r.to} via ${r.via ?? "-"}`;


/** Validates and normalises raw inputs. */
export function normalizeAttachment(raw: Record<string, unknown>): AttachmentInputs {
  const rawAddrs = raw.addresses ?? [];
  if (!Array.isArray(rawAddrs)) throw new ValidationError("addresses", "expected a list of addresses with prefix");
  const seen = new Set<string>();
  const cidrs = rawAddrs.map((a, i) => {
    const c = parseCidr(a, `addresses[${i}]`);
    if (seen.has(c.address)) throw new ValidationError(`addresses[${i}]`, `address ${c.address} is listed twice`);
    seen.add(c.address);
    return c;
  });
  const out: AttachmentInputs = {
    connection: checkConnection(raw.connection),
    container: checkContainer(raw.container),
    interface: checkIfName(raw.interface, "interface"),
    ifname: raw.ifname === undefined ? "eth0" : checkIfName(raw.ifname, "ifname"),
    addresses: sortCidrs(cidrs.map((c) => c.text)),
    routes: [],
  };
  if (raw.bridge !== undefined && raw.bridge !== null && raw.bridge !== "") {
    out.bridge = checkIfName(raw.bridge, "bridge");
    if (out.bridge === out.interface) throw new ValidationError("bridge", `the host end ${out.interface} cannot be its own bridge`);
  }
  const gatewayOf = (v: unknown, field: "gateway" | "gateway6"): string | undefined => {
    if (v === undefined || v === null || v === "") return undefined;
    const gw = parseIp(v, field);
    const g = ipaddr.parse(gw);
    if (field === "gateway6" && g.kind() !== "ipv6") throw new ValidationError(field, `expected an IPv6 address (the IPv4 default gateway is gateway), got ${gw}`);
    const inside = cidrs.some((c) => {
      const a = ipaddr.parse(c.address);
      return a.kind() === g.kind() && c.prefix < (a.kind() === "ipv4" ? 32 : 128) && g.match(a, c.prefix);
    });
    if (!inside) throw new ValidationError(field, `${gw} is not inside the subnet of any of the addresses (${out.addresses.join(", ") || "none"})`);
    return gw;
  };
  const gateway = gatewayOf(raw.gateway, "gateway");
  if (gateway) out.gateway = gateway;
  const gateway6 = gatewayOf(raw.gateway6, "gateway6");
  if (gateway6) {
    if (gateway && familyOf(gateway) === 6) throw new ValidationError("gateway6", `gateway ${gateway} is already the IPv6 default gateway; give the IPv4 one as gateway and the IPv6 one as gateway6`);
    out.gateway6 = gateway6;
  }
  const rawRoutes = raw.routes ?? [];
  if (!Array.isArray(rawRoutes)) throw new ValidationError("routes", "expected a list of { to, via? }");
  out.routes = rawRoutes.map(canonicalRoute).sort((a, b) => (routeKey(a) < routeKey(b) ? -1 : 1));
  for (const gw of [out.gateway, out.gateway6]) {
    if (gw && out.routes.some((r) => r.to === "default" && r.via && familyOf(r.via) === familyOf(gw))) throw new ValidationError("routes", `an IPv${familyOf(gw)} default route is given twice (${gw === out.gateway ? "gateway" : "gateway6"} and routes)`);
  }
  if (raw.mtu !== undefined) out.mtu = checkMtu(raw.mtu, "mtu");
  if (raw.mac !== undefined) out.mac = checkMac(raw.mac, "mac");
  if (raw.owner !== undefined) out.owner = ownerFromInput(raw.owner).label;
  return out;
}

/** Diff of an attachment. */
export interface AttachmentDiff {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly changed: string[];
}

/** Policy: host, container, interface, ifname and making or not its own pair replace; another bridge re-masters in place; addresses, gateway, routes, MTU and MAC update in place (inside the container). */
export function diffAttachment(olds: Partial<AttachmentOutputs>, news: AttachmentInputs): AttachmentDiff {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const replaces: string[] = [];
  if (olds.connection && hostIdOf(olds.connection) !== hostIdOf(news.connection)) replaces.push("connection");
  if (!same(olds.container, news.container)) replaces.push("container");
  if (olds.interface !== news.interface) replaces.push("interface");
  if (olds.ifname !== news.ifname) replaces.push("ifname");
  // Making its own pair or moving in another's is a different object: switching replaces; another bridge re-masters in place.
  if (Boolean(olds.bridge) !== Boolean(news.bridge)) replaces.push("bridge");
  const changed: string[] = [];
  if (olds.bridge && news.bridge && olds.bridge !== news.bridge) changed.push("bridge");
  for (const f of ["addresses", "gateway", "gateway6", "routes"] as const) if (!same(olds[f], news[f])) changed.push(f);
  for (const f of ["mtu", "mac"] as const) if (news[f] !== undefined && olds[f] !== news[f]) changed.push(f);
  if (olds.present === false) changed.push("present");
  if (news.owner !== undefined && olds.owner !== news.owner) changed.push("owner");
  if (replaces.length === 0 && olds.connection && !same(olds.connection, news.connection)) changed.push("connection");
  return { changes: replaces.length + changed.length > 0, replaces, changed: [...replaces, ...changed] };
}

/** The routes we want inside the container, on `ifname`. */
export function desiredRoutes(d: AttachmentInputs): RouteState[] {
  const out: RouteState[] = d.routes.map((r) => ({ to: r.to, ...(r.via ? { via: r.via } : {}), dev: d.ifname, protocol: "boot" }));
  for (const gw of [d.gateway, d.gateway6]) if (gw) out.push({ to: "default", via: gw, dev: d.ifname, protocol: "boot" });
  return out;
}

/** Routes on `ifname` that someone added (kernel routes of addresses left out). */
export function managedRoutes(routes: readonly RouteState[], ifname: string): RouteState[] {
  return routes.filter((r) => r.dev === ifname && r.protocol !== "kernel" && !r.to.startsWith("fe80:") && r.to !== "ff00::/8");
}

/** Steps that move the host-side interface into the namespace and give it its name (phase 1 of a fresh attach). */
export function planMoveIn(nsPath: string, hostIface: LinkState, d: AttachmentInputs): Step[] {
  const steps: Step[] = [
    {
      description: `move ${hostIface.name} into ${nsPath}`,
      argv: ip.ipLinkSetNetns(hostIface.name, nsPath),
      // A move takes the link down and flushes its addresses; coming back it is brought up again if it was.
      undo: [moveLinkBack(nsPath, hostIface.name), ...(hostIface.up ? [ip.ipLinkSetUp(hostIface.name, true)] : [])],
    },
  ];
  if (d.ifname !== hostIface.name) {
    steps.push({ description: `rename ${hostIface.name} to ${d.ifname}`, argv: inNetns(nsPath, ip.ipLinkRename(hostIface.name, d.ifname)), undo: [inNetns(nsPath, ip.ipLinkSetUp(d.ifname, false)), inNetns(nsPath, ip.ipLinkRename(d.ifname, hostIface.name))] });
  }
  return steps;
}

/** Steps that bring the interface inside the namespace (`inside`) to the desired MTU, MAC, addresses and state, and `lo` up. */
export function planInside(nsPath: string, inside: LinkState, lo: LinkState | undefined, d: AttachmentInputs, routes: readonly RouteState[] = []): Step[] {
  const n = d.ifname;
  const x = (argv: string[]) => inNetns(nsPath, argv);
  const steps: Step[] = [];
  if (d.mtu !== undefined && d.mtu !== inside.mtu) steps.push({ description: `set mtu ${d.mtu}`, argv: x(ip.ipLinkSetMtu(n, d.mtu)), undo: [x(ip.ipLinkSetMtu(n, inside.mtu))] });
  if (d.mac !== undefined && d.mac !== inside.mac) steps.push({ description: `set mac ${d.mac}`, argv: x(ip.ipLinkSetMac(n, d.mac)), undo: [x(ip.ipLinkSetMac(n, inside.mac))] });
  const want = new Set(d.addresses);
  const have = new Set(inside.addresses);
  // Docker turns IPv6 off in the namespaces of --net=none containers (disable_ipv6=1 on `default`, so on every link made or moved
  // there): it is turned on for this interface only, ours, before its first IPv6 address. Nothing to undo: a rollback of a fresh
  // attach takes the interface out of the namespace, and on an existing one IPv6 was needed for the address anyway.
  if (d.addresses.some((a) => !have.has(a) && familyOf(a) === 6)) steps.push({ description: `enable IPv6 on ${n}`, argv: x(enableIpv6(n)), undo: [] });
  // Remove first: deleting a primary address also deletes its secondaries, so a new address added before would vanish.
  // The kernel drops the routes through an address's subnet with it: undo puts the address and those routes back.
  const restoreRoutes = managedRoutes(routes, n).map((r) => x(ip.ipRouteReplace(r)));
  for (const a of inside.addresses) if (!want.has(a)) steps.push({ description: `remove address ${a}`, argv: x(ip.ipAddrDel(n, a)), undo: [x(ip.ipAddrAdd(n, a)), ...restoreRoutes] });
  // An IPv6 address goes when its link is taken down (the undo of `set up`, which runs first): its own undo tolerates that.
  for (const a of d.addresses) if (!have.has(a)) steps.push({ description: `add address ${a}`, argv: x(ip.ipAddrAdd(n, a)), undo: [x(familyOf(a) === 6 ? ip.ipAddrFlushExact(n, a) : ip.ipAddrDel(n, a))] });
  if (!inside.up) steps.push({ description: `set ${n} up`, argv: x(ip.ipLinkSetUp(n, true)), undo: [x(ip.ipLinkSetUp(n, false))] });
  if (lo && !lo.up) steps.push({ description: "set lo up", argv: x(ip.ipLinkSetUp("lo", true)), undo: [x(ip.ipLinkSetUp("lo", false))] });
  return steps;
}

/** Steps that make the routes on `ifname` exactly the desired ones (run after addresses, so gateways are reachable). */
export function planRoutes(nsPath: string, actual: readonly RouteState[], d: AttachmentInputs): Step[] {
  const x = (argv: string[]) => inNetns(nsPath, argv);
  const have = managedRoutes(actual, d.ifname);
  const want = desiredRoutes(d);
  const haveKeys = new Set(have.map(routeKey));
  const wantKeys = new Set(want.map(routeKey));
  const steps: Step[] = [];
  for (const r of have) if (!wantKeys.has(routeKey(r))) steps.push({ description: `remove route ${routeKey(r)}`, argv: x(ip.ipRouteDel(r)), undo: [x(ip.ipRouteAdd(r))] });
  for (const r of want) if (!haveKeys.has(routeKey(r))) steps.push({ description: `add route ${routeKey(r)}`, argv: x(ip.ipRouteAdd(r)), undo: [x(ip.ipRouteDel(r))] });
  return steps;
}

/** What differs inside the container after apply (empty when converged). */
export function verifyInside(inside: LinkState | undefined, routes: readonly RouteState[], d: AttachmentInputs): string[] {
  if (!inside) return [`${d.ifname} is missing`];
  const problems: string[] = [];
  if (JSON.stringify(inside.addresses) !== JSON.stringify(d.addresses)) problems.push(`addresses are ${inside.addresses.join(", ") || "none"}`);
  if (!inside.up) problems.push(`${d.ifname} is down`);
  if (d.mtu !== undefined && inside.mtu !== d.mtu) problems.push(`mtu is ${inside.mtu}`);
  const have = managedRoutes(routes, d.ifname).map(routeKey).sort();
  const want = desiredRoutes(d).map(routeKey).sort();
  if (JSON.stringify(have) !== JSON.stringify(want)) problems.push(`routes are ${have.join(", ") || "none"}`);
  return problems;
}

/** `sysctl -q -w net/ipv6/conf/IF/disable_ipv6=0` (the slash form keeps a dot in an interface name, `eth0.10`, intact). */
export function enableIpv6(ifname: string): string[] {
  return ["sysctl", "-q", "-w", `net/ipv6/conf/${ifname}/disable_ipv6=0`];
}

/** Splits the routes on `ifname` back into gateway(s) and extra routes (for read). */
export function routesAsInputs(routes: readonly RouteState[], ifname: string, gateway?: string, gateway6?: string): { gateway?: string; gateway6?: string; routes: RouteInput[] } {
  const mine = managedRoutes(routes, ifname);
  const defaultOf = (family: 4 | 6) => mine.find((r) => r.to === "default" && r.via && familyOf(r.via) === family);
  // `gateway` is the default route of the family the recorded gateway has (IPv4 when none); `gateway6`, when recorded, the IPv6 one.
  const def = defaultOf(gateway ? familyOf(gateway) : 4);
  const def6 = gateway6 && (!gateway || familyOf(gateway) === 4) ? defaultOf(6) : undefined;
  const rest = mine.filter((r) => r !== def && r !== def6).map((r) => (r.via ? { to: r.to, via: r.via } : { to: r.to }));
  return { ...(def ? { gateway: def.via } : {}), ...(def6 ? { gateway6: def6.via } : {}), routes: rest.sort((a, b) => (routeKey(a) < routeKey(b) ? -1 : 1)) };
}

/** True when the attachment configures anything of IPv6 (an address, the gateway or a route). */
export function wantsIpv6(d: AttachmentInputs): boolean {
  return [...d.addresses, d.gateway ?? "", d.gateway6 ?? "", ...d.routes.flatMap((r) => [r.to, r.via ?? ""])].some((v) => v.includes(":"));
}

/** `lo` as a plan sees it when it was not read: down, so the plan sets it up (a no-op when it is up). */
export const LO_UNREAD: LinkState = { ifindex: 1, name: "lo", kind: "", mtu: 65536, mac: "", up: false, alias: "", addresses: [] };

/** The marks of a pair an attachment makes itself (`bridge` set): its host end and its end inside. */
export interface OwnPairMarks {
  readonly host: string;
  readonly inside: string;
}

/** Marks of the pair whose host end is `hostEnd`, owned by `owner`. */
export function ownPairMarks(owner: Owner, hostEnd: string): OwnPairMarks {
  return { host: linkMark(owner, "attachment", hostEnd), inside: linkMark(owner, "attachment", `${hostEnd}/peer`) };
}

/** The argv of `ip` run inside `nsPath` by {@link inNetns}, without `nsenter … -- ip`; undefined for anything else. */
function ipArgsInside(nsPath: string, argv: readonly string[]): string[] | undefined {
  const wrap = inNetns(nsPath, ["ip"]);
  return wrap.every((t, i) => argv[i] === t) ? argv.slice(wrap.length) : undefined;
}

/**
 * Steps that make an attachment's own veth pair from nothing (`bridge` set),
 * and configure it, as `ip link add … peer name IFNAME netns NS` would by hand:
 * the host end is made on the bridge and up, the container end directly
 * inside the namespace `nsArg` (a PID, or the namespace's path), so nothing is
 * moved or renamed. Both ends are marked, then everything inside (MTU, MAC,
 * addresses, up, `lo` up, routes) runs as one `ip -batch` in the namespace.
 * Deleting the host end (the undo of the first step) takes the whole pair,
 * and whatever was set inside, with it.
 */
export function planOwnPairCreate(nsPath: string, nsArg: string, lo: LinkState | undefined, d: AttachmentInputs, marks: OwnPairMarks): Step[] {
  if (!d.bridge) throw new Error("planOwnPairCreate needs a bridge");
  const h = d.interface;
  const steps: Step[] = [
    {
      description: `create veth ${h} on ${d.bridge} with its peer ${d.ifname} inside ${nsPath}`,
      argv: ip.ipLinkAddVeth(h, d.ifname, { mtu: d.mtu, master: d.bridge, up: true }, { mtu: d.mtu, mac: d.mac, netns: nsArg }),
      undo: [ip.ipLinkDel(h)],
    },
    { description: `mark ${h} as ours`, argv: ip.ipLinkSetAlias(h, marks.host), undo: [] },
  ];
  // What the add leaves inside: the new end, down, without addresses, with the MTU and MAC asked for, and no route through it.
  const made: LinkState = { ifindex: 0, name: d.ifname, kind: "veth", mtu: d.mtu ?? 0, mac: d.mac ?? "", up: false, alias: marks.inside, addresses: [] };
  const inner = [
    { description: `mark ${d.ifname} as ours`, argv: inNetns(nsPath, ip.ipLinkSetAlias(d.ifname, marks.inside)), undo: [] },
    ...planInside(nsPath, made, lo, d, []),
    ...planRoutes(nsPath, [], d),
  ];
  // What is not `ip` (turning IPv6 on) runs first, on its own; the rest as one batch.
  const ipSteps = inner.filter((st) => ipArgsInside(nsPath, st.argv) !== undefined);
  steps.push(...inner.filter((st) => !ipSteps.includes(st)).map((st) => ({ ...st, undo: [] })));
  if (ipSteps.length > 0) {
    const batch = ip.ipBatch(ipSteps.map((st) => ipArgsInside(nsPath, st.argv) as string[]));
    steps.push({ description: `inside ${nsPath}: ${ipSteps.map((st) => st.description).join(", ")}`, argv: inNetns(nsPath, batch.argv), stdin: batch.stdin, undo: [] });
  }
  return steps;
}

/** Steps that bring an attachment's own host end (`actual`) to the desired bridge and MTU, marked and up. */
export function planOwnHostEnd(actual: LinkState, d: AttachmentInputs, marks: OwnPairMarks): Step[] {
  const h = d.interface;
  const steps: Step[] = [];
  if (actual.alias !== marks.host) steps.push({ description: `mark ${h} as ours`, argv: ip.ipLinkSetAlias(h, marks.host), undo: [actual.alias ? ip.ipLinkSetAlias(h, actual.alias) : ip.ipLinkClearAlias(h)] });
  if (d.bridge && actual.master !== d.bridge) {
    steps.push({ description: `attach ${h} to ${d.bridge}`, argv: ip.ipLinkSetMaster(h, d.bridge), undo: [actual.master ? ip.ipLinkSetMaster(h, actual.master) : ip.ipLinkSetNoMaster(h)] });
  }
  if (d.mtu !== undefined && d.mtu !== actual.mtu) steps.push({ description: `set ${h} mtu ${d.mtu}`, argv: ip.ipLinkSetMtu(h, d.mtu), undo: [ip.ipLinkSetMtu(h, actual.mtu)] });
  if (!actual.up) steps.push({ description: `set ${h} up`, argv: ip.ipLinkSetUp(h, true), undo: [ip.ipLinkSetUp(h, false)] });
  return steps;
}

/** What differs on an attachment's own host end after apply (empty when converged). */
export function verifyOwnHostEnd(actual: LinkState | undefined, d: AttachmentInputs, marks: OwnPairMarks): string[] {
  if (!actual) return [`the host end ${d.interface} is missing`];
  const problems: string[] = [];
  if (actual.alias !== marks.host) problems.push(`${d.interface} is not marked as ours`);
  if (actual.master !== d.bridge) problems.push(`${d.interface} is on ${actual.master ?? "no bridge"}, not ${d.bridge}`);
  if (!actual.up) problems.push(`${d.interface} is down`);
  if (d.mtu !== undefined && actual.mtu !== d.mtu) problems.push(`${d.interface} mtu is ${actual.mtu}`);
  return problems;
}
