/** The native nftables backend: our own table `inet hostnet` with nat base chains; rules found by their comment, deleted by handle. */
import { CommandError } from "../../host/errors";
import { Runner } from "../../host/runner";
import { BuiltinChain } from "../../linux/iptables";
import { bracketed } from "../../linux/names";
import { NFT_CHAINS, NFT_TABLE, NftRule, nftAddRules, nftDeclare, nftQuoted, parseNftTable } from "../../linux/nftables";
import { Step } from "../common/steps";
import { NatInputs, PortRange } from "./args";
import { NatBackend, NatState } from "./backend";
import { natFamily, portRangeText } from "./plan";

/** The nft rules that implement a spec (same semantics as the iptables rules). */
export function nftRules(n: NatInputs, tag: string): NftRule[] {
  const comment = `comment ${nftQuoted(tag)}`;
  // `ip` or `ip6`: the table is `inet`, each rule matches and rewrites one family.
  const fam = natFamily(n) === 6 ? "ip6" : "ip";
  if (n.kind === "masquerade") {
    const oif = n.outInterface ? ` oifname ${nftQuoted(n.outInterface)}` : n.notOutInterface ? ` oifname != ${nftQuoted(n.notOutInterface)}` : "";
    return [{ chain: NFT_CHAINS.POSTROUTING, text: `${fam} saddr ${n.source}${oif} masquerade ${comment}` }];
  }
  if (n.kind === "snat") return [{ chain: NFT_CHAINS.POSTROUTING, text: `${fam} saddr ${n.source} snat ${fam} to ${n.toSource} ${comment}` }];
  const hp = n.hostPort as PortRange;
  const tp = n.toPort as PortRange;
  const match = n.hostIp ? `${fam} daddr ${n.hostIp}` : "fib daddr type local";
  const dnat = `${n.protocol} dport ${portRangeText(hp)} dnat ${fam} to ${bracketed(n.toIp as string)}:${portRangeText(tp)} ${comment}`;
  const rules: NftRule[] = [{ chain: NFT_CHAINS.PREROUTING, text: `${n.inInterface ? `iifname ${nftQuoted(n.inInterface)} ` : ""}${match} ${dnat}` }];
  if (!n.inInterface) rules.push({ chain: NFT_CHAINS.OUTPUT, text: `${match} ${dnat}` });
  if (n.hairpinSource) rules.push({ chain: NFT_CHAINS.POSTROUTING, text: `${fam} saddr ${n.hairpinSource} ${fam} daddr ${n.toIp} ${n.protocol} dport ${portRangeText(tp)} ct status dnat masquerade ${comment}` });
  return rules;
}

const HOOK_OF: Record<string, BuiltinChain> = { prerouting: "PREROUTING", output: "OUTPUT", postrouting: "POSTROUTING" };

/** The nftables backend. */
export class NftablesBackend implements NatBackend {
  readonly flavor = "nftables" as const;
  readonly name = "nftables (table inet hostnet)";

  ruleCount(n: NatInputs, tag: string): number {
    return nftRules(n, tag).length;
  }

  hooksFor(n: NatInputs, tag: string): BuiltinChain[] {
    return [...new Set(nftRules(n, tag).map((r) => HOOK_OF[r.chain]))];
  }

  private async list(runner: Runner): Promise<ReturnType<typeof parseNftTable>> {
    const argv = ["nft", "-j", "list", "table", "inet", NFT_TABLE];
    const res = await runner.run(argv);
    if (res.exitCode !== 0) {
      if (/No such file or directory|does not exist/i.test(res.stderr)) return { chains: [], rules: [] };
      throw new CommandError({ host: runner.hostId, argv, ...res, context: "read table inet hostnet" });
    }
    return parseNftTable(res.stdout);
  }

  async read(runner: Runner): Promise<NatState> {
    const t = await this.list(runner);
    const tagged = new Map<string, number>();
    for (const r of t.rules) if (r.comment) tagged.set(r.comment, (tagged.get(r.comment) ?? 0) + 1);
    return { chains: t.chains, jumps: t.chains.map((c) => HOOK_OF[c]).filter((h): h is BuiltinChain => h !== undefined), tagged, ourRules: t.rules.length, tableExists: t.chains.length > 0, tableMadeByUs: false, foreign: 0, nftRules: t.rules };
  }

  planChains(state: NatState, n: NatInputs, tag: string): Step[] {
    const missing = this.hooksFor(n, tag).filter((h) => !state.jumps.includes(h));
    if (missing.length === 0) return [];
    const undo = state.chains.length === 0 ? [["nft", "delete", "table", "inet", NFT_TABLE]] : missing.map((h) => ["nft", "delete", "chain", "inet", NFT_TABLE, NFT_CHAINS[h]]);
    return [{ description: `create ${missing.map((h) => NFT_CHAINS[h]).join(", ")} in table inet ${NFT_TABLE}`, argv: ["nft", "-f", "-"], stdin: nftDeclare(missing), undo }];
  }

  planAdd(n: NatInputs, tag: string): Step {
    // The undo finds the rules by their comment, so it is done by remove(); nft -f adds all or nothing.
    return { description: `add ${this.ruleCount(n, tag)} rule(s)`, argv: ["nft", "-f", "-"], stdin: nftAddRules(nftRules(n, tag)), undo: [] };
  }

  async remove(runner: Runner, _n: NatInputs, tag: string): Promise<void> {
    const t = await this.list(runner);
    for (const r of t.rules.filter((x) => x.comment === tag)) {
      const argv = ["nft", "delete", "rule", "inet", NFT_TABLE, r.chain, "handle", String(r.handle)];
      const res = await runner.run(argv);
      if (res.exitCode !== 0 && !/No such file or directory/i.test(res.stderr)) throw new CommandError({ host: runner.hostId, argv, ...res, context: "delete a NAT rule" });
    }
  }

  planRemove(state: NatState, n: NatInputs, tag: string): Step[] {
    const mine = (state.nftRules ?? []).filter((r) => r.comment === tag);
    if (mine.length === 0) return [];
    const add = this.planAdd(n, tag);
    return [{
      description: `delete ${mine.length} rule(s)`,
      argv: ["nft", "-f", "-"],
      stdin: mine.map((r) => `delete rule inet ${NFT_TABLE} ${r.chain} handle ${r.handle}`).join("\n") + "\n",
      undo: [add.stdin !== undefined ? { argv: add.argv, stdin: add.stdin } : add.argv],
    }];
  }

  planTeardown(state: NatState): Step[] {
    return state.chains.length > 0 ? [{ description: `delete table inet ${NFT_TABLE}`, argv: ["nft", "delete", "table", "inet", NFT_TABLE], undo: [] }] : [];
  }
}
