/** Public input types of the `Bridge` resource. */
import * as pulumi from "@pulumi/pulumi";
import { Connection, ConnectionSpec } from "../../host/connection";

/** Inputs of a {@link Bridge}. */
export interface BridgeArgs {
  /** How to reach the host (SSH like `@pulumi/command`'s `remote.ConnectionArgs`, `{ local: true }` or `{ netns: NAME }`). */
  connection: pulumi.Input<Connection>;
  /** Interface name, 1–15 characters of `[A-Za-z0-9_.-]`. Changing it replaces the bridge (the old one is deleted first). */
  name: pulumi.Input<string>;
  /** Addresses with prefix, IPv4 and/or IPv6 (`172.16.0.1/16`, `fd00::1/64`). The bridge ends up with exactly these global addresses. Default none. */
  addresses?: pulumi.Input<pulumi.Input<string>[]>;
  /** MTU (68–65535). Left as the kernel chose when not given. */
  mtu?: pulumi.Input<number>;
  /** MAC address (unicast). Left as the kernel chose when not given. */
  mac?: pulumi.Input<string>;
  /** Spanning tree on or off. Left alone when not given. */
  stp?: pulumi.Input<boolean>;
  /** VLAN filtering on or off. Left alone when not given. */
  vlanFiltering?: pulumi.Input<boolean>;
  /** Administrative state. Default `true`. */
  up?: pulumi.Input<boolean>;
  /** Take over an existing bridge of this name that is not ours. On delete it is released (our mark removed), not deleted. Default `false`. */
  adopt?: pulumi.Input<boolean>;
}

/** Resolved, validated inputs as the provider sees them. */
export interface BridgeInputs {
  connection: ConnectionSpec;
  name: string;
  addresses: string[];
  mtu?: number;
  mac?: string;
  stp?: boolean;
  vlanFiltering?: boolean;
  up: boolean;
  adopt: boolean;
  /** The owning stack, `project/stack` (set by the resource class; part of every mark). */
  owner?: string;
}

/** Outputs (state) of a bridge: its inputs plus what the kernel reports. */
export interface BridgeOutputs extends BridgeInputs {
  /** Host identity (`host:port`, `local`, `netns:NAME`). */
  hostId: string;
  /** Kernel interface index; unchanged by in-place updates. */
  ifindex: number;
  /** Whether the bridge existed before and was adopted (it is released, not deleted, on destroy). */
  adopted: boolean;
  /** The alias the bridge had before adoption, restored on release. */
  previousAlias: string;
  /** Which of mtu, mac, stp, vlanFiltering the inputs gave: refresh returns only those as inputs, so a field never set never shows in a diff. */
  given?: string[];
  /** The iptables flavour holding the bridge's forward accepts (`HOSTNET-FORWARD`); absent in 0.1 state. */
  forwardFlavor?: "nft" | "legacy" | "none";
}
