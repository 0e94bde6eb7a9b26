/** The `HostsEntries` resource. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, secretConnection } from "../../host/connection";
import { HostnetResource, ownerLabel, withSecretConnection } from "../common/dynamic";
import { trackRegistration } from "../../automation/engine-link";
import { HostsEntriesArgs } from "./args";

export { HostsEntriesArgs, HostsEntryArgs } from "./args";

/**
 * Names for a Docker container's peers, as Docker's legacy `--link` gave
 * them: one block of lines in the container's `/etc/hosts` (the host file
 * Docker mounts there, `HostsPath`), marked as this stack's, rewritten as a
 * whole, never touching the lines that are not ours; removed on delete,
 * leaving the file as it was. Docker rewrites the file when the container
 * restarts: a refresh then finds the block gone, and the next `up` writes it
 * again.
 */
export class HostsEntries extends HostnetResource {
  declare readonly connection: pulumi.Output<ConnectionSpec>;
  declare readonly container: pulumi.Output<{ docker: string }>;
  declare readonly entries: pulumi.Output<{ address: string; names: string[] }[]>;
  declare readonly hostId: pulumi.Output<string>;
  /** The host's file that Docker mounts as the container's `/etc/hosts`. */
  declare readonly hostsPath: pulumi.Output<string>;
  /** False when a refresh found our block gone (a restarted container). */
  declare readonly present: pulumi.Output<boolean>;

  constructor(name: string, args: HostsEntriesArgs, opts?: pulumi.CustomResourceOptions) {
    const props = { ...args, owner: ownerLabel(), connection: secretConnection(args.connection), hostId: undefined, containerId: undefined, hostsPath: undefined, present: undefined };
    super("hosts", "HostsEntries", name, props, withSecretConnection(opts));
    trackRegistration(this);
  }
}
