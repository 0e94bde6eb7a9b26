/** Public input types of the `VethPair` resource. */
import * as pulumi from "@pulumi/pulumi";
import { Connection, ConnectionSpec } from "../../host/connection";

/** Inputs of a {@link VethPair}. */
export interface VethPairArgs {
  /**
   * Set by `Topology` when a resource this one is fed by failed in the same
   * run (its name): this resource then keeps its state unchanged, or, when it
   * does not exist yet, is skipped with that reason. Leave it unset.
   */
  blockedBy?: pulumi.Input<string | undefined>;
  /** How to reach the host. */
  connection: pulumi.Input<Connection>;
  /** Name of the host-side end (1–15 chars). Changing it replaces the pair. */
  name: pulumi.Input<string>;
  /** Name of the other end (1–15 chars), the one a `ContainerAttachment` moves into a container. Changing it replaces the pair. */
  peerName: pulumi.Input<string>;
  /** A bridge to attach `name` to. Changing it re-masters the end in place (no replacement); removing it detaches. */
  bridge?: pulumi.Input<string>;
  /** MTU of both ends at creation; later changes apply to the ends still on the host. */
  mtu?: pulumi.Input<number>;
  /** MAC of `name`. */
  mac?: pulumi.Input<string>;
  /** MAC of `peerName` (set at creation; changing it replaces the pair, as the end may be inside a container). */
  peerMac?: pulumi.Input<string>;
  /** Take over an existing veth named `name` whose peer is `peerName`. Default `false`. */
  adopt?: pulumi.Input<boolean>;
}

/** Resolved, validated inputs. */
export interface VethInputs {
  connection: ConnectionSpec;
  name: string;
  peerName: string;
  bridge?: string;
  mtu?: number;
  mac?: string;
  peerMac?: string;
  adopt: boolean;
  /** The owning stack, `project/stack` (set by the resource class; part of every mark). */
  owner?: string;
}

/** Where the peer end is now. */
export type PeerLocation = "host" | "moved";

/** State of a veth pair. */
export interface VethOutputs extends VethInputs {
  hostId: string;
  /** ifindex of `name` on the host. */
  ifindex: number;
  /** `host` while the peer is on the host, `moved` once it is in another namespace (a container). */
  peerLocation: PeerLocation;
  /** `host` while `name` is on the host, `moved` when it is in another namespace (point-to-point links move both ends). */
  location: PeerLocation;
  /** Which of mtu, mac the inputs gave: refresh returns only those as inputs, so a field never set never shows in a diff. */
  given?: string[];
}
