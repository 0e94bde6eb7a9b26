/** Public input types of the `NatRule` resource. */
import * as pulumi from "@pulumi/pulumi";
import { Connection, ConnectionSpec } from "../../host/connection";

/** Inputs of a {@link NatRule}. Every field is identity: a changed rule is a new rule (created before the old one is deleted). */
export interface NatRuleArgs {
  /**
   * Set by `Topology` when a resource this one is fed by failed in the same
   * run (its name): this resource then keeps its state unchanged, or, when it
   * does not exist yet, is skipped with that reason. Leave it unset.
   */
  blockedBy?: pulumi.Input<string | undefined>;
  /** How to reach the host. */
  connection: pulumi.Input<Connection>;
  /** `masquerade` (NAT out behind the outgoing interface's address), `snat` (NAT out to a fixed address) or `dnat` (a published port). */
  kind: pulumi.Input<"masquerade" | "snat" | "dnat">;
  /** masquerade/snat: the source subnet, e.g. `172.16.0.0/16`. */
  source?: pulumi.Input<string>;
  /** masquerade: only traffic leaving by this interface. */
  outInterface?: pulumi.Input<string>;
  /** masquerade: only traffic *not* leaving by this interface (usually the bridge itself). */
  notOutInterface?: pulumi.Input<string>;
  /** snat: the address to rewrite the source to. */
  toSource?: pulumi.Input<string>;
  /** dnat: `tcp` or `udp`. */
  protocol?: pulumi.Input<"tcp" | "udp">;
  /** dnat: the host port (`8080`) or range (`"9000-9005"`). */
  hostPort?: pulumi.Input<number | string>;
  /** dnat: only traffic to this host address (default: any local address). */
  hostIp?: pulumi.Input<string>;
  /** dnat: where to send it, `172.16.0.2:80` (or `172.16.0.2` for the same port, or `172.16.0.2:9000-9005`). */
  to?: pulumi.Input<string>;
  /** dnat: only traffic arriving on this interface (then the host itself is not redirected). */
  inInterface?: pulumi.Input<string>;
  /** dnat: clients in this subnet reaching the published port through the host (hairpin) are masqueraded so replies come back through the host. Usually the bridge subnet. */
  hairpinSource?: pulumi.Input<string>;
  /** `auto` (default: the iptables flavour that holds the host's rules), `nft` or `legacy` (iptables-nft / iptables-legacy), or `nftables` (a native table `inet hostnet`). */
  backend?: pulumi.Input<"auto" | "nft" | "legacy" | "nftables">;
}

/** A port or an ordered range. */
export interface PortRange {
  from: number;
  to: number;
}

/** Resolved, validated inputs. */
export interface NatInputs {
  connection: ConnectionSpec;
  kind: "masquerade" | "snat" | "dnat";
  source?: string;
  outInterface?: string;
  notOutInterface?: string;
  toSource?: string;
  protocol?: "tcp" | "udp";
  hostPort?: PortRange;
  hostIp?: string;
  /** dnat target address. */
  toIp?: string;
  /** dnat target port(s); the host port(s) when not given. */
  toPort?: PortRange;
  inInterface?: string;
  hairpinSource?: string;
  backend: "auto" | "nft" | "legacy" | "nftables";
  /** The owning stack, `project/stack` (set by the resource class; part of the rule's tag). */
  owner?: string;
}

/** State of a NAT rule. */
export interface NatOutputs extends NatInputs {
  hostId: string;
  /** The comment that tags our rules: `hostnet:<stack hash>:nat/… <project>/<stack>` (0.1: `hostnet:<id>`). */
  tag: string;
  /** Where the rules live: iptables-nft, iptables-legacy, or a native nftables table. */
  flavor: "nft" | "legacy" | "nftables";
  /** The iptables flavour holding the rule's forward accept (filter table, `HOSTNET-FORWARD`); absent in 0.1 state. */
  forwardFlavor?: "nft" | "legacy" | "none";
  /** False when refresh found some of our rules or jumps missing. */
  intact: boolean;
}
