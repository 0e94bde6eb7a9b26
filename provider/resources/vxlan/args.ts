/** Public input types of the `Vxlan` resource. */
import * as pulumi from "@pulumi/pulumi";
import { Connection, ConnectionSpec } from "../../host/connection";

/** Inputs of a {@link Vxlan}. */
export interface VxlanArgs {
  /** How to reach the host. */
  connection: pulumi.Input<Connection>;
  /** The VXLAN device's name, 1–15 characters of `[A-Za-z0-9_.-]`. Changing it replaces the device. */
  name: pulumi.Input<string>;
  /** VXLAN network identifier, 1–16777215: one segment. Changing it replaces the device. */
  vni: pulumi.Input<number>;
  /** This host's underlay address (it must be on one of the host's links; that link carries the tunnel). Changing it replaces the device. */
  local: pulumi.Input<string>;
  /** The other members' underlay addresses: one static all-zero FDB entry each (broadcast and unknown unicast go to every member; no multicast). Updated in place. */
  remotes: pulumi.Input<pulumi.Input<string>[]>;
  /** The bridge the device is a port of, joining the segment to the host's containers. Updated in place. */
  bridge: pulumi.Input<string>;
  /** UDP port of the tunnel, default 4789 (IANA). Changing it replaces the device. */
  port?: pulumi.Input<number>;
  /** MTU of the device, default 1450 (a 1500 underlay less the 50 bytes VXLAN adds over IPv4, 70 over IPv6); the underlay link must carry it. Updated in place. */
  mtu?: pulumi.Input<number>;
}

/** Resolved, validated inputs. */
export interface VxlanInputs {
  connection: ConnectionSpec;
  name: string;
  vni: number;
  local: string;
  /** Sorted. */
  remotes: string[];
  bridge: string;
  port: number;
  mtu: number;
  /** The owning stack, `project/stack` (set by the resource class). */
  owner?: string;
}

/** State of a VXLAN device. */
export interface VxlanOutputs extends VxlanInputs {
  hostId: string;
  /** The underlay link that holds `local` when the device was made. */
  underlay: string;
  /** False when a refresh found the device gone or not up. */
  present: boolean;
  /** The iptables flavour holding the tunnel's accepts (`HOSTNET-INPUT`, where the host's `INPUT` drops), `none` without iptables. */
  inputFlavor?: "nft" | "legacy" | "none";
}
