/** argv builders for `ip` and `bridge`. Pure: each returns a fresh array and runs nothing. */

/** Reads every link with details and addresses: `ip -j -d addr show`. */
export function ipAddrShowAll(): string[] {
  return ["ip", "-j", "-d", "addr", "show"];
}

/** Reads one link with details and addresses. */
export function ipAddrShowDev(name: string): string[] {
  return ["ip", "-j", "-d", "addr", "show", "dev", name];
}

/** Options of a new bridge. */
export interface BridgeLinkOptions {
  readonly mtu?: number;
  readonly mac?: string;
  readonly stp?: boolean;
  readonly vlanFiltering?: boolean;
}

/** `ip link add NAME type bridge [stp_state N] [vlan_filtering N]` with mtu/address when given. */
export function ipLinkAddBridge(name: string, o: BridgeLinkOptions = {}): string[] {
  const argv = ["ip", "link", "add", "name", name];
  if (o.mtu !== undefined) argv.push("mtu", String(o.mtu));
  if (o.mac !== undefined) argv.push("address", o.mac);
  argv.push("type", "bridge");
  if (o.stp !== undefined) argv.push("stp_state", o.stp ? "1" : "0");
  if (o.vlanFiltering !== undefined) argv.push("vlan_filtering", o.vlanFiltering ? "1" : "0");
  return argv;
}

/** `ip link set dev NAME type bridge stp_state N`. */
export function ipLinkSetBridgeStp(name: string, on: boolean): string[] {
  return ["ip", "link", "set", "dev", name, "type", "bridge", "stp_state", on ? "1" : "0"];
}

/** `ip link set dev NAME type bridge vlan_filtering N`. */
export function ipLinkSetBridgeVlanFiltering(name: string, on: boolean): string[] {
  return ["ip", "link", "set", "dev", name, "type", "bridge", "vlan_filtering", on ? "1" : "0"];
}

/** `ip link del dev NAME`. */
export function ipLinkDel(name: string): string[] {
  return ["ip", "link", "del", "dev", name];
}

/**
 * `ip -batch -`: the lines (each an `ip` command without the leading `ip`)
 * for one process to run in order, stopping at the first that fails
 * ("Command failed -:LINE" names it). Every token must be a validated value
 * without quotes, backslashes, `#` or line breaks; one holding blanks (a link
 * alias) goes in double quotes, which the batch reader keeps together.
 */
export function ipBatch(lines: readonly (readonly string[])[]): { argv: string[]; stdin: string } {
  return { argv: ["ip", "-batch", "-"], stdin: batchText(lines) };
}

/**
 * `ip -j -d -batch -` for reads: each line's JSON result on a line of its
 * own, in order (see {@link jsonLines}); stops at the first that fails. Only
 * `addr|link|route show …` lines are accepted: a `-j` batch is a read by
 * construction, which is how readonly.ts can tell it from a change without
 * seeing its stdin.
 */
export function ipJsonBatch(lines: readonly (readonly string[])[]): { argv: string[]; stdin: string } {
  for (const l of lines) if (!["addr", "link", "route"].includes(l[0] ?? "") || l[1] !== "show") throw new Error(`ip -j batch line ${JSON.stringify(l.join(" "))} is not a read (addr|link|route show)`);
  return { argv: ["ip", "-j", "-d", "-batch", "-"], stdin: batchText(lines) };
}

function batchText(lines: readonly (readonly string[])[]): string {
  const token = (t: string) => {
    if (t === "" || /["'#\\\r\n]/.test(t) || t.trim() !== t) throw new Error(`ip -batch token ${JSON.stringify(t)} is empty, holds a quote, backslash, # or line break, or starts or ends with a blank`);
    return /\s/.test(t) ? `"${t}"` : t;
  };
  return lines.map((l) => l.map(token).join(" ") + "\n").join("");
}

/** The JSON values an `ip -j -batch` printed, one per line, parsed (blank lines skipped). */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as unknown);
}

/** `ip neigh flush dev NAME`: forgets the link's cached neighbours (their MACs are learned again at the next packet). */
export function ipNeighFlush(name: string): string[] {
  return ["ip", "neigh", "flush", "dev", name];
}

/**
 * `ip addr flush dev NAME to ADDR/128`: removes exactly that IPv6 address, and
 * succeeds when it is already gone (a link taken down loses its IPv6
 * addresses, so an undo that runs after the link's own undo finds none).
 */
export function ipAddrFlushExact(name: string, cidr: string): string[] {
  const address = cidr.split("/")[0];
  return ["ip", "addr", "flush", "dev", name, "to", `${address}/${address.includes(":") ? 128 : 32}`];
}

/** `ip link set dev NAME up|down`. */
export function ipLinkSetUp(name: string, up: boolean): string[] {
  return ["ip", "link", "set", "dev", name, up ? "up" : "down"];
}

/** `ip link set dev NAME mtu N`. */
export function ipLinkSetMtu(name: string, mtu: number): string[] {
  return ["ip", "link", "set", "dev", name, "mtu", String(mtu)];
}

/** `ip link set dev NAME address MAC`. */
export function ipLinkSetMac(name: string, mac: string): string[] {
  return ["ip", "link", "set", "dev", name, "address", mac];
}

/** `ip link set dev NAME alias TEXT` (our ownership mark). */
export function ipLinkSetAlias(name: string, alias: string): string[] {
  return ["ip", "link", "set", "dev", name, "alias", alias];
}

/** Clears a link's alias (`ip link set dev NAME alias ""`). */
export function ipLinkClearAlias(name: string): string[] {
  return ["ip", "link", "set", "dev", name, "alias", ""];
}

/** `ip addr add CIDR dev NAME` (`nodad` for IPv6 so the address is usable at once). */
export function ipAddrAdd(name: string, cidr: string): string[] {
  const argv = ["ip", "addr", "add", cidr, "dev", name];
  if (cidr.includes(":")) argv.push("nodad");
  return argv;
}

/** `ip addr del CIDR dev NAME`. */
export function ipAddrDel(name: string, cidr: string): string[] {
  return ["ip", "addr", "del", cidr, "dev", name];
}

/** Options of one end of a new veth pair. */
export interface VethEndOptions {
  readonly mtu?: number;
  readonly mac?: string;
  /** A bridge to enslave the end to as it is made (host end only). */
  readonly master?: string;
  /** Bring the end up as it is made (host end only). */
  readonly up?: boolean;
  /** Make the end directly in this namespace: a PID, a name under /run/netns, or a path (peer end only). */
  readonly netns?: string;
}

/**
 * `ip link add name NAME [mtu] [address] [master BR] [up] type veth peer name
 * PEER [mtu] [address] [netns NS]`: the kernel enslaves and raises the new end
 * and creates the peer inside NS in the same request.
 */
export function ipLinkAddVeth(name: string, peer: string, o: VethEndOptions = {}, p: VethEndOptions = {}): string[] {
  const argv = ["ip", "link", "add", "name", name];
  if (o.mtu !== undefined) argv.push("mtu", String(o.mtu));
  if (o.mac !== undefined) argv.push("address", o.mac);
  if (o.master !== undefined) argv.push("master", o.master);
  if (o.up) argv.push("up");
  argv.push("type", "veth", "peer", "name", peer);
  if (p.mtu !== undefined) argv.push("mtu", String(p.mtu));
  if (p.mac !== undefined) argv.push("address", p.mac);
  if (p.netns !== undefined) argv.push("netns", p.netns);
  return argv;
}

/** `ip link set dev NAME master BRIDGE`. */
export function ipLinkSetMaster(name: string, bridge: string): string[] {
  return ["ip", "link", "set", "dev", name, "master", bridge];
}

/** `ip link set dev NAME nomaster`. */
export function ipLinkSetNoMaster(name: string): string[] {
  return ["ip", "link", "set", "dev", name, "nomaster"];
}

/** `ip link set dev NAME netns TARGET` (a PID, a name under /run/netns, or a path). */
export function ipLinkSetNetns(name: string, target: string): string[] {
  return ["ip", "link", "set", "dev", name, "netns", target];
}

/** `ip link set dev OLD name NEW` (the link must be down). */
export function ipLinkRename(oldName: string, newName: string): string[] {
  return ["ip", "link", "set", "dev", oldName, "name", newName];
}

/** A route to add or remove. */
export interface RouteSpec {
  /** `default` or a canonical CIDR. */
  readonly to: string;
  readonly via?: string;
  readonly dev: string;
}

/** `ip route add TO [via VIA] dev DEV`. */
export function ipRouteAdd(r: RouteSpec): string[] {
  const argv = ["ip", "route", "add", r.to];
  if (r.via) argv.push("via", r.via);
  argv.push("dev", r.dev);
  return argv;
}

/** `ip route replace TO [via VIA] dev DEV` (adds, or leaves an equal route as it is). */
export function ipRouteReplace(r: RouteSpec): string[] {
  const argv = ["ip", "route", "replace", r.to];
  if (r.via) argv.push("via", r.via);
  argv.push("dev", r.dev);
  return argv;
}

/** `ip route del TO [via VIA] dev DEV`. */
export function ipRouteDel(r: RouteSpec): string[] {
  const argv = ["ip", "route", "del", r.to];
  if (r.via) argv.push("via", r.via);
  argv.push("dev", r.dev);
  return argv;
}

/**
 * Deletes link NAME only when its alias is exactly MARK, in one command: a
 * constant script with the values as positional parameters. Prints `absent`
 * when there is no such link (exit 0), `deleted` when it deleted it (exit
 * 0); exits 3, naming the alias on stderr, when the link is not marked so.
 */
export function ipLinkDelIfMarked(name: string, mark: string): string[] {
  const script = 'a=$(cat "/sys/class/net/$1/ifalias" 2>/dev/null) || { echo absent; exit 0; }; [ "$a" = "$2" ] || { echo "$1 carries alias \\"$a\\", not ours" >&2; exit 3; }; ip link del dev "$1" && echo deleted';
  return ["sh", "-c", script, "sh", name, mark];
}

/** `ip link add NAME type vxlan id VNI local LOCAL dstport PORT dev UNDERLAY` (learning on: unicast MACs are learnt from what comes in). */
export function ipLinkAddVxlan(name: string, vni: number, local: string, port: number, underlay: string): string[] {
  return ["ip", "link", "add", name, "type", "vxlan", "id", String(vni), "local", local, "dstport", String(port), "dev", underlay];
}

/** `ip link set dev NAME mtu MTU master BRIDGE up` (one command). */
export function ipLinkSetMtuMasterUp(name: string, mtu: number, bridge: string): string[] {
  return ["ip", "link", "set", "dev", name, "mtu", String(mtu), "master", bridge, "up"];
}

/** `bridge fdb append|del 00:00:00:00:00:00 dev NAME dst REMOTE`: the static entry that floods broadcast and unknown unicast to a VXLAN member. */
export function bridgeFdbFlood(op: "append" | "del", name: string, remote: string): string[] {
  return ["bridge", "fdb", op, "00:00:00:00:00:00", "dev", name, "dst", remote];
}

/** `bridge fdb del MAC dev NAME dst REMOTE`: one learnt entry of a VXLAN device. */
export function bridgeFdbDel(mac: string, name: string, remote: string): string[] {
  return ["bridge", "fdb", "del", mac, "dev", name, "dst", remote];
}

/** `bridge -j fdb show dev NAME`. */
export function bridgeFdbShow(name: string): string[] {
  return ["bridge", "-j", "fdb", "show", "dev", name];
}
