/**
 * The program of the root Pulumi.yaml: bridges from stack configuration, so
 * `pulumi up` works from a clone with a standard Pulumi install.
 *
 *   pulumi config set --path 'hostnet:connection.host' 10.0.0.5
 *   pulumi config set --path 'hostnet:connection.hostKey' 'ssh-ed25519 AAAA…'
 *   pulumi config set --secret --path 'hostnet:connection.privateKey' "$(cat ~/.ssh/id_ed25519)"
 *   pulumi config set --path 'hostnet:bridges[0].name' mybr0
 *   pulumi config set --path 'hostnet:bridges[0].addresses[0]' 192.168.1.1/24
 */
import * as pulumi from "@pulumi/pulumi";
import { Bridge, BridgeArgs } from "../provider";
import { Connection } from "../provider/host/connection";

const cfg = new pulumi.Config("hostnet");
const connection = cfg.requireSecretObject<Connection>("connection");
const bridges = cfg.getObject<Omit<BridgeArgs, "connection">[]>("bridges") ?? [];

export const bridgeNames = bridges.map((b) => new Bridge(String(b.name), { ...b, connection }).name);
