/** Which iptables flavour (nft- or legacy-based) holds a host's rules. */
import { CommandError } from "../../host/errors";
import { Runner } from "../../host/runner";
import * as ipt from "../../linux/iptables";

/** Where NAT rules live: an iptables flavour, or a native nftables table. */
export type NatFlavor = ipt.IptablesFlavor | "nftables";

const detected = new Map<string, ipt.IptablesFlavor>();

/**
 * The flavour of a host: the one that already holds more rules (like
 * kube-proxy's iptables wrapper), else what plain `iptables` is. Cached per
 * host for the life of the process.
 */
export async function detectFlavor(runner: Runner, requested: "auto" | NatFlavor): Promise<NatFlavor> {
  if (requested !== "auto") return requested;
  const cached = detected.get(runner.hostId);
  if (cached) return cached;
  const legacy = await runner.run(["iptables-legacy-save"]);
  const nft = await runner.run(["iptables-nft-save"]);
  let flavor: ipt.IptablesFlavor;
  if (legacy.exitCode !== 0 && nft.exitCode !== 0) {
    throw new CommandError({ host: runner.hostId, argv: ["iptables-nft-save"], ...nft, context: "neither iptables-nft nor iptables-legacy works on this host" });
  } else if (legacy.exitCode !== 0) flavor = "nft";
  else if (nft.exitCode !== 0) flavor = "legacy";
  else {
    const l = ipt.countRules(legacy.stdout);
    const n = ipt.countRules(nft.stdout);
    if (l !== n) flavor = l > n ? "legacy" : "nft";
    else flavor = /nf_tables/.test((await runner.run(["iptables", "--version"])).stdout) ? "nft" : "legacy";
  }
  detected.set(runner.hostId, flavor);
  return flavor;
}

