/**
 * Every hostnet NAT rule on a host, whichever backend or stack made it: the
 * rules in our nat chains of both iptables flavours and in `table inet
 * hostnet`. Used to keep `ip_forward` on while any of them remains, and to see
 * which host ports other stacks publish. Foreign NAT rules are counted too, so
 * that forwarding is left on when something else started to route meanwhile.
 */
import { Runner } from "../../host/runner";
import * as ipt from "../../linux/iptables";
import { NFT_TABLE, parseNftTable } from "../../linux/nftables";

/** What the census found, for one family or both. */
export interface NatCount {
  /** Rules in our chains/table, any tag. */
  readonly ours: number;
  /** Rules in the nat tables that are not ours (Docker's, the admin's…), jumps to our chains left out. */
  readonly foreign: number;
}

/** What the census found. */
export interface NatCensus extends NatCount {
  /** Tags of every hostnet rule (one entry per rule). */
  readonly tags: readonly string[];
  /** Per family (`ip_forward` and IPv6 forwarding are kept apart); rules of our `inet` table count for both. */
  readonly family: Readonly<Record<ipt.IpFamily, NatCount>>;
}

const OUR_CHAINS = new Set<string>(Object.values(ipt.HOSTNET_CHAINS));

/** Reads both iptables flavours of both families and our nft table; a tool that is missing or fails counts as holding nothing. */
export async function natCensus(runner: Runner): Promise<NatCensus> {
  const tags: string[] = [];
  const count = { 4: { ours: 0, foreign: 0 }, 6: { ours: 0, foreign: 0 } };
  for (const family of [4, 6] as const) {
    for (const flavor of ["nft", "legacy"] as const) {
      // All tables, not `-t nat`: naming a legacy table that does not exist yet creates it (reading must change nothing).
      const res = await runner.run([ipt.binsOf(flavor, family).save]);
      if (res.exitCode !== 0) continue;
      for (const line of ipt.parseSave(res.stdout).rules) {
        const chain = line.split(" ")[1];
        if (OUR_CHAINS.has(chain)) {
          count[family].ours++;
          const tag = ipt.commentOf(line);
          if (tag) tags.push(tag);
        } else if (!/ -j HOSTNET-/.test(line)) count[family].foreign++;
      }
    }
  }
  const res = await runner.run(["nft", "-j", "list", "table", "inet", NFT_TABLE]);
  if (res.exitCode === 0) {
    for (const r of parseNftTable(res.stdout).rules) {
      count[4].ours++;
      count[6].ours++;
      if (r.comment) tags.push(r.comment);
    }
  }
  return { tags, ours: tags.length, foreign: count[4].foreign + count[6].foreign, family: count };
}
