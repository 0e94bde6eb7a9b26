/** nft script builders and JSON parsing for our own table `inet hostnet`. Pure. */

/** Our table. */
export const NFT_TABLE = "hostnet";

/** Base chains of our table, by the hook they sit on. */
export const NFT_CHAINS = { PREROUTING: "prerouting", OUTPUT: "output", POSTROUTING: "postrouting" } as const;

const CHAIN_DEFS: Record<keyof typeof NFT_CHAINS, string> = {
  PREROUTING: "type nat hook prerouting priority dstnat; policy accept;",
  OUTPUT: "type nat hook output priority -100; policy accept;",
  POSTROUTING: "type nat hook postrouting priority srcnat; policy accept;",
};

/**
 * A quoted string of an nft script (comments, interface names). Values are
 * validated before they get here; this refuses what could end the string or
 * the statement (`"`, `;`, `#`, `\`, line breaks, `{}`, `$`) instead of escaping it.
 */
export function nftQuoted(value: string): string {
  if (!/^[A-Za-z0-9_.:/@+=, -]{1,256}$/.test(value)) throw new Error(`refusing to render ${JSON.stringify(value)} into an nft script`);
  return `"${value}"`;
}

/** One rule: its base chain and its statement text (values are validated before they get here). */
export interface NftRule {
  readonly chain: string;
  readonly text: string;
}

/** A script that declares the table and the given base chains (declaring an existing one changes nothing). */
export function nftDeclare(hooks: readonly (keyof typeof NFT_CHAINS)[]): string {
  return [`table inet ${NFT_TABLE} {`, ...hooks.map((h) => `  chain ${NFT_CHAINS[h]} { ${CHAIN_DEFS[h]} }`), "}", ""].join("\n");
}

/** `add rule` lines for the rules. */
export function nftAddRules(rules: readonly NftRule[]): string {
  return rules.map((r) => `add rule inet ${NFT_TABLE} ${r.chain} ${r.text}`).join("\n") + "\n";
}

/** A rule of our table as `nft -j list table` reports it. */
export interface NftListedRule {
  readonly chain: string;
  readonly handle: number;
  readonly comment?: string;
}

/** Parses `nft -j list table inet hostnet`: base chains present and rules with handle and comment. */
export function parseNftTable(stdout: string): { chains: string[]; rules: NftListedRule[] } {
  const items = (JSON.parse(stdout) as { nftables?: Record<string, Record<string, unknown>>[] }).nftables ?? [];
  const chains: string[] = [];
  const rules: NftListedRule[] = [];
  for (const it of items) {
    if (it.chain && it.chain.table === NFT_TABLE) chains.push(String(it.chain.name));
    if (it.rule && it.rule.table === NFT_TABLE) rules.push({ chain: String(it.rule.chain), handle: Number(it.rule.handle), ...(typeof it.rule.comment === "string" ? { comment: it.rule.comment } : {}) });
  }
  return { chains, rules };
}
