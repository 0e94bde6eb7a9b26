/** argv builders and parsers for iptables (nat table), for either backend. Pure. */

/** Which iptables flavour a host uses. */
export type IptablesFlavor = "nft" | "legacy";

/** An address family: `iptables` (4) or `ip6tables` (6). */
export type IpFamily = 4 | 6;

/** Binaries of one flavour and family. */
export interface IptablesBins {
  readonly flavor: IptablesFlavor;
  readonly family: IpFamily;
  readonly iptables: string;
  readonly save: string;
  readonly restore: string;
}

/** The binaries for a flavour and family (`iptables-nft`, `iptables-legacy-save`, `ip6tables-nft-restore`, …). */
export function binsOf(flavor: IptablesFlavor, family: IpFamily = 4): IptablesBins {
  const base = family === 6 ? "ip6tables" : "iptables";
  return { flavor, family, iptables: `${base}-${flavor}`, save: `${base}-${flavor}-save`, restore: `${base}-${flavor}-restore` };
}

/** Our chains in the nat table, each jumped to once from the built-in chain it is named after. */
export const HOSTNET_CHAINS = { PREROUTING: "HOSTNET-PREROUTING", OUTPUT: "HOSTNET-OUTPUT", POSTROUTING: "HOSTNET-POSTROUTING" } as const;

/** A built-in chain of the nat table that we hook. */
export type BuiltinChain = keyof typeof HOSTNET_CHAINS;

/** One rule: the chain and the rule spec after `-A CHAIN`. */
export interface IptRule {
  readonly chain: string;
  readonly spec: readonly string[];
}

/** A table we write to: `nat` (NAT rules) or `filter` (forward accepts). */
export type IptTable = "nat" | "filter";

/** Our chain in the filter table, jumped to first from `FORWARD`. */
export const FORWARD_CHAIN = "HOSTNET-FORWARD";

/** Our chain in the filter table, jumped to first from `INPUT` (traffic to the host itself: a VXLAN tunnel). */
export const INPUT_CHAIN = "HOSTNET-INPUT";

/** `iptables -w -t TABLE ARGS…` */
export function tableArgv(bins: IptablesBins, table: IptTable, args: readonly string[]): string[] {
  return [bins.iptables, "-w", "-t", table, ...args];
}

/** `iptables -w -t nat ARGS…` */
export function natArgv(bins: IptablesBins, args: readonly string[]): string[] {
  return tableArgv(bins, "nat", args);
}

/** `-C CHAIN SPEC` (exit 1 when absent). */
export function checkRule(bins: IptablesBins, r: IptRule): string[] {
  return natArgv(bins, ["-C", r.chain, ...r.spec]);
}

/** `-D CHAIN SPEC`. */
export function deleteRule(bins: IptablesBins, r: IptRule): string[] {
  return natArgv(bins, ["-D", r.chain, ...r.spec]);
}

/** `-N CHAIN`. */
export function newChain(bins: IptablesBins, chain: string): string[] {
  return natArgv(bins, ["-N", chain]);
}

/** `-X CHAIN` (must be empty and unreferenced). */
export function deleteChain(bins: IptablesBins, chain: string): string[] {
  return natArgv(bins, ["-X", chain]);
}

/** The jump from a built-in chain to ours. */
export function jumpRule(builtin: BuiltinChain): IptRule {
  return { chain: builtin, spec: ["-j", HOSTNET_CHAINS[builtin]] };
}

/** `-I BUILTIN 1 -j HOSTNET-…` (our chain first, like CNI portmap). */
export function insertJump(bins: IptablesBins, builtin: BuiltinChain): string[] {
  return natArgv(bins, ["-I", builtin, "1", "-j", HOSTNET_CHAINS[builtin]]);
}

/** `iptables-save -t TABLE`. */
export function saveTable(bins: IptablesBins, table: IptTable): string[] {
  return [bins.save, "-t", table];
}

/** `iptables-save -t nat`. */
export function saveNat(bins: IptablesBins): string[] {
  return saveTable(bins, "nat");
}

/** `iptables-save` of every table that exists (`-t nat` would print an empty nat table even when there is none). */
export function saveAll(bins: IptablesBins): string[] {
  return [bins.save];
}

/**
 * An empty chain we add to the nat table when we are the ones creating that
 * table (iptables-nft makes `table ip nat` on first use): the last delete
 * then removes the table too, so the host is left as it was found.
 */
export const TABLE_MARK_CHAIN = "HOSTNET-MADE-TABLE";

/**
 * Removes the nat table that we created (iptables-nft has no command for it,
 * `nft` does), or, where the host has no `nft`, at least the marker chain.
 */
export function dropMadeNatTable(bins: IptablesBins): string[] {
  return ["sh", "-c", `if command -v nft >/dev/null 2>&1; then exec nft delete table ${bins.family === 6 ? "ip6" : "ip"} nat; else exec ${bins.iptables} -w -t nat -X ${TABLE_MARK_CHAIN}; fi`];
}

/** Whether an iptables-save dump of every table holds `table`. */
export function hasTable(text: string, table: IptTable): boolean {
  return text.split("\n").includes(`*${table}`);
}

const NAT_BUILTINS = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"];

/**
 * What the nat table holds that is not ours (`ourChains`, the jumps to them,
 * the marker): rules, chains, and built-in chains whose policy is not ACCEPT.
 * Zero means the table is empty but for us.
 */
export function foreignNatContent(text: string, ourChains: readonly string[]): number {
  const t = parseSave(text, "nat");
  const ours = new Set([...ourChains, TABLE_MARK_CHAIN]);
  const rules = t.rules.filter((l) => {
    const w = l.split(" ");
    if (ours.has(w[1])) return false;
    return !(w.length === 4 && w[2] === "-j" && ours.has(w[3]));
  }).length;
  const chains = t.chains.filter((c) => !ours.has(c) && !NAT_BUILTINS.includes(c)).length;
  const policies = NAT_BUILTINS.filter((c) => (policyOf(text, "nat", c) ?? "ACCEPT") !== "ACCEPT").length;
  return rules + chains + policies;
}

/** `iptables-restore -w --noflush` (reads the script on stdin; no chain is declared, so nothing is flushed). */
export function restoreNoflush(bins: IptablesBins): string[] {
  return [bins.restore, "-w", "--noflush"];
}

/**
 * One argument of an iptables-restore line. Values are validated before they
 * get here; this refuses what the format cannot carry safely (line breaks,
 * NUL, quotes, backslashes) instead of trying to escape it: iptables-restore
 * has no escape for a quote inside a quoted word.
 */
export function restoreArg(a: string): string {
  if (/[\0\r\n"'\\]/.test(a) || a.length === 0) throw new Error(`refusing to render ${JSON.stringify(a)} into an iptables-restore script`);
  return /^[A-Za-z0-9_.:/!,@%+=[\]-]+$/.test(a) ? a : `"${a}"`;
}

/**
 * An iptables-restore script for `table` that appends (`-A`), deletes (`-D`)
 * or inserts (`-I`, the position first in `spec`) the rules in one transaction.
 */
export function restoreScript(op: "-A" | "-D" | "-I", rules: readonly IptRule[], table: IptTable = "nat"): string {
  return [`*${table}`, ...rules.map((r) => [op, r.chain, ...r.spec].map(restoreArg).join(" ")), "COMMIT", ""].join("\n");
}

/** The nat table as iptables-save prints it: chains and `-A` lines. */
export interface NatTable {
  readonly chains: readonly string[];
  /** Each rule line as printed, e.g. `-A HOSTNET-POSTROUTING -s 172.16.0.0/16 … -j MASQUERADE`. */
  readonly rules: readonly string[];
}

/** Parses `iptables-save -t TABLE` output (empty when the table does not exist). */
export function parseSave(text: string, table: IptTable = "nat"): NatTable {
  const chains: string[] = [];
  const rules: string[] = [];
  let inNat = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) inNat = line === `*${table}`;
    else if (!inNat) continue;
    else if (line.startsWith(":")) chains.push(line.slice(1).split(" ")[0]);
    else if (line.startsWith("-A ")) rules.push(line);
  }
  return { chains, rules };
}

/** Number of rules in an iptables-save dump (all tables), for backend detection. */
export function countRules(saveOutput: string): number {
  return saveOutput.split("\n").filter((l) => l.startsWith("-A ")).length;
}

/** The comment value of a rule line, or undefined. */
export function commentOf(line: string): string | undefined {
  const m = /--comment (?:"([^"]*)"|(\S+))/.exec(line);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** The words of an iptables-save rule line, quotes removed: `-A C -m comment --comment "a b" -j X` → [..., "a b", ...]. */
export function saveLineWords(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  return out;
}

/** The policy of a built-in chain in an iptables-save dump of one table (`:FORWARD DROP [0:0]`), or undefined. */
export function policyOf(text: string, table: IptTable, chain: string): string | undefined {
  let inTable = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) inTable = line === `*${table}`;
    else if (inTable && line.startsWith(`:${chain} `)) return line.split(" ")[1];
  }
  return undefined;
}

/**
 * Steps' worth of scripts that delete rule lines (as iptables-save printed
 * them, from one read) in one transaction, and put them back exactly where
 * they were: each line is re-inserted at its position in its chain, in
 * ascending order, so the chain reads as before.
 */
export function removeLinesScripts(lines: readonly string[], chainLines: (chain: string) => readonly string[], table: IptTable): { remove: string; restore: string } {
  const rule = (l: string): IptRule => {
    const w = saveLineWords(l);
    return { chain: w[1], spec: w.slice(2) };
  };
  const positioned = lines.map((l) => ({ r: rule(l), pos: chainLines(rule(l).chain).indexOf(l) + 1 })).sort((a, b) => a.pos - b.pos);
  return {
    remove: restoreScript("-D", lines.map(rule), table),
    restore: restoreScript("-I", positioned.map((x) => ({ chain: x.r.chain, spec: [String(x.pos), ...x.r.spec] })), table),
  };
}

/** The rule lines of `chain` in a parsed table, in order. */
export function linesOf(t: NatTable, chain: string): string[] {
  return t.rules.filter((l) => l.startsWith(`-A ${chain} `));
}
