/** The `Vxlan` resource. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, secretConnection } from "../../host/connection";
import { HostnetResource, ownerLabel, withSecretConnection } from "../common/dynamic";
import { trackRegistration } from "../../automation/engine-link";
import { VxlanArgs } from "./args";

export { VxlanArgs } from "./args";

/**
 * One host's end of a VXLAN segment: a VXLAN device (`ip link add NAME type
 * vxlan id VNI local ADDR dstport 4789 dev UNDERLAY`) on a bridge, with one
 * static all-zero FDB entry per other member (`bridge fdb append
 * 00:00:00:00:00:00 dev NAME dst REMOTE`: broadcast and unknown unicast go to
 * every member by unicast, no multicast), marked as ours with its alias.
 * Members are added and removed in place; VNI, local address and port replace
 * it. Declare one per member host, each listing the others (the spec's
 * `overlays:` does), and give the interfaces on the bridge an MTU the tunnel
 * carries (`mtu`, default 1450).
 *
 * @example
 * new hostnet.Vxlan("node1-lab", { connection: node1, name: "hnvx42", vni: 42, local: "10.0.0.5", remotes: ["10.0.0.6"], bridge: "br0" });
 */
export class Vxlan extends HostnetResource {
  declare readonly connection: pulumi.Output<ConnectionSpec>;
  declare readonly name: pulumi.Output<string>;
  declare readonly vni: pulumi.Output<number>;
  declare readonly local: pulumi.Output<string>;
  declare readonly remotes: pulumi.Output<string[]>;
  declare readonly bridge: pulumi.Output<string>;
  declare readonly port: pulumi.Output<number>;
  declare readonly mtu: pulumi.Output<number>;
  declare readonly hostId: pulumi.Output<string>;
  /** The underlay link that carries the tunnel. */
  declare readonly underlay: pulumi.Output<string>;
  /** False when a refresh found the device down. */
  declare readonly present: pulumi.Output<boolean>;

  constructor(name: string, args: VxlanArgs, opts?: pulumi.CustomResourceOptions) {
    const props = { ...args, owner: ownerLabel(), connection: secretConnection(args.connection), hostId: undefined, underlay: undefined, present: undefined, inputFlavor: undefined };
    super("vxlan", "Vxlan", name, props, withSecretConnection(opts));
    trackRegistration(this);
  }
}
