// A program that already drives a host with @pulumi/command's remote.Command
// passes the very same connection object to hostnet's resources:
//   pulumi config set host 192.0.2.10
//   pulumi config set hostKey "$(ssh-keyscan -t ed25519 192.0.2.10 2>/dev/null | cut -d' ' -f2-)"   # check its fingerprint first
//   pulumi config set --secret privateKey < ~/.ssh/id_ed25519
//   pulumi up
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as hostnet from "pulumi-hostnet";

const cfg = new pulumi.Config();

/** One connection, typed as remote.Command wants it; hostnet takes it unchanged. */
const connection: command.types.input.remote.ConnectionArgs = {
  host: cfg.require("host"),
  user: cfg.get("user") ?? "root",
  hostKey: cfg.require("hostKey"),
  privateKey: cfg.requireSecret("privateKey"),
};

// The host's tools first (what hostnet runs: ip, iptables, nsenter) ...
const tools = new command.remote.Command("network-tools", {
  connection,
  create: "command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iproute2 iptables util-linux || true",
});

// ... then the bridge, once they are there.
const bridge = new hostnet.Bridge("lab", { connection, name: "hnlab0", addresses: ["172.28.0.1/24"] }, { dependsOn: [tools] });

export const bridgeName = bridge.name;
export const bridgeAddresses = bridge.addresses;
