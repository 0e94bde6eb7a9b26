/**
 * The semantic pass: what JSON Schema cannot say. References resolve, names
 * are unique per host, addresses parse and sit inside their bridge's subnet,
 * gateways inside the interface's subnet, no duplicate address per bridge, no
 * overlapping bridge subnets per host, no port published twice. Pure: returns
 * every problem with its data path.
 */
import * as ipaddr from "ipaddr.js";
import { parseCidr, parseIp } from "../linux/names";
import { canonicalRoute } from "../resources/attachment/plan";
import { parsePortRange } from "../resources/nat/plan";
import { ValidationError } from "../host/errors";
import { DataPath } from "./locate";
import { firstAddressOf } from "./hosts";
import { BridgeSpec, ContainerSpec, OverlaySpec, Spec } from "./types";
import { defaultVxlanMtu } from "../resources/vxlan/plan";

/** A semantic problem at a data path. */
export interface PathProblem {
  readonly path: DataPath;
  readonly message: string;
  /** Point at the key rather than the value. */
  readonly atKey?: boolean;
}

interface Net {
  family: 4 | 6;
  addr: ipaddr.IPv4 | ipaddr.IPv6;
  prefix: number;
  text: string;
}

function net(text: string): Net | undefined {
  try {
    const c = parseCidr(text, "x");
    return { family: c.family, addr: ipaddr.parse(c.address), prefix: c.prefix, text: c.text };
  } catch {
    return undefined;
  }
}

/**
 * Why an IPv4 address cannot be a host's address in its subnet: it is the
 * network or the broadcast address (prefixes up to /30; /31 and /32 have
 * neither). Undefined when it can.
 */
function reserved(n: Net): string | undefined {
  if (n.family !== 4 || n.prefix > 30) return undefined;
  const address = n.addr.toString();
  const network = ipaddr.IPv4.networkAddressFromCIDR(n.text).toString();
  const which = address === network ? "network" : address === ipaddr.IPv4.broadcastAddressFromCIDR(n.text).toString() ? "broadcast" : undefined;
  return which && `${address} is the ${which} address of ${network}/${n.prefix}, not an address a host can take`;
}

/** The message of a validator's error without its `field: ` prefix (the problem's path names the field). */
function reason(e: unknown): string {
  return e instanceof ValidationError ? e.message.slice(e.field.length + 2) : String((e as Error).message ?? e);
}

function inside(ip: ipaddr.IPv4 | ipaddr.IPv6, n: Net): boolean {
  return ip.kind() === n.addr.kind() && ip.match(n.addr, n.prefix);
}

function overlap(a: Net, b: Net): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(a.prefix, b.prefix);
  return a.addr.match(b.addr, p);
}

/** Checks a schema-valid spec and returns every semantic problem. */
export function semanticProblems(spec: Spec): PathProblem[] {
  const problems: PathProblem[] = [];
  const add = (path: DataPath, message: string, atKey = false) => problems.push({ path, message, atKey });
  const hosts = new Set(Object.keys(spec.hosts));
  const hostRef = (path: DataPath, h: string) => {
    if (!hosts.has(h)) add(path, `unknown host "${h}"; expected one of: ${[...hosts].join(", ")}`);
    return hosts.has(h);
  };

  for (const [name, h] of Object.entries(spec.hosts)) {
    const kinds = [h.host !== undefined, h.local === true, h.netns !== undefined].filter(Boolean).length;
    if (kinds !== 1) add(["hosts", name], "expected exactly one of host (SSH), local: true or netns");
    if (h.host !== undefined && !h.hostKey && !h.knownHostsFile && h.insecureIgnoreHostKey !== true) {
      add(["hosts", name], "the SSH host key must be verified: set hostKey or knownHostsFile (or insecureIgnoreHostKey: true for a throw-away host)");
    }
    const secrets = [h.privateKeyFile, h.privateKeyEnv, h.privateKeyConfig].filter((x) => x !== undefined).length;
    if (secrets > 1) add(["hosts", name], "give at most one of privateKeyFile, privateKeyEnv, privateKeyConfig");
    const p = h.proxy;
    if (p !== undefined) {
      if (h.host === undefined) add(["hosts", name, "proxy"], "a jump host is for SSH hosts (host:), not local or netns ones", true);
      if (!p.hostKey && !p.knownHostsFile && p.insecureIgnoreHostKey !== true) {
        add(["hosts", name, "proxy"], "the jump host's SSH key must be verified too: set hostKey or knownHostsFile (or insecureIgnoreHostKey: true for a throw-away host)", true);
      }
      if ([p.privateKeyFile, p.privateKeyEnv, p.privateKeyConfig].filter((x) => x !== undefined).length > 1) add(["hosts", name, "proxy"], "give at most one of privateKeyFile, privateKeyEnv, privateKeyConfig", true);
    }
  }

  // Bridges: unique names per host, parsable addresses, no overlapping subnets per host.
  const bridges = new Map<string, { spec: BridgeSpec; index: number; nets: Net[] }>();
  (spec.bridges ?? []).forEach((b, i) => {
    if (!hostRef(["bridges", i, "host"], b.host)) return;
    const key = `${b.host}/${b.name}`;
    if (bridges.has(key)) add(["bridges", i, "name"], `bridge ${b.name} is declared twice on host ${b.host} (first at bridges[${bridges.get(key)?.index}])`);
    const nets: Net[] = [];
    (b.addresses ?? []).forEach((a, j) => {
      const n = net(a);
      if (!n) add(["bridges", i, "addresses", j], `expected an address with prefix such as 172.16.0.1/16, got "${a}"`);
      else {
        const why = reserved(n);
        if (why) add(["bridges", i, "addresses", j], why);
        nets.push(n);
      }
    });
    for (const [otherKey, other] of bridges) {
      if (!otherKey.startsWith(`${b.host}/`) || otherKey === key) continue;
      for (const n of nets) for (const o of other.nets) if (overlap(n, o)) add(["bridges", i, "addresses"], `subnet ${n.text} overlaps ${o.text} of bridge ${other.spec.name} on host ${b.host}`);
    }
    if (!bridges.has(key)) bridges.set(key, { spec: b, index: i, nets });
  });

  // Containers: unique per host, interfaces on existing bridges with addresses inside their subnets.
  const containers = new Map<string, { spec: ContainerSpec; index: number }>();
  const ifnames = new Map<string, string>();
  const addressesOnBridge = new Map<string, string>();
  for (const b of bridges.values()) for (const n of b.nets) addressesOnBridge.set(`${b.spec.host}/${b.spec.name}/${n.addr.toString()}`, `bridge ${b.spec.name}`);
  const claimIfname = (path: DataPath, host: string, container: string, ifname: string) => {
    const key = `${host}/${container}/${ifname}`;
    const prev = ifnames.get(key);
    if (prev) add(path, `interface ${ifname} of container ${container} is declared twice (also at ${prev})`);
    else ifnames.set(key, path.map(String).join("."));
  };
  (spec.containers ?? []).forEach((c, i) => {
    if (!hostRef(["containers", i, "host"], c.host)) return;
    const key = `${c.host}/${c.name}`;
    if (containers.has(key)) add(["containers", i, "name"], `container ${c.name} is declared twice on host ${c.host} (first at containers[${containers.get(key)?.index}])`);
    else containers.set(key, { spec: c, index: i });
    if (c.docker !== undefined && c.netns !== undefined) add(["containers", i], "give docker or netns, not both");
    (c.interfaces ?? []).forEach((itf, j) => {
      const at: DataPath = ["containers", i, "interfaces", j];
      claimIfname([...at, "ifname"], c.host, c.name, itf.ifname ?? "eth0");
      const br = bridges.get(`${c.host}/${itf.bridge}`);
      if (!br) {
        add([...at, "bridge"], `unknown bridge "${itf.bridge}" on host ${c.host}`);
        return;
      }
      const mine: Net[] = [];
      (itf.addresses ?? []).forEach((a, k) => {
        const n = net(a);
        if (!n) return add([...at, "addresses", k], `expected an address with prefix such as 172.16.0.2/16, got "${a}"`);
        mine.push(n);
        const why = reserved(n);
        if (why) add([...at, "addresses", k], why);
        if (br.nets.length > 0 && !br.nets.some((bn) => inside(n.addr, bn) && n.prefix === bn.prefix)) {
          add([...at, "addresses", k], `${n.text} is not inside the subnet of bridge ${itf.bridge} (${br.nets.map((x) => x.text).join(", ")})`);
        }
        const dupKey = `${c.host}/${itf.bridge}/${n.addr.toString()}`;
        const prev = addressesOnBridge.get(dupKey);
        if (prev) add([...at, "addresses", k], `address ${n.addr.toString()} on bridge ${itf.bridge} is already used by ${prev}`);
        else addressesOnBridge.set(dupKey, `container ${c.name}`);
      });
      for (const field of ["gateway", "gateway6"] as const) {
        const given = itf[field];
        if (given === undefined) continue;
        let gw: ipaddr.IPv4 | ipaddr.IPv6 | undefined;
        try {
          gw = ipaddr.parse(parseIp(given, field));
        } catch {
          add([...at, field], `expected an ${field === "gateway" ? "IPv4 or IPv6" : "IPv6"} address, got "${given}"`);
        }
        if (gw && field === "gateway6" && gw.kind() !== "ipv6") add([...at, field], `expected an IPv6 address (the IPv4 default gateway is gateway), got "${given}"`);
        else if (gw && field === "gateway6" && itf.gateway?.includes(":")) add([...at, field], `gateway ${itf.gateway} is already the IPv6 default gateway; give the IPv4 one as gateway and the IPv6 one as gateway6`);
        else if (gw && !mine.some((n) => inside(gw as ipaddr.IPv4, n))) add([...at, field], `${field} ${given} is not inside the subnet of the interface's addresses (${mine.map((x) => x.text).join(", ") || "none"})`);
      }
      (itf.routes ?? []).forEach((r, k) => {
        let route;
        try {
          route = canonicalRoute(r, k);
        } catch (e) {
          return add([...at, "routes", k, e instanceof ValidationError && e.field.endsWith(".via") ? "via" : "to"], reason(e));
        }
        const via = route.via;
        if (via !== undefined && !mine.some((n) => inside(ipaddr.parse(via), n))) add([...at, "routes", k, "via"], `next hop ${via} is not inside the subnet of the interface's addresses (${mine.map((x) => x.text).join(", ") || "none"})`);
      });
    });
  });

  (spec.links ?? []).forEach((l, i) => {
    if (!hostRef(["links", i, "host"], l.host)) return;
    for (const end of ["a", "b"] as const) {
      const e = l[end];
      if (!containers.has(`${l.host}/${e.container}`)) add(["links", i, end, "container"], `unknown container "${e.container}" on host ${l.host}`);
      claimIfname(["links", i, end, "ifname"], l.host, e.container, e.ifname ?? "eth0");
      e.addresses.forEach((a, k) => {
        if (!net(a)) add(["links", i, end, "addresses", k], `expected an address with prefix such as 10.0.0.1/32, got "${a}"`);
      });
    }
    if (l.a.container === l.b.container) add(["links", i, "b", "container"], "a link joins two different containers");
  });

  (spec.nat?.masquerade ?? []).forEach((m, i) => {
    if (!hostRef(["nat", "masquerade", i, "host"], m.host)) return;
    const br = bridges.get(`${m.host}/${m.bridge}`);
    if (!br) add(["nat", "masquerade", i, "bridge"], `unknown bridge "${m.bridge}" on host ${m.host}`);
    else if (br.nets.length === 0) add(["nat", "masquerade", i, "bridge"], `bridge ${m.bridge} has no subnet to masquerade (give it addresses)`);
  });

  // Published ports per host and protocol (a spec may publish thousands).
  const published = new Map<string, { ip: string; from: number; to: number; index: number }[]>();
  (spec.nat?.publish ?? []).forEach((p, i) => {
    if (!hostRef(["nat", "publish", i, "host"], p.host)) return;
    const c = containers.get(`${p.host}/${p.container}`);
    if (!c) add(["nat", "publish", i, "container"], `unknown container "${p.container}" on host ${p.host}`);
    else if (!publishTarget(c.spec)) add(["nat", "publish", i, "container"], `container ${p.container} has no address on a bridge to publish to`);
    let range;
    try {
      range = parsePortRange(p.hostPort, "hostPort");
    } catch (e) {
      return add(["nat", "publish", i, "hostPort"], reason(e));
    }
    if (p.hostIp !== undefined) {
      let hostIp: string | undefined;
      try {
        hostIp = parseIp(p.hostIp, "hostIp");
      } catch {
        add(["nat", "publish", i, "hostIp"], `expected an IPv4 or IPv6 address of the host, got "${p.hostIp}"`);
      }
      const family = hostIp?.includes(":") ? 6 : 4;
      if (hostIp !== undefined && c && publishTarget(c.spec) && !publishTarget(c.spec, family)) add(["nat", "publish", i, "hostIp"], `${hostIp} is an IPv${family} address, and container ${p.container} has no IPv${family} address on a bridge to publish to`);
    }
    const proto = p.protocol ?? "tcp";
    const ip = p.hostIp ?? "*";
    const key = `${p.host}/${proto}`;
    const same = published.get(key) ?? [];
    if (same.length === 0) published.set(key, same);
    const clash = same.find((q) => (q.ip === ip || q.ip === "*" || ip === "*") && q.from <= range.to && range.from <= q.to);
    if (clash) add(["nat", "publish", i, "hostPort"], `${proto} port ${p.hostPort} on host ${p.host} is already published by nat.publish[${clash.index}]`);
    same.push({ ip, from: range.from, to: range.to, index: i });
  });

  // Names (S4): a Docker container's hosts entries name containers of its host that have an address, or valid addresses.
  (spec.containers ?? []).forEach((c, i) => {
    if (!c.hosts || c.hosts.length === 0) return;
    if (c.netns) add(["containers", i, "hosts"], `hosts entries go into a Docker container's /etc/hosts; ${c.name} is the named namespace ${c.netns}, which has none`, true);
    const seen = new Set<string>();
    c.hosts.forEach((e, j) => {
      const name = typeof e === "string" ? e : e.name;
      if (seen.has(name)) add(["containers", i, "hosts", j], `the name ${name} is listed twice`);
      seen.add(name);
      if (typeof e !== "string") {
        if (!ipaddr.isValid(e.address)) add(["containers", i, "hosts", j, "address"], `expected an IPv4 or IPv6 address, got "${e.address}"`);
        return;
      }
      if (e === c.name) add(["containers", i, "hosts", j], `${c.name} would name itself; Docker already writes its own name there`);
      else if (!(spec.containers ?? []).some((x) => x.host === c.host && x.name === e)) add(["containers", i, "hosts", j], `unknown container "${e}" on host ${c.host}; for another name give { name, address }`);
      else if (firstAddressOf(spec, c.host, e) === undefined) add(["containers", i, "hosts", j], `container ${e} has no address in the spec to name`);
    });
  });
  // Overlays (VXLAN): unique names and VNIs; each member a host of the spec once, with a parsable underlay address of one family and a bridge there.
  const overlayNames = new Map<string, number>();
  const vnis = new Map<number, number>();
  (spec.overlays ?? []).forEach((o, i) => {
    if (overlayNames.has(o.name)) add(["overlays", i, "name"], `overlay ${o.name} is declared twice (first at overlays[${overlayNames.get(o.name)}])`);
    else overlayNames.set(o.name, i);
    if (vnis.has(o.vni)) add(["overlays", i, "vni"], `VNI ${o.vni} is already used by overlays[${vnis.get(o.vni)}]`);
    else vnis.set(o.vni, i);
    const mtu = overlayMtuOf(o);
    const members = new Map<string, number>();
    const addresses = new Map<string, number>();
    let family: number | undefined;
    o.members.forEach((m, j) => {
      const at: DataPath = ["overlays", i, "members", j];
      if (!hostRef([...at, "host"], m.host)) return;
      if (members.has(m.host)) add([...at, "host"], `host ${m.host} is a member twice (also members[${members.get(m.host)}])`);
      else members.set(m.host, j);
      let address: string | undefined;
      try {
        address = parseIp(m.address, "address");
      } catch {
        add([...at, "address"], `expected the host's underlay address (IPv4 or IPv6), got "${m.address}"`);
      }
      if (address !== undefined) {
        const f = address.includes(":") ? 6 : 4;
        if (family !== undefined && f !== family) add([...at, "address"], `${address} is not of the family of the other members' addresses`);
        family ??= f;
        if (addresses.has(address)) add([...at, "address"], `${address} is already the address of members[${addresses.get(address)}]`);
        else addresses.set(address, j);
      }
      if (!bridges.has(`${m.host}/${m.bridge}`)) add([...at, "bridge"], `unknown bridge "${m.bridge}" on host ${m.host}`);
    });
    // Frames the tunnel cannot carry are dropped silently: a container interface on a member bridge must not send bigger ones.
    const joined = new Set(o.members.map((m) => `${m.host}/${m.bridge}`));
    (spec.containers ?? []).forEach((c, k) => {
      (c.interfaces ?? []).forEach((itf, l) => {
        if (joined.has(`${c.host}/${itf.bridge}`) && itf.mtu !== undefined && itf.mtu > mtu) {
          add(["containers", k, "interfaces", l, "mtu"], `${itf.mtu} is more than overlay ${o.name} carries (mtu ${mtu}) across bridge ${itf.bridge}; give ${mtu} or less, or leave it out to get ${mtu}`);
        }
      });
    });
  });
  return problems;
}

/** A segment's MTU: as given, else what a 1500-byte underlay of its members' family carries. */
export function overlayMtuOf(o: OverlaySpec): number {
  return o.mtu ?? defaultVxlanMtu(o.members[0]?.address ?? "");
}

/** The address and bridge a published port goes to: the container's first address (of `family`, when given) on a bridge. */
export function publishTarget(c: ContainerSpec, family?: 4 | 6): { ip: string; bridge: string } | undefined {
  for (const itf of c.interfaces ?? []) {
    for (const a of itf.addresses ?? []) {
      const n = net(a);
      if (n && (family === undefined || n.family === family)) return { ip: n.addr.toString(), bridge: itf.bridge };
    }
  }
  return undefined;
}
