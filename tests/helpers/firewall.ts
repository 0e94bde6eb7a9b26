/** Snapshots of a test host's whole firewall, for "destroy leaves it byte-identical" assertions. */
import { TestHost } from "./testhost";

/**
 * iptables-save of both flavours (every table) and `nft list ruleset`, with the
 * `#` lines (timestamps) and packet/byte counters (traffic changes them) left
 * out; nothing else is normalised.
 */
export async function firewallSnapshot(host: TestHost): Promise<string> {
  const strip = (s: string) =>
    s
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.replace(/\[\d+:\d+\]/g, "[0:0]").replace(/counter packets \d+ bytes \d+/g, "counter"))
      .join("\n");
  const parts = [
    `--- iptables-nft-save\n${strip(await host.exec(["iptables-nft-save"]))}`,
    `--- iptables-legacy-save\n${strip(await host.exec(["iptables-legacy-save"]))}`,
    `--- ip6tables-nft-save\n${strip(await host.exec(["ip6tables-nft-save"]))}`,
    `--- ip6tables-legacy-save\n${strip(await host.exec(["ip6tables-legacy-save"]))}`,
    `--- nft list ruleset\n${strip(await host.exec(["nft", "list", "ruleset"]))}`,
  ];
  return parts.join("\n");
}

/**
 * The rules and chains of both iptables flavours that are not hostnet's
 * (Docker's, ufw's, the admin's), with counters left out: what no hostnet
 * operation may change. (The nft ruleset is left out: it shows iptables-nft's
 * rules again, without their comments.)
 */
export async function foreignFirewall(host: TestHost): Promise<string> {
  const out: string[] = [];
  for (const save of ["iptables-nft-save", "iptables-legacy-save", "ip6tables-nft-save", "ip6tables-legacy-save"]) {
    const lines = (await host.exec([save])).split("\n");
    out.push(`--- ${save}`, ...lines.filter((l) => (l.startsWith("-A ") || l.startsWith(":") || l.startsWith("*")) && !/hostnet|HOSTNET/.test(l)).map((l) => l.replace(/\[\d+:\d+\]/g, "[0:0]")));
  }
  return out.join("\n");
}
