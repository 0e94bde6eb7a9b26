/** Parsers of `ip -j -d addr show` output into normalised link state. Pure. */
import { parseCidr } from "./names";

/** One link as the kernel reports it, normalised for comparison. */
export interface LinkState {
  readonly ifindex: number;
  readonly name: string;
  /** `bridge`, `veth`, … or `""` for plain devices. */
  readonly kind: string;
  readonly mtu: number;
  readonly mac: string;
  /** Administratively up (`UP` flag). */
  readonly up: boolean;
  /** The link alias (`ifalias`), `""` when none. */
  readonly alias: string;
  /** Name of the master (bridge) if enslaved. */
  readonly master?: string;
  /** Bridges only: STP on. */
  readonly stp?: boolean;
  /** Bridges only: VLAN filtering on. */
  readonly vlanFiltering?: boolean;
  /** Global-scope addresses, canonical and sorted (link-local and dynamic ones left out). */
  readonly addresses: readonly string[];
  /** For a veth whose peer is in the same namespace: the peer's name. */
  readonly peer?: string;
  /** For a veth whose peer is in another namespace: the peer's ifindex there. */
  readonly peerIfindex?: number;
  /** Set when the peer of a veth is in another namespace. */
  readonly peerNetnsId?: number;
}

/** A route as the kernel reports it, normalised. */
export interface RouteState {
  /** `default` or a canonical CIDR (host routes get /32 or /128). */
  readonly to: string;
  readonly via?: string;
  readonly dev: string;
  /** `kernel` for routes the kernel made from addresses, `boot`/`static` for added ones. */
  readonly protocol: string;
}

interface RawAddr {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
  dynamic?: boolean;
}
interface RawLink {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  mtu?: number;
  address?: string;
  ifalias?: string;
  master?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: { stp_state?: number; vlan_filtering?: number } };
  addr_info?: RawAddr[];
}

/** Sorts canonical CIDRs: IPv4 before IPv6, then by text. */
export function sortCidrs(list: readonly string[]): string[] {
  return [...list].sort((a, b) => Number(a.includes(":")) - Number(b.includes(":")) || (a < b ? -1 : a > b ? 1 : 0));
}

function addressesOf(raw: RawAddr[] | undefined): string[] {
  const out: string[] = [];
  for (const a of raw ?? []) {
    if (!a.local || a.prefixlen === undefined || a.dynamic) continue;
    if (a.scope === "link" || a.scope === "host") continue;
    out.push(parseCidr(`${a.local}/${a.prefixlen}`, "ip output").text);
  }
  return sortCidrs(out);
}

/** Parses the JSON of `ip -j -d addr show` (or `ip -j -d link show`). */
export function parseLinks(stdout: string): LinkState[] {
  const text = stdout.trim();
  if (text === "") return [];
  const raw = JSON.parse(text) as RawLink[];
  return raw
    .filter((l) => typeof l.ifname === "string")
    .map((l) => {
      const kind = l.linkinfo?.info_kind ?? "";
      const data = l.linkinfo?.info_data;
      return {
        ifindex: l.ifindex ?? 0,
        name: l.ifname as string,
        kind,
        mtu: l.mtu ?? 0,
        mac: (l.address ?? "").toLowerCase(),
        up: (l.flags ?? []).includes("UP"),
        alias: l.ifalias ?? "",
        ...(l.master ? { master: l.master } : {}),
        ...(kind === "bridge" ? { stp: (data?.stp_state ?? 0) !== 0, vlanFiltering: (data?.vlan_filtering ?? 0) !== 0 } : {}),
        addresses: addressesOf(l.addr_info),
        ...(typeof l.link === "string" ? { peer: l.link } : {}),
        ...(l.link_index !== undefined ? { peerIfindex: l.link_index } : {}),
        ...(l.link_netnsid !== undefined ? { peerNetnsId: l.link_netnsid } : {}),
      };
    });
}

interface RawRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  type?: string;
  table?: string;
  /** Router preference: only IPv6 routes have it. */
  pref?: string;
}

/** Canonical route destination: `default`, or a CIDR with an explicit prefix. */
export function canonicalRouteTo(dst: string): string {
  if (dst === "default" || dst === "0.0.0.0/0") return "default";
  const withPrefix = dst.includes("/") ? dst : `${dst}/${dst.includes(":") ? 128 : 32}`;
  return parseCidr(withPrefix, "route").text;
}

/**
 * Parses `ip -j route show` (unicast routes of the main table only: `table
 * all`, which lists both families in one process, names each route's table;
 * `table main` names none).
 */
export function parseRoutes(stdout: string): RouteState[] {
  const text = stdout.trim();
  if (text === "") return [];
  return (JSON.parse(text) as RawRoute[])
    .filter((r) => r.dst && r.dev && (r.type === undefined || r.type === "unicast") && (r.table === undefined || r.table === "main"))
    .map((r) => ({
      // `default` names both families' default; one with no gateway is told apart by `pref`, which only IPv6 routes carry.
      to: r.dst === "default" && !r.gateway && r.pref !== undefined ? "::/0" : canonicalRouteTo(r.dst as string),
      ...(r.gateway ? { via: parseCidr(`${r.gateway}/${r.gateway.includes(":") ? 128 : 32}`, "gateway").address } : {}),
      dev: r.dev as string,
      protocol: r.protocol ?? "boot",
    }));
}
