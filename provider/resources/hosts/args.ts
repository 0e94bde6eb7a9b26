/** Inputs and outputs of the `HostsEntries` resource. */
import * as pulumi from "@pulumi/pulumi";
import { Connection, ConnectionSpec } from "../../host/connection";

/** One `/etc/hosts` line: an address and the names it answers to. */
export interface HostsEntryArgs {
  /** IPv4 or IPv6 address (`172.24.0.3`). */
  address: pulumi.Input<string>;
  /** Host names for it (`db`, `db.lab`), each a DNS name. */
  names: pulumi.Input<pulumi.Input<string>[]>;
}

/** Inputs of a {@link HostsEntries}. */
export interface HostsEntriesArgs {
  /** How to reach the host that runs the container. */
  connection: pulumi.Input<Connection>;
  /** The Docker container (by name or id) whose `/etc/hosts` gets the entries. */
  container: pulumi.Input<{ docker: pulumi.Input<string> }>;
  /** The lines of our block, in order. An empty list keeps an empty block. */
  entries: pulumi.Input<pulumi.Input<HostsEntryArgs>[]>;
}

/** Resolved, validated inputs as the provider sees them. */
export interface HostsInputs {
  connection: ConnectionSpec;
  container: { docker: string };
  entries: { address: string; names: string[] }[];
  /** The owning stack, `project/stack` (part of the block's mark). */
  owner?: string;
}

/** Outputs (state): the inputs plus where the block was written. */
export interface HostsOutputs extends HostsInputs {
  hostId: string;
  /** Docker's id of the container when written. */
  containerId: string;
  /** The host file Docker mounts as the container's `/etc/hosts`. */
  hostsPath: string;
  /** Whether the block is there as written (false after a refresh found it gone or changed, e.g. after a restart). */
  present: boolean;
}
