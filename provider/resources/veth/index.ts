/** The `VethPair` resource. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, secretConnection } from "../../host/connection";
import { HostnetResource, ownerLabel, withSecretConnection } from "../common/dynamic";
import { trackRegistration } from "../../automation/engine-link";
import { VethPairArgs } from "./args";

export { VethPairArgs } from "./args";

/**
 * A veth pair (`ip link add NAME type veth peer name PEER`), both ends marked
 * as ours. `name` optionally joins a bridge; `peerName` is the end a
 * `ContainerAttachment` moves into a container. For a point-to-point link
 * between two containers, leave out `bridge` and attach both ends.
 */
export class VethPair extends HostnetResource {
  declare readonly connection: pulumi.Output<ConnectionSpec>;
  declare readonly name: pulumi.Output<string>;
  declare readonly peerName: pulumi.Output<string>;
  declare readonly bridge: pulumi.Output<string | undefined>;
  declare readonly mtu: pulumi.Output<number>;
  declare readonly mac: pulumi.Output<string>;
  declare readonly hostId: pulumi.Output<string>;
  declare readonly ifindex: pulumi.Output<number>;
  /** `host` or `moved` (into another namespace). */
  declare readonly location: pulumi.Output<string>;
  /** `host` or `moved` (into another namespace). */
  declare readonly peerLocation: pulumi.Output<string>;

  constructor(name: string, args: VethPairArgs, opts?: pulumi.CustomResourceOptions) {
    const props = { ...args, owner: ownerLabel(), connection: secretConnection(args.connection), hostId: undefined, ifindex: undefined, location: undefined, peerLocation: undefined, given: undefined };
    super("veth", "VethPair", name, props, withSecretConnection(opts));
    trackRegistration(this);
  }
}
