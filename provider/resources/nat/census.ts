/**
 * Every hostnet NAT rule on a host, whichever backend or stack made it: the
 * rules in our nat chains of both iptables flavours and in `table inet
 * hostnet`. Used to keep `ip_forward` on while any of them remains, and to see
 * which host ports other stacks publish. Foreign NAT rules are counted too, so
 * that forwarding is left on when something else started to route meanwhile.
 */
import { Runner, runInOrder } from "../../host/runner";
import * as ipt from "../../linux/iptables";
import { NFT_TABLE, parseNftTable } from "../../linux/nftables";

/** What the census found of one family. */
export interface NatCount {
  /** Rules in our chains/table, any tag. */
  readonly ours: number;
  /** Rules in the nat tables that are not ours (Docker's, the admin's…), jumps to our chains left out. */
  readonly foreign: number;
}

/** What the census found. */
export interface NatCensus {
  /** Tags of every hostnet rule (one entry per rule). */
  readonly tags: readonly string[];
  /** Per family (`ip_forward` and IPv6 forwarding are kept apart); rules of our `inet` table count for both. */
  readonly family: Readonly<Record<ipt.IpFamily, NatCount>>;
}

const OUR_CHAINS = new Set<string>(Object.values(ipt.HOSTNET_CHAINS));

/** Reads both iptables flavours of both families and our nft table, in one round trip; a tool that is missing or fails counts as holding nothing. */
export async function natCensus(runner: Runner): Promise<NatCensus> {
  const tags: string[] = [];
  const count = { 4: { ours: 0, foreign: 0 }, 6: { ours: 0, foreign: 0 } };
  // All tables, not `-t nat`: naming a legacy table that does not exist yet creates it (reading must change nothing).
  const saves = ([4, 6] as const).flatMap((family) => (["nft", "legacy"] as const).map((flavor) => ({ family, argv: [ipt.binsOf(flavor, family).save] })));
  const nftArgv = ["nft", "-j", "list", "table", "inet", NFT_TABLE];
  const { results } = await runInOrder(runner, [...saves.map((c) => ({ argv: c.argv })), { argv: nftArgv }], { all: true });
  saves.forEach(({ family }, i) => {
    const res = results[i];
    if (!res || res.exitCode !== 0) return;
    for (const line of ipt.parseSave(res.stdout).rules) {
      const chain = line.split(" ")[1];
      if (OUR_CHAINS.has(chain)) {
        count[family].ours++;
        const tag = ipt.commentOf(line);
        if (tag) tags.push(tag);
      } else if (!/ -j HOSTNET-/.test(line)) count[family].foreign++;
    }
  });
  const nft = results[saves.length];
  if (nft && nft.exitCode === 0) {
    for (const r of parseNftTable(nft.stdout).rules) {
      count[4].ours++;
      count[6].ours++;
      if (r.comment) tags.push(r.comment);
    }
  }
  return { tags, family: count };
}
