/** The `Bridge` resource: a Linux bridge on a host. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, secretConnection } from "../../host/connection";
import { HostnetResource, ownerLabel, withSecretConnection } from "../common/dynamic";
import { trackRegistration } from "../../automation/engine-link";
import { BridgeArgs } from "./args";

export { BridgeArgs } from "./args";

/**
 * A Linux bridge (`ip link add NAME type bridge`), marked as ours with the
 * link alias `hostnet:<stack hash>:bridge/<name> <project>/<stack>`, with forward accepts where the host's FORWARD drops. Renaming replaces it (delete first); addresses,
 * MTU, MAC, STP, VLAN filtering and up/down update in place.
 *
 * @example
 * new hostnet.Bridge("mybr0", { connection: node1, name: "mybr0", addresses: ["192.168.1.1/24"] });
 */
export class Bridge extends HostnetResource {
  declare readonly connection: pulumi.Output<ConnectionSpec>;
  declare readonly name: pulumi.Output<string>;
  declare readonly addresses: pulumi.Output<string[]>;
  declare readonly mtu: pulumi.Output<number>;
  declare readonly mac: pulumi.Output<string>;
  declare readonly stp: pulumi.Output<boolean>;
  declare readonly vlanFiltering: pulumi.Output<boolean>;
  declare readonly up: pulumi.Output<boolean>;
  declare readonly adopt: pulumi.Output<boolean>;
  /** Host identity (`host:port`, `local`, `netns:NAME`). */
  declare readonly hostId: pulumi.Output<string>;
  /** Kernel interface index. */
  declare readonly ifindex: pulumi.Output<number>;
  /** True when the bridge existed before and was adopted. */
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: BridgeArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...args,
      connection: secretConnection(args.connection),
      owner: ownerLabel(),
      hostId: undefined,
      ifindex: undefined,
      adopted: undefined,
      previousAlias: undefined,
      forwardFlavor: undefined,
      given: undefined,
    };
    super("bridge", "Bridge", name, props, withSecretConnection(opts));
    trackRegistration(this);
  }
}
