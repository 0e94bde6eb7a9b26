/** Pure logic of the `Bridge` resource: validation, diff policy, and the steps from actual to desired state. */
import { createHash } from "node:crypto";
import * as ipaddr from "ipaddr.js";
import { ValidationError } from "../../host/errors";
import { ConnectionSpec, checkConnection, hostIdOf } from "../../host/connection";
import * as ip from "../../linux/ip";
import { checkBool, checkIfName, checkMac, checkMtu, parseCidr } from "../../linux/names";
import { LinkState, sortCidrs } from "../../linux/parse";
import { Step } from "../common/steps";
import { NO_OWNER, Owner, isMine, otherOwner, ownerFromInput } from "../common/owner";
import { BridgeInputs, BridgeOutputs } from "./args";

/** Validates raw inputs and returns them normalised (canonical CIDRs, sorted, defaults applied). */
export function normalizeBridge(raw: Record<string, unknown>): BridgeInputs {
  const connection = checkConnection(raw.connection) as ConnectionSpec;
  const name = checkIfName(raw.name, "name");
  const rawAddrs = raw.addresses ?? [];
  if (!Array.isArray(rawAddrs)) throw new ValidationError("addresses", "expected a list of addresses with prefix");
  const seen = new Set<string>();
  const addresses = rawAddrs.map((a, i) => {
    const c = parseCidr(a, `addresses[${i}]`);
    if (seen.has(c.address)) throw new ValidationError(`addresses[${i}]`, `address ${c.address} is listed twice`);
    seen.add(c.address);
    return c.text;
  });
  const out: BridgeInputs = { connection, name, addresses: sortCidrs(addresses), up: true, adopt: false };
  if (raw.mtu !== undefined) out.mtu = checkMtu(raw.mtu, "mtu");
  if (raw.mac !== undefined) out.mac = checkMac(raw.mac, "mac");
  if (raw.stp !== undefined) out.stp = checkBool(raw.stp, "stp");
  if (raw.vlanFiltering !== undefined) out.vlanFiltering = checkBool(raw.vlanFiltering, "vlanFiltering");
  if (raw.up !== undefined) out.up = checkBool(raw.up, "up");
  if (raw.adopt !== undefined) out.adopt = checkBool(raw.adopt, "adopt");
  if (raw.owner !== undefined) out.owner = ownerFromInput(raw.owner).label;
  return out;
}

/** The diff of a bridge: which fields changed and which of those replace it. */
export interface BridgeDiff {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly changed: string[];
  readonly deleteBeforeReplace: boolean;
}

const IN_PLACE = ["addresses", "mtu", "mac", "stp", "vlanFiltering", "up", "adopt", "owner"] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Diff policy: host identity and name replace (delete first, names are unique
 * per host); every other field updates in place. An optional field that is
 * no longer given is left alone rather than reset.
 */
export function diffBridge(olds: Partial<BridgeOutputs>, news: BridgeInputs): BridgeDiff {
  const replaces: string[] = [];
  const changed: string[] = [];
  if (olds.name !== news.name) replaces.push("name");
  if (olds.connection && hostIdOf(olds.connection) !== hostIdOf(news.connection)) replaces.push("connection");
  for (const f of IN_PLACE) {
    if (news[f] === undefined) continue;
    if (!same(olds[f], news[f])) changed.push(f);
  }
  if (replaces.length === 0 && olds.connection && !same(olds.connection, news.connection)) changed.push("connection");
  return { changes: replaces.length + changed.length > 0, replaces, changed: [...replaces, ...changed], deleteBeforeReplace: true };
}

/** Why an existing link of the bridge's name cannot be used, or `undefined` when it can. */
export function ownershipProblem(actual: LinkState, owner: Owner, legacy: readonly string[], adopt: boolean, hostId: string): string | undefined {
  if (actual.kind !== "bridge") return `${actual.name} exists on ${hostId} but is a ${actual.kind || "plain device"}, not a bridge`;
  if (isMine(actual.alias, owner, legacy) || adopt) return undefined;
  const other = otherOwner(actual.alias, owner);
  if (other) return `a bridge named ${actual.name} already exists on ${hostId} and belongs to another hostnet ${other} (alias ${JSON.stringify(actual.alias)}); choose another name, or destroy it in that stack first`;
  return `a bridge named ${actual.name} already exists on ${hostId} and is not managed by this resource (alias ${JSON.stringify(actual.alias)}); set adopt: true to take it over`;
}

/**
 * The MAC a bridge gets when none is given: locally administered, unicast,
 * derived from the host and the bridge's mark, so it is the same every time
 * this stack makes this bridge on this host. A bridge whose MAC is not set
 * takes the lowest MAC of its ports, so adding a container whose veth happens
 * to sort lower changes the gateway's MAC under every other container, which
 * then cannot reach it until its ARP entry expires (Docker and
 * systemd-networkd set a bridge MAC for the same reason).
 */
export function stableBridgeMac(hostId: string, mark: string): string {
  const h = createHash("sha256").update(`${hostId}\n${mark}`).digest();
  h[0] = (h[0] & 0xfc) | 0x02;
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * Steps that turn `actual` (undefined: absent) into `desired`, each with its
 * undo. A new bridge gets `defaultMac` unless the inputs give one.
 */
export function planBridge(actual: LinkState | undefined, desired: BridgeInputs, mark: string, defaultMac?: string): Step[] {
  const n = desired.name;
  const steps: Step[] = [];
  if (!actual) {
    const mac = desired.mac ?? defaultMac;
    steps.push({ description: `create bridge ${n}`, argv: ip.ipLinkAddBridge(n, { ...desired, ...(mac ? { mac } : {}) }), undo: [ip.ipLinkDel(n)] });
    steps.push({ description: `mark ${n} as ours`, argv: ip.ipLinkSetAlias(n, mark), undo: [] });
    for (const a of desired.addresses) steps.push({ description: `add address ${a}`, argv: ip.ipAddrAdd(n, a), undo: [] });
    if (desired.up) steps.push({ description: `set ${n} up`, argv: ip.ipLinkSetUp(n, true), undo: [] });
    return steps;
  }
  if (actual.alias !== mark) {
    steps.push({ description: `mark ${n} as ours`, argv: ip.ipLinkSetAlias(n, mark), undo: [actual.alias ? ip.ipLinkSetAlias(n, actual.alias) : ip.ipLinkClearAlias(n)] });
  }
  if (desired.mtu !== undefined && desired.mtu !== actual.mtu) {
    steps.push({ description: `set mtu ${desired.mtu}`, argv: ip.ipLinkSetMtu(n, desired.mtu), undo: [ip.ipLinkSetMtu(n, actual.mtu)] });
  }
  if (desired.mac !== undefined && desired.mac !== actual.mac) {
    steps.push({ description: `set mac ${desired.mac}`, argv: ip.ipLinkSetMac(n, desired.mac), undo: [ip.ipLinkSetMac(n, actual.mac)] });
  }
  if (desired.stp !== undefined && desired.stp !== actual.stp) {
    steps.push({ description: `set stp ${desired.stp}`, argv: ip.ipLinkSetBridgeStp(n, desired.stp), undo: [ip.ipLinkSetBridgeStp(n, !desired.stp)] });
  }
  if (desired.vlanFiltering !== undefined && desired.vlanFiltering !== actual.vlanFiltering) {
    steps.push({ description: `set vlan_filtering ${desired.vlanFiltering}`, argv: ip.ipLinkSetBridgeVlanFiltering(n, desired.vlanFiltering), undo: [ip.ipLinkSetBridgeVlanFiltering(n, !desired.vlanFiltering)] });
  }
  const want = new Set(desired.addresses);
  const have = new Set(actual.addresses);
  for (const a of desired.addresses) if (!have.has(a)) steps.push({ description: `add address ${a}`, argv: ip.ipAddrAdd(n, a), undo: [ip.ipAddrDel(n, a)] });
  for (const a of actual.addresses) if (!want.has(a)) steps.push({ description: `remove address ${a}`, argv: ip.ipAddrDel(n, a), undo: [ip.ipAddrAdd(n, a)] });
  if (desired.up !== actual.up) steps.push({ description: `set ${n} ${desired.up ? "up" : "down"}`, argv: ip.ipLinkSetUp(n, desired.up), undo: [ip.ipLinkSetUp(n, actual.up)] });
  return steps;
}

/** What differs between the desired bridge and the kernel's after apply (empty when converged). */
export function verifyBridge(actual: LinkState | undefined, desired: BridgeInputs, mark: string): string[] {
  if (!actual) return [`${desired.name} is missing after apply`];
  const problems: string[] = [];
  if (actual.kind !== "bridge") problems.push(`kind is ${actual.kind}`);
  if (actual.alias !== mark) problems.push(`alias is ${JSON.stringify(actual.alias)}`);
  if (!same(actual.addresses, desired.addresses)) problems.push(`addresses are ${actual.addresses.join(", ") || "none"}`);
  if (desired.mtu !== undefined && actual.mtu !== desired.mtu) problems.push(`mtu is ${actual.mtu}`);
  if (desired.mac !== undefined && actual.mac !== desired.mac) problems.push(`mac is ${actual.mac}`);
  if (actual.up !== desired.up) problems.push(`link is ${actual.up ? "up" : "down"}`);
  return problems;
}

/** The state to record, from the inputs and the link as read back. */
/** The optional fields a bridge may be given; the kernel reports all of them. */
export const BRIDGE_OPTIONAL = ["mtu", "mac", "stp", "vlanFiltering"] as const;

/** The optional fields present in the inputs (what the user manages). */
export function givenFields(inputs: Partial<BridgeInputs>): string[] {
  return BRIDGE_OPTIONAL.filter((f) => inputs[f] !== undefined);
}

export function bridgeOutputs(inputs: BridgeInputs, link: LinkState, hostId: string, adoption: { adopted: boolean; previousAlias: string }, given = givenFields(inputs)): BridgeOutputs {
  return {
    ...inputs,
    given,
    addresses: [...link.addresses],
    mtu: link.mtu,
    mac: link.mac,
    stp: link.stp,
    vlanFiltering: link.vlanFiltering,
    up: link.up,
    hostId,
    ifindex: link.ifindex,
    ...adoption,
  };
}

/**
 * Addresses we would add whose subnet overlaps an address on another link of
 * the host: two links in one subnet make routing ambiguous, so this is refused
 * (as Docker refuses overlapping networks). Returns one message per clash.
 * Links marked by the same stack (`owner`) are left out: that is a rename or
 * re-addressing within the stack, whose old bridge the same run deletes (the
 * spec's semantic check and Topology keep one stack's own subnets apart).
 */
export function subnetClashes(desired: BridgeInputs, links: readonly LinkState[], owner?: Owner): string[] {
  const clashes: string[] = [];
  for (const want of desired.addresses) {
    const [wa, wp] = ipaddr.parseCIDR(want);
    for (const l of links) {
      if (l.name === desired.name) continue;
      if (owner && owner.hash !== NO_OWNER.hash && isMine(l.alias, owner)) continue;
      for (const have of l.addresses) {
        const [ha, hp] = ipaddr.parseCIDR(have);
        if (wa.kind() !== ha.kind()) continue;
        const p = Math.min(wp, hp);
        if (wa.match(ha, p)) clashes.push(`${want} overlaps ${have} on ${l.name}`);
      }
    }
  }
  return clashes;
}
