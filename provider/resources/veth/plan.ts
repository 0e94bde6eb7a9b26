/** Pure logic of `VethPair`: validation, diff policy, steps. */
import { ValidationError } from "../../host/errors";
import { checkConnection, hostIdOf } from "../../host/connection";
import * as ip from "../../linux/ip";
import { checkBool, checkIfName, checkMac, checkMtu } from "../../linux/names";
import { LinkState } from "../../linux/parse";
import { Step } from "../common/steps";
import { NO_OWNER, Owner, linkMark, ownerFromInput } from "../common/owner";
import { VethInputs, VethOutputs } from "./args";

/** Validates and normalises raw inputs. */
export function normalizeVeth(raw: Record<string, unknown>): VethInputs {
  const out: VethInputs = {
    connection: checkConnection(raw.connection),
    name: checkIfName(raw.name, "name"),
    peerName: checkIfName(raw.peerName, "peerName"),
    adopt: raw.adopt === undefined ? false : checkBool(raw.adopt, "adopt"),
  };
  if (out.name === out.peerName) throw new ValidationError("peerName", `must differ from name (${out.name})`);
  if (raw.bridge !== undefined && raw.bridge !== null && raw.bridge !== "") out.bridge = checkIfName(raw.bridge, "bridge");
  if (out.bridge === out.name || out.bridge === out.peerName) throw new ValidationError("bridge", "a veth end cannot be its own bridge");
  if (raw.mtu !== undefined) out.mtu = checkMtu(raw.mtu, "mtu");
  if (raw.mac !== undefined) out.mac = checkMac(raw.mac, "mac");
  if (raw.peerMac !== undefined) out.peerMac = checkMac(raw.peerMac, "peerMac");
  if (raw.owner !== undefined) out.owner = ownerFromInput(raw.owner).label;
  return out;
}

/** Diff of a veth pair. */
export interface VethDiff {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly changed: string[];
}

/**
 * Policy: the names, the peer MAC and the host replace (delete first: names
 * are unique); the bridge is re-mastered in place; MTU and MAC of `name`
 * update in place.
 */
export function diffVeth(olds: Partial<VethOutputs>, news: VethInputs): VethDiff {
  const replaces: string[] = [];
  const changed: string[] = [];
  if (olds.name !== news.name) replaces.push("name");
  if (olds.peerName !== news.peerName) replaces.push("peerName");
  if (news.peerMac !== undefined && olds.peerMac !== news.peerMac) replaces.push("peerMac");
  if (olds.connection && hostIdOf(olds.connection) !== hostIdOf(news.connection)) replaces.push("connection");
  if ((olds.bridge ?? "") !== (news.bridge ?? "")) changed.push("bridge");
  for (const f of ["mtu", "mac"] as const) if (news[f] !== undefined && olds[f] !== news[f]) changed.push(f);
  if (news.adopt !== olds.adopt) changed.push("adopt");
  if (news.owner !== undefined && olds.owner !== news.owner) changed.push("owner");
  if (replaces.length === 0 && olds.connection && JSON.stringify(olds.connection) !== JSON.stringify(news.connection)) changed.push("connection");
  return { changes: replaces.length + changed.length > 0, replaces, changed: [...replaces, ...changed] };
}

/** Ownership aliases of the two ends, for this owner; `legacy` holds the 0.1 marks (`hostnet:<id>`, `hostnet:<id>/peer`), also recognised. */
export interface VethMarks {
  readonly name: string;
  readonly peer: string;
  readonly legacyName: string;
  readonly legacyPeer: string;
}

/** The marks of a pair with this resource ID (`<hostId>/veth/<name>`), owned by `owner`. */
export function vethMarks(id: string, owner: Owner = NO_OWNER): VethMarks {
  const name = id.slice(id.lastIndexOf("/veth/") + "/veth/".length);
  return { name: linkMark(owner, "veth", name), peer: linkMark(owner, "veth", `${name}/peer`), legacyName: `hostnet:${id}`, legacyPeer: `hostnet:${id}/peer` };
}

/** Steps to create the pair from nothing. */
export function planVethCreate(d: VethInputs, marks: VethMarks): Step[] {
  const steps: Step[] = [
    { description: `create veth ${d.name} <-> ${d.peerName}`, argv: ip.ipLinkAddVeth(d.name, d.peerName, { mtu: d.mtu, mac: d.mac }, { mtu: d.mtu, mac: d.peerMac }), undo: [ip.ipLinkDel(d.name)] },
    { description: `mark ${d.name} as ours`, argv: ip.ipLinkSetAlias(d.name, marks.name), undo: [] },
    { description: `mark ${d.peerName} as ours`, argv: ip.ipLinkSetAlias(d.peerName, marks.peer), undo: [] },
  ];
  if (d.bridge) steps.push({ description: `attach ${d.name} to ${d.bridge}`, argv: ip.ipLinkSetMaster(d.name, d.bridge), undo: [] });
  steps.push({ description: `set ${d.name} up`, argv: ip.ipLinkSetUp(d.name, true), undo: [] });
  steps.push({ description: `set ${d.peerName} up`, argv: ip.ipLinkSetUp(d.peerName, true), undo: [] });
  return steps;
}

/** Steps that bring an existing host-side end (`actual`) to the desired bridge, MTU, MAC and marks. */
export function planVethUpdate(actual: LinkState, peer: LinkState | undefined, d: VethInputs, marks: VethMarks): Step[] {
  const n = d.name;
  const steps: Step[] = [];
  if (actual.alias !== marks.name) steps.push({ description: `mark ${n} as ours`, argv: ip.ipLinkSetAlias(n, marks.name), undo: [actual.alias ? ip.ipLinkSetAlias(n, actual.alias) : ip.ipLinkClearAlias(n)] });
  if (peer && peer.alias !== marks.peer) steps.push({ description: `mark ${d.peerName} as ours`, argv: ip.ipLinkSetAlias(d.peerName, marks.peer), undo: [peer.alias ? ip.ipLinkSetAlias(d.peerName, peer.alias) : ip.ipLinkClearAlias(d.peerName)] });
  if ((actual.master ?? "") !== (d.bridge ?? "")) {
    const back = actual.master ? ip.ipLinkSetMaster(n, actual.master) : ip.ipLinkSetNoMaster(n);
    steps.push(d.bridge ? { description: `attach ${n} to ${d.bridge}`, argv: ip.ipLinkSetMaster(n, d.bridge), undo: [back] } : { description: `detach ${n} from ${actual.master}`, argv: ip.ipLinkSetNoMaster(n), undo: [back] });
  }
  if (d.mtu !== undefined && d.mtu !== actual.mtu) steps.push({ description: `set mtu ${d.mtu}`, argv: ip.ipLinkSetMtu(n, d.mtu), undo: [ip.ipLinkSetMtu(n, actual.mtu)] });
  if (peer && d.mtu !== undefined && d.mtu !== peer.mtu) steps.push({ description: `set ${d.peerName} mtu ${d.mtu}`, argv: ip.ipLinkSetMtu(d.peerName, d.mtu), undo: [ip.ipLinkSetMtu(d.peerName, peer.mtu)] });
  if (d.mac !== undefined && d.mac !== actual.mac) steps.push({ description: `set mac ${d.mac}`, argv: ip.ipLinkSetMac(n, d.mac), undo: [ip.ipLinkSetMac(n, actual.mac)] });
  if (!actual.up) steps.push({ description: `set ${n} up`, argv: ip.ipLinkSetUp(n, true), undo: [ip.ipLinkSetUp(n, false)] });
  return steps;
}
