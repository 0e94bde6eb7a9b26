/**
 * Where NAT rules live on a host: iptables (nft- or legacy-based, detected
 * per host), or a native nftables table `inet hostnet` (nftables.ts), both
 * behind one interface.
 */
import { CommandError } from "../../host/errors";
import { Runner } from "../../host/runner";
import * as ipt from "../../linux/iptables";
import { Step } from "../common/steps";
import { NatInputs } from "./args";
import { builtinsOf, natRules } from "./plan";

import { NatFlavor } from "../common/flavor";
export { NatFlavor } from "../common/flavor";

/** What a backend reads from the host: our chains, their hooks (jumps), and the rules carrying a tag. */
export interface NatState {
  readonly chains: readonly string[];
  /** Built-in hooks that reach our chains (iptables: the jumps; nftables: our base chains). */
  readonly jumps: readonly ipt.BuiltinChain[];
  /** Tag → number of rules carrying it. */
  readonly tagged: ReadonlyMap<string, number>;
  /** Number of rules in our chains (any tag). */
  readonly ourRules: number;
  /** Whether the table our chains live in exists (iptables-nft creates `table ip nat` on first use). */
  readonly tableExists: boolean;
  /** Whether we created that table (it carries {@link ipt.TABLE_MARK_CHAIN}): the last delete removes it. */
  readonly tableMadeByUs: boolean;
  /** Rules, chains and non-ACCEPT policies in that table that are not ours. */
  readonly foreign: number;
  /** iptables only: the table as read (for exact undo of deletions). */
  readonly table?: ipt.NatTable;
  /** nftables only: our rules with their handles. */
  readonly nftRules?: readonly { chain: string; handle: number; comment?: string }[];
}

/** A NAT backend: renders a rule, reads state and plans steps; the provider runs them. */
export interface NatBackend {
  readonly name: string;
  readonly flavor: NatFlavor;
  /** How many rules implement the spec. */
  ruleCount(n: NatInputs, tag: string): number;
  /** The hooks (built-in chains) the spec needs. */
  hooksFor(n: NatInputs, tag: string): ipt.BuiltinChain[];
  read(runner: Runner): Promise<NatState>;
  /** Steps that create whatever chains and hooks the spec needs and are missing. */
  planChains(state: NatState, n: NatInputs, tag: string): Step[];
  /** One step that adds the spec's rules atomically. */
  planAdd(n: NatInputs, tag: string): Step;
  /** Deletes the spec's rules, treating "no such rule" as done. */
  remove(runner: Runner, n: NatInputs, tag: string): Promise<void>;
  /** One step that deletes the rules carrying `tag` found in `state` (none when there are none), with an exact undo. */
  planRemove(state: NatState, n: NatInputs, tag: string): Step[];
  /** Steps that remove our (empty) chains and their hooks. */
  planTeardown(state: NatState): Step[];
}

/** The iptables backend for one flavour and family (`iptables-nft`, `ip6tables-legacy`, …). */
export class IptablesBackend implements NatBackend {
  readonly bins: ipt.IptablesBins;
  constructor(readonly flavor: ipt.IptablesFlavor, family: ipt.IpFamily = 4) {
    this.bins = ipt.binsOf(flavor, family);
  }
  get name(): string {
    return this.bins.iptables;
  }

  async read(runner: Runner): Promise<NatState> {
    const argv = ipt.saveAll(this.bins);
    const res = await runner.run(argv);
    if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv, ...res, context: "read the nat table" });
    const table = ipt.parseSave(res.stdout);
    const tableExists = ipt.hasTable(res.stdout, "nat");
    const tableMadeByUs = table.chains.includes(ipt.TABLE_MARK_CHAIN);
    const foreign = ipt.foreignNatContent(res.stdout, Object.values(ipt.HOSTNET_CHAINS));
    const ours = new Set<string>(Object.values(ipt.HOSTNET_CHAINS));
    const tagged = new Map<string, number>();
    let ourRules = 0;
    const jumps: ipt.BuiltinChain[] = [];
    for (const line of table.rules) {
      const chain = line.split(" ")[1];
      for (const b of Object.keys(ipt.HOSTNET_CHAINS) as ipt.BuiltinChain[]) if (line === `-A ${b} -j ${ipt.HOSTNET_CHAINS[b]}`) jumps.push(b);
      if (!ours.has(chain)) continue;
      ourRules++;
      const tag = ipt.commentOf(line);
      if (tag) tagged.set(tag, (tagged.get(tag) ?? 0) + 1);
    }
    return { chains: table.chains.filter((c) => ours.has(c)), jumps, tagged, ourRules, tableExists, tableMadeByUs, foreign, table };
  }

  ruleCount(n: NatInputs, tag: string): number {
    return natRules(n, tag).length;
  }

  hooksFor(n: NatInputs, tag: string): ipt.BuiltinChain[] {
    return builtinsOf(natRules(n, tag));
  }

  planChains(state: NatState, n: NatInputs, tag: string): Step[] {
    const rules = natRules(n, tag);
    const steps: Step[] = [];
    // iptables-nft is about to create `table ip nat` on a host that has none: mark it, so the last delete removes it.
    if (this.flavor === "nft" && !state.tableExists) {
      steps.push({ description: `create the nat table, marked as made by hostnet (${ipt.TABLE_MARK_CHAIN})`, argv: ipt.newChain(this.bins, ipt.TABLE_MARK_CHAIN), undo: [ipt.dropMadeNatTable(this.bins)] });
    }
    for (const b of Object.keys(ipt.HOSTNET_CHAINS) as ipt.BuiltinChain[]) {
      const chain = ipt.HOSTNET_CHAINS[b];
      if (!rules.some((r) => r.chain === chain)) continue;
      if (!state.chains.includes(chain)) steps.push({ description: `create chain ${chain}`, argv: ipt.newChain(this.bins, chain), undo: [ipt.deleteChain(this.bins, chain)] });
      if (!state.jumps.includes(b)) steps.push({ description: `jump from ${b} to ${chain}`, argv: ipt.insertJump(this.bins, b), undo: [ipt.deleteRule(this.bins, ipt.jumpRule(b))] });
    }
    return steps;
  }

  planAdd(n: NatInputs, tag: string): Step {
    const rules = natRules(n, tag);
    return {
      description: `add ${rules.length} rule(s)`,
      argv: ipt.restoreNoflush(this.bins),
      stdin: ipt.restoreScript("-A", rules),
      undo: [{ argv: ipt.restoreNoflush(this.bins), stdin: ipt.restoreScript("-D", rules) }],
    };
  }

  async remove(runner: Runner, n: NatInputs, tag: string): Promise<void> {
    for (const r of natRules(n, tag)) {
      if ((await runner.run(ipt.checkRule(this.bins, r))).exitCode !== 0) continue;
      const argv = ipt.deleteRule(this.bins, r);
      const res = await runner.run(argv);
      if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv, ...res, context: "delete a NAT rule" });
    }
  }

  planRemove(state: NatState, _n: NatInputs, tag: string): Step[] {
    const t = state.table;
    if (!t) return [];
    const ours = new Set<string>(Object.values(ipt.HOSTNET_CHAINS));
    const mine = t.rules.filter((l) => ours.has(l.split(" ")[1]) && ipt.commentOf(l) === tag);
    if (mine.length === 0) return [];
    const { remove, restore } = ipt.removeLinesScripts(mine, (c) => ipt.linesOf(t, c), "nat");
    return [{ description: `delete ${mine.length} rule(s)`, argv: ipt.restoreNoflush(this.bins), stdin: remove, undo: [{ argv: ipt.restoreNoflush(this.bins), stdin: restore }] }];
  }

  planTeardown(state: NatState): Step[] {
    const steps: Step[] = [];
    for (const b of state.jumps) {
      const pos = state.table ? ipt.linesOf(state.table, b).indexOf(`-A ${b} -j ${ipt.HOSTNET_CHAINS[b]}`) + 1 : 1;
      steps.push({ description: `remove the jump from ${b}`, argv: ipt.deleteRule(this.bins, ipt.jumpRule(b)), undo: [ipt.natArgv(this.bins, ["-I", b, String(Math.max(pos, 1)), "-j", ipt.HOSTNET_CHAINS[b]])] });
    }
    for (const c of state.chains) steps.push({ description: `delete chain ${c}`, argv: ipt.deleteChain(this.bins, c), undo: [ipt.newChain(this.bins, c)] });
    if (state.tableMadeByUs) {
      // We made the table: remove it when nothing else has moved in, else only our marker (the table is shared now).
      if (state.foreign === 0) steps.push({ description: "delete the nat table hostnet created", argv: ipt.dropMadeNatTable(this.bins), undo: [] });
      else steps.push({ description: `delete chain ${ipt.TABLE_MARK_CHAIN} (the nat table now holds others' rules too)`, argv: ipt.deleteChain(this.bins, ipt.TABLE_MARK_CHAIN), undo: [] });
    }
    return steps;
  }
}

export { detectFlavor } from "../common/flavor";

/** The backend for a flavour and the rule's family (one `inet` table holds both families' nftables rules). */
export async function backendFor(flavor: NatFlavor, family: ipt.IpFamily = 4): Promise<NatBackend> {
  if (flavor === "nftables") return new (await import("./nftables")).NftablesBackend();
  return new IptablesBackend(flavor, family);
}
