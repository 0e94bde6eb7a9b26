/** Public input types of the `ContainerAttachment` resource. */
import * as pulumi from "@pulumi/pulumi";
import { Connection, ConnectionSpec } from "../../host/connection";

/** Which network namespace to attach to. Exactly one field. */
export type ContainerRef =
  /** A Docker container by name or ID (resolved with `docker inspect` on the host). */
  | { docker: string }
  /** Any process: its network namespace `/proc/PID/ns/net`. */
  | { pid: number }
  /** A named namespace (`ip netns add NAME`). */
  | { netns: string };

/** An extra route inside the container. */
export interface RouteArgs {
  /** Destination: a CIDR (`10.0.0.2/32`), a plain address (a host route) or `default` (`0.0.0.0/0`; with an IPv6 `via`, or as `::/0`, the IPv6 default). */
  to: string;
  /** Next hop; left out for a route straight out of the interface (point-to-point). */
  via?: string;
}

/** Inputs of a {@link ContainerAttachment}. */
export interface ContainerAttachmentArgs {
  /**
   * Set by `Topology` when a resource this one is fed by failed in the same
   * run (its name): this resource then keeps its state unchanged, or, when it
   * does not exist yet, is skipped with that reason. Leave it unset.
   */
  blockedBy?: pulumi.Input<string | undefined>;
  /** How to reach the host the container runs on. */
  connection: pulumi.Input<Connection>;
  /** The container (or process, or named namespace) to attach to. Changing it replaces the attachment. */
  container: pulumi.Input<ContainerRef>;
  /**
   * Without `bridge`: the host-side interface to move in, normally a
   * `VethPair`'s `peerName` (or `name` for point-to-point); it must carry our
   * mark. With `bridge`: the name of the host end of the veth pair this
   * attachment makes itself. Changing it replaces the attachment.
   */
  interface: pulumi.Input<string>;
  /**
   * A bridge on the host. When set, the attachment makes its own veth pair:
   * the container end is created directly inside the target namespace as
   * `ifname` (no move, no rename), the host end `interface` is put on this
   * bridge; `delete` removes the pair. Changing it re-masters the host end in
   * place; setting or clearing it replaces the attachment.
   */
  bridge?: pulumi.Input<string>;
  /** Its name inside the container. Default `eth0`. Changing it replaces the attachment. */
  ifname?: pulumi.Input<string>;
  /** Addresses inside the container (IPv4/IPv6 CIDRs). Updated in place. */
  addresses?: pulumi.Input<pulumi.Input<string>[]>;
  /** Default gateway (must be inside one of the addresses' subnets): IPv4, or IPv6 when the attachment has no IPv4 gateway. Updated in place. */
  gateway?: pulumi.Input<string>;
  /** IPv6 default gateway beside an IPv4 `gateway` (dual stack; inside one of the IPv6 addresses' subnets). Updated in place. */
  gateway6?: pulumi.Input<string>;
  /** Extra routes, e.g. a /32 host route to the other end of a point-to-point link. Updated in place. */
  routes?: pulumi.Input<pulumi.Input<RouteArgs>[]>;
  /** MTU inside the container (and of the host end, when the attachment makes its own pair). */
  mtu?: pulumi.Input<number>;
  /** MAC inside the container. */
  mac?: pulumi.Input<string>;
}

/** A route in canonical form. */
export interface RouteInput {
  to: string;
  via?: string;
}

/** Resolved, validated inputs. */
export interface AttachmentInputs {
  connection: ConnectionSpec;
  container: ContainerRef;
  interface: string;
  /** Set when the attachment makes its own veth pair on this bridge. */
  bridge?: string;
  ifname: string;
  addresses: string[];
  gateway?: string;
  /** IPv6 default gateway when `gateway` is the IPv4 one. */
  gateway6?: string;
  routes: RouteInput[];
  mtu?: number;
  mac?: string;
  /** The owning stack, `project/stack` (set by the resource class). */
  owner?: string;
}

/** State of an attachment. */
export interface AttachmentOutputs extends AttachmentInputs {
  hostId: string;
  /** Inode of the container's network namespace when last applied or read: a restarted container has a new one. */
  netnsInode: string;
  /** PID whose namespace was used (Docker and pid targets). */
  pid: number;
  /** Docker container ID (Docker targets). */
  containerId: string;
  /** Whether `ifname` is present and configured inside the container. */
  present: boolean;
  /** The ownership alias of the interface inside (from its VethPair, or this attachment's own mark with `bridge`), recorded at attach time. */
  interfaceAlias: string;
}
