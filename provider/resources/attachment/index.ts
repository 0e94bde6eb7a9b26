/** The `ContainerAttachment` resource. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, secretConnection } from "../../host/connection";
import { HostnetResource, ownerLabel, withSecretConnection } from "../common/dynamic";
import { trackRegistration } from "../../automation/engine-link";
import { ContainerAttachmentArgs, ContainerRef, RouteInput } from "./args";

export { ContainerAttachmentArgs, ContainerRef, RouteArgs } from "./args";

/**
 * Puts an interface into a container's network namespace (Docker container,
 * any PID, or a named namespace): with `bridge`, it makes its own veth pair,
 * the container end created directly inside the namespace and the host end
 * on the bridge (`ip link add … peer name eth0 netns …`); without, it moves
 * in a `VethPair`'s end and renames it (default `eth0`). It addresses it,
 * brings it and `lo` up, and sets the default route and extra routes — the
 * manual `ip link set vethB netns $pid` steps, declaratively. Containers in
 * host network mode are refused. A restarted container (new namespace) shows
 * as drift on refresh; the next `up` recreates the pair and re-plumbs it.
 * (A pair of its own goes with the container's old namespace, and is made anew.)
 */
export class ContainerAttachment extends HostnetResource {
  declare readonly connection: pulumi.Output<ConnectionSpec>;
  declare readonly container: pulumi.Output<ContainerRef>;
  declare readonly interface: pulumi.Output<string>;
  /** The bridge of the pair this attachment made itself, undefined when it moved in another's end. */
  declare readonly bridge: pulumi.Output<string | undefined>;
  declare readonly ifname: pulumi.Output<string>;
  declare readonly addresses: pulumi.Output<string[]>;
  declare readonly gateway: pulumi.Output<string | undefined>;
  /** The IPv6 default gateway beside an IPv4 `gateway`. */
  declare readonly gateway6: pulumi.Output<string | undefined>;
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
    super("attachment", "ContainerAttachment", name, props, withSecretConnection(opts));
    trackRegistration(this);
  }
}
