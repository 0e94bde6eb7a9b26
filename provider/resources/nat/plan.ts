/** Pure logic of `NatRule`: validation, the iptables rules of a spec, and the diff policy. */
import { createHash } from "node:crypto";
import * as ipaddr from "ipaddr.js";
import { ValidationError } from "../../host/errors";
import { checkConnection, hostIdOf } from "../../host/connection";
import { HOSTNET_CHAINS, BuiltinChain, IpFamily, IptRule } from "../../linux/iptables";
import { bracketed, checkIfName, hostPrefix, parseCidr, parseIp } from "../../linux/names";
import { NatInputs, NatOutputs, PortRange } from "./args";
import { Owner, markOf, ownerFromInput, parseMark } from "../common/owner";

function checkPort(n: unknown, field: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) throw new ValidationError(field, `expected a port 1-65535, got ${JSON.stringify(n)}`);
  return n;
}

/** Parses `8080`, `"8080"` or `"9000-9005"`. */
export function parsePortRange(v: unknown, field: string): PortRange {
  if (typeof v === "number") {
    const p = checkPort(v, field);
    return { from: p, to: p };
  }
  const m = typeof v === "string" ? /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v) : null;
  if (!m) throw new ValidationError(field, `expected a port (8080) or a range ("9000-9005"), got ${JSON.stringify(v)}`);
  const from = checkPort(Number(m[1]), field);
  const to = m[2] === undefined ? from : checkPort(Number(m[2]), field);
  if (to < from) throw new ValidationError(field, `range ${from}-${to} is not ordered (expected low-high)`);
  return { from, to };
}

/** The address family of a rule: IPv6 when its addresses are (iptables: `ip6tables`; nftables: `ip6` matches). */
export function natFamily(n: Pick<NatInputs, "source" | "toSource" | "hostIp" | "toIp" | "hairpinSource">): IpFamily {
  return [n.source, n.toSource, n.hostIp, n.toIp, n.hairpinSource].some((a) => a?.includes(":")) ? 6 : 4;
}

function subnet(v: unknown, field: string): string {
  const c = typeof v === "string" && !v.includes("/") ? parseCidr(`${v}${hostPrefix(v)}`, field) : parseCidr(v, field);
  const net = (c.family === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(`${c.address}/${c.prefix}`).toString();
  return `${net}/${c.prefix}`;
}

/** Refuses a rule whose addresses mix the families (one rule is one family's NAT). */
function oneFamily(n: NatInputs): void {
  const fields = ["source", "toSource", "hostIp", "toIp", "hairpinSource"] as const;
  const given = fields.filter((f) => n[f] !== undefined);
  const first = given[0];
  const other = given.find((f) => (n[f] as string).includes(":") !== (n[first] as string).includes(":"));
  const input = (f: (typeof fields)[number]) => (f === "toIp" ? "to" : f);
  if (first && other) throw new ValidationError(input(other), `${n[other]} is not of the family of ${input(first)} ${n[first]}; one rule is IPv4 or IPv6, not both (give one rule per family)`);
}

const ALLOWED: Record<NatInputs["kind"], string[]> = {
  masquerade: ["source", "outInterface", "notOutInterface"],
  snat: ["source", "toSource"],
  dnat: ["protocol", "hostPort", "hostIp", "to", "inInterface", "hairpinSource"],
};
const ALL_FIELDS = ["source", "outInterface", "notOutInterface", "toSource", "protocol", "hostPort", "hostIp", "to", "inInterface", "hairpinSource"];

/** Validates raw inputs for their kind and normalises them (canonical subnets, parsed ports). */
export function normalizeNat(raw: Record<string, unknown>): NatInputs {
  const connection = checkConnection(raw.connection);
  const kind = raw.kind;
  if (kind !== "masquerade" && kind !== "snat" && kind !== "dnat") throw new ValidationError("kind", `expected masquerade, snat or dnat, got ${JSON.stringify(kind)}`);
  for (const f of ALL_FIELDS) {
    if (raw[f] !== undefined && !ALLOWED[kind].includes(f)) throw new ValidationError(f, `not used by a ${kind} rule (it takes ${ALLOWED[kind].join(", ")})`);
  }
  const backend = raw.backend ?? "auto";
  if (backend !== "auto" && backend !== "nft" && backend !== "legacy" && backend !== "nftables") throw new ValidationError("backend", `expected auto, nft, legacy or nftables, got ${JSON.stringify(backend)}`);
  const out: NatInputs = { connection, kind, backend };
  if (kind === "masquerade" || kind === "snat") {
    if (raw.source === undefined) throw new ValidationError("source", `a ${kind} rule needs the source subnet, e.g. 172.16.0.0/16`);
    out.source = subnet(raw.source, "source");
  }
  if (kind === "masquerade") {
    if (raw.outInterface !== undefined) out.outInterface = checkIfName(raw.outInterface, "outInterface");
    if (raw.notOutInterface !== undefined) out.notOutInterface = checkIfName(raw.notOutInterface, "notOutInterface");
    if (out.outInterface && out.notOutInterface) throw new ValidationError("notOutInterface", "give outInterface or notOutInterface, not both");
  }
  if (kind === "snat") {
    if (raw.toSource === undefined) throw new ValidationError("toSource", "an snat rule needs toSource, the address to rewrite the source to");
    out.toSource = parseIp(raw.toSource, "toSource");
  }
  if (kind === "dnat") {
    if (raw.protocol !== "tcp" && raw.protocol !== "udp") throw new ValidationError("protocol", `expected tcp or udp, got ${JSON.stringify(raw.protocol)}`);
    out.protocol = raw.protocol;
    if (raw.hostPort === undefined) throw new ValidationError("hostPort", "a dnat rule needs hostPort (8080) or a range (\"9000-9005\")");
    out.hostPort = parsePortRange(raw.hostPort, "hostPort");
    if (raw.hostIp !== undefined) out.hostIp = parseIp(raw.hostIp, "hostIp");
    if (typeof raw.to !== "string") throw new ValidationError("to", `expected address:port such as 172.16.0.2:80, got ${JSON.stringify(raw.to)}`);
    // 172.16.0.2, 172.16.0.2:80, 172.16.0.2:9000-9005, [fd00::2]:80, fd00::2
    const m = /^\[([^\]]+)\](?::(.+))?$/.exec(raw.to) ?? ((raw.to.match(/:/g) ?? []).length > 1 ? [raw.to, raw.to] : /^([^:]+)(?::(.+))?$/.exec(raw.to));
    out.toIp = parseIp(m?.[1], "to");
    out.toPort = m?.[2] === undefined ? { ...out.hostPort } : parsePortRange(/^\d+$/.test(m[2]) ? Number(m[2]) : m[2], "to");
    const hostSpan = out.hostPort.to - out.hostPort.from;
    const toSpan = out.toPort.to - out.toPort.from;
    if (toSpan !== 0 && toSpan !== hostSpan) throw new ValidationError("to", `the port range ${out.toPort.from}-${out.toPort.to} must be one port or as long as hostPort ${out.hostPort.from}-${out.hostPort.to}`);
    if (raw.inInterface !== undefined) out.inInterface = checkIfName(raw.inInterface, "inInterface");
    if (raw.hairpinSource !== undefined) out.hairpinSource = subnet(raw.hairpinSource, "hairpinSource");
  }
  oneFamily(out);
  if (raw.owner !== undefined) out.owner = ownerFromInput(raw.owner).label;
  return out;
}

/** The fields that make up a rule's identity (everything but the connection's credentials). */
export function identityOf(n: NatInputs): Record<string, unknown> {
  const fields = ["kind", "source", "outInterface", "notOutInterface", "toSource", "protocol", "hostPort", "hostIp", "toIp", "toPort", "inInterface", "hairpinSource", "backend"] as const;
  const out: Record<string, unknown> = { host: hostIdOf(n.connection) };
  for (const f of fields) if (n[f] !== undefined) out[f] = n[f];
  return out;
}

const ruleHash = (n: NatInputs) => createHash("sha256").update(JSON.stringify(identityOf(n))).digest("hex").slice(0, 12);

/** A stable resource ID: host plus a hash of the rule. */
export function natId(hostId: string, n: NatInputs): string {
  return `${hostId}/nat/${n.kind}-${ruleHash(n)}`;
}

/** Longest iptables/nft comment. */
const MAX_COMMENT = 256;

/**
 * The comment that tags the rule's iptables/nft rules: the owner's mark of
 * `nat/<kind>-<hash>`, and for a published port also `/<proto>/<hostIp|any>/<from>-<to>`,
 * so another stack can see which ports are taken (`hostnet:3f2a9c1d:nat/dnat-…/tcp/any/8080-8080 demo/dev`).
 */
export function natTag(owner: Owner, n: NatInputs): string {
  let object = `nat/${n.kind}-${ruleHash(n)}`;
  if (n.kind === "dnat" && n.hostPort) object += `/${n.protocol}/${n.hostIp ?? anyAddress(natFamily(n))}/${n.hostPort.from}-${n.hostPort.to}`;
  return markOf(owner, object, MAX_COMMENT);
}

/** How a tag names "any local address" of a family: `any` (IPv4, as 0.1 wrote it) or `any6`. */
const anyAddress = (family: IpFamily) => (family === 6 ? "any6" : "any");

/** The family of a tag's address field. */
const tagFamily = (hostIp: string): IpFamily => (hostIp === "any6" || hostIp.includes(":") ? 6 : 4);

/** A published port as read back from a tag. */
interface TaggedPort {
  readonly hash: string;
  readonly who: string;
  readonly protocol: string;
  readonly hostIp: string;
  readonly from: number;
  readonly to: number;
}

function taggedPort(tag: string): TaggedPort | undefined {
  const p = parseMark(tag);
  const m = p?.hash ? /^nat\/dnat-[0-9a-f]{12}\/(tcp|udp)\/([^/]+)\/(\d+)-(\d+)$/.exec(p.object) : null;
  if (!p?.hash || !m) return undefined;
  return { hash: p.hash, who: p.label ? `stack ${p.label}` : `stack ${p.hash}`, protocol: m[1], hostIp: m[2], from: Number(m[3]), to: Number(m[4]) };
}

/**
 * A published port of `n` that another stack's rule (among `tags`, read from
 * the host) already publishes: same protocol, overlapping ports, same or any
 * address. Rules of the same owner never clash (a create-before-delete
 * replacement has both for a moment).
 */
export function portClash(tags: Iterable<string>, owner: Owner, n: NatInputs): string | undefined {
  if (n.kind !== "dnat" || !n.hostPort) return undefined;
  const family = natFamily(n);
  const any = anyAddress(family);
  const ip = n.hostIp ?? any;
  for (const t of tags) {
    const o = taggedPort(t);
    // Each family has its own ports: a port published on IPv4 is free on IPv6.
    if (!o || o.hash === owner.hash || o.protocol !== n.protocol || tagFamily(o.hostIp) !== family) continue;
    if (o.hostIp !== ip && o.hostIp !== any && ip !== any) continue;
    if (o.from <= n.hostPort.to && n.hostPort.from <= o.to) {
      const mine = n.hostPort.from === n.hostPort.to ? `${n.hostPort.from}` : `${n.hostPort.from}-${n.hostPort.to}`;
      return `${n.protocol} port ${mine} (address ${ip}) is already published on this host by another hostnet ${o.who} (rule ${JSON.stringify(t)})`;
    }
  }
  return undefined;
}

/** A port range as text: `8080`, or `9000-9005` (`sep` `:` for iptables' `--dport`). */
export const portRangeText = (p: PortRange, sep = "-") => (p.from === p.to ? String(p.from) : `${p.from}${sep}${p.to}`);

/** The iptables rules (nat table) that implement the spec, each tagged with `-m comment --comment TAG`. */
export function natRules(n: NatInputs, tag: string): IptRule[] {
  const comment = ["-m", "comment", "--comment", tag];
  const post = HOSTNET_CHAINS.POSTROUTING;
  if (n.kind === "masquerade") {
    const oif = n.outInterface ? ["-o", n.outInterface] : n.notOutInterface ? ["!", "-o", n.notOutInterface] : [];
    return [{ chain: post, spec: ["-s", n.source as string, ...oif, ...comment, "-j", "MASQUERADE"] }];
  }
  if (n.kind === "snat") return [{ chain: post, spec: ["-s", n.source as string, ...comment, "-j", "SNAT", "--to-source", n.toSource as string] }];
  const hp = n.hostPort as PortRange;
  const tp = n.toPort as PortRange;
  const toIp = n.toIp as string;
  const dest = `${bracketed(toIp)}:${portRangeText(tp, "-")}`;
  const match = n.hostIp ? ["-d", `${n.hostIp}${hostPrefix(n.hostIp)}`] : ["-m", "addrtype", "--dst-type", "LOCAL"];
  const proto = ["-p", n.protocol as string];
  const rules: IptRule[] = [
    { chain: HOSTNET_CHAINS.PREROUTING, spec: [...proto, ...match, ...(n.inInterface ? ["-i", n.inInterface] : []), "--dport", portRangeText(hp, ":"), ...comment, "-j", "DNAT", "--to-destination", dest] },
  ];
  if (!n.inInterface) rules.push({ chain: HOSTNET_CHAINS.OUTPUT, spec: [...proto, ...match, "--dport", portRangeText(hp, ":"), ...comment, "-j", "DNAT", "--to-destination", dest] });
  if (n.hairpinSource) {
    rules.push({ chain: post, spec: ["-s", n.hairpinSource, "-d", `${toIp}${hostPrefix(toIp)}`, ...proto, "--dport", portRangeText(tp, ":"), "-m", "conntrack", "--ctstate", "DNAT", ...comment, "-j", "MASQUERADE"] });
  }
  return rules;
}

/** The built-in chains whose jumps the rules need. */
export function builtinsOf(rules: readonly IptRule[]): BuiltinChain[] {
  return (Object.keys(HOSTNET_CHAINS) as BuiltinChain[]).filter((b) => rules.some((r) => r.chain === HOSTNET_CHAINS[b]));
}

/** Diff policy: every field of the rule is identity (replace, create first); credentials and lost rules/jumps update in place. */
export function diffNat(olds: Partial<NatOutputs>, news: NatInputs): { changes: boolean; replaces: string[] } {
  const o = olds as NatInputs;
  const before = olds.connection ? identityOf(o) : {};
  const after = identityOf(news);
  const replaces = Object.keys({ ...before, ...after }).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  const credentials = JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
  // A rule tagged by 0.1 (no owner) is re-tagged in place with its stack's mark.
  const owner = news.owner !== undefined && olds.owner !== news.owner;
  return { changes: replaces.length > 0 || credentials || owner || olds.intact === false, replaces };
}
