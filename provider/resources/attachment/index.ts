/** The `ContainerAttachment` resource. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, secretConnection } from "../../host/connection";
import { forwardingProvider, ownerLabel, withSecretConnection } from "../common/dynamic";
import { trackRegistration } from "../../automation/engine-link";
import { ContainerAttachmentArgs, ContainerRef, RouteInput } from "./args";

export { ContainerAttachmentArgs, ContainerRef, RouteArgs } from "./args";

/**
 * Moves a veth end into a container's network namespace (Docker container,
 * any PID, or a named namespace), renames it (default `eth0`), addresses it,
 * brings it and `lo` up, and sets the default route and extra routes — the
 * manual `ip link set vethB netns $pid` steps, declaratively. Containers in
 * host network mode are refused. A restarted container (new namespace) shows
 * as drift on refresh; the next `up` recreates the pair and re-plumbs it.
 */
export class ContainerAttachment extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ConnectionSpec>;
  declare readonly container: pulumi.Output<ContainerRef>;
  declare readonly interface: pulumi.Output<string>;
  declare readonly ifname: pulumi.Output<string>;
  declare readonly addresses: pulumi.Output<string[]>;
  declare readonly gateway: pulumi.Output<string | undefined>;
  declare readonly routes: pulumi.Output<RouteInput[]>;
  declare readonly hostId: pulumi.Output<string>;
  /** Inode of the container's network namespace when last applied or read. */
  declare readonly netnsInode: pulumi.Output<string>;
  declare readonly pid: pulumi.Output<number>;
  declare readonly containerId: pulumi.Output<string>;
  /** False when refresh found the interface missing inside the container (e.g. after a restart). */
  declare readonly present: pulumi.Output<boolean>;

  constructor(name: string, args: ContainerAttachmentArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...args,
      owner: ownerLabel(),
      connection: secretConnection(args.connection),
      hostId: undefined,
      netnsInode: undefined,
      pid: undefined,
      containerId: undefined,
      present: undefined,
      interfaceAlias: undefined,
    };
    super(forwardingProvider("attachment"), name, props, withSecretConnection(opts), "hostnet", "ContainerAttachment");
    trackRegistration(this);
  }
}
