/**
 * S1 — Docker's bridge mode rebuilt by hand: a bridge with 172.16.0.1/16, and
 * two `--net=none` containers attached through veth pairs as eth0 with
 * 172.16.0.2/16 and 172.16.0.3/16, default route via the bridge.
 */
import * as pulumi from "@pulumi/pulumi";
import * as hostnet from "pulumi-hostnet";

/** The two containers, by Docker name. */
export interface S1Containers {
  base: string;
  other: string;
}

/** Declares the S1 resources on the host behind `connection`. */
export function s1(connection: pulumi.Input<hostnet.Connection>, c: S1Containers) {
  const br = new hostnet.Bridge("br", { connection, name: "hnbr-s1", addresses: ["172.16.0.1/16"] });
  const vBase = new hostnet.VethPair("base", { connection, name: "veth-base", peerName: "veth-base-c", bridge: br.name });
  const vOther = new hostnet.VethPair("other", { connection, name: "veth-other", peerName: "veth-other-c", bridge: br.name });
  const aBase = new hostnet.ContainerAttachment("base", {
    connection, container: { docker: c.base }, interface: vBase.peerName, ifname: "eth0",
    addresses: ["172.16.0.2/16"], gateway: "172.16.0.1",
  });
  const aOther = new hostnet.ContainerAttachment("other", {
    connection, container: { docker: c.other }, interface: vOther.peerName, ifname: "eth0",
    addresses: ["172.16.0.3/16"], gateway: "172.16.0.1",
  });
  return { bridge: br.name, base: aBase.addresses, other: aOther.addresses };
}

/** Checks a person would run: each container pings the gateway and the other one. */
export const s1Checks = (c: S1Containers): [string, string[]][] => [
  [c.base, ["ping", "-c", "1", "-W", "2", "172.16.0.1"]],
  [c.base, ["ping", "-c", "1", "-W", "2", "172.16.0.3"]],
  [c.other, ["ping", "-c", "1", "-W", "2", "172.16.0.2"]],
];
