/**
 * S5 — a point-to-point link between two `--net=none` containers: one veth
 * pair with no bridge, one end in each container with a /32 address and a
 * host route to the other end.
 */
import * as pulumi from "@pulumi/pulumi";
import * as hostnet from "pulumi-hostnet";

/** The two containers, by Docker name. */
export interface S5Containers {
  test1: string;
  test2: string;
}

/** Declares the S5 resources on the host behind `connection`. */
export function s5(connection: pulumi.Input<hostnet.Connection>, c: S5Containers) {
  const link = new hostnet.VethPair("p2p", { connection, name: "vethA", peerName: "vethB" });
  const a = new hostnet.ContainerAttachment("test2", {
    connection, container: { docker: c.test2 }, interface: link.name, ifname: "vethA",
    addresses: ["10.0.0.1/32"], routes: [{ to: "10.0.0.2/32" }],
  });
  const b = new hostnet.ContainerAttachment("test1", {
    connection, container: { docker: c.test1 }, interface: link.peerName, ifname: "vethB",
    addresses: ["10.0.0.2/32"], routes: [{ to: "10.0.0.1/32" }],
  });
  return { test2: a.addresses, test1: b.addresses };
}

/** Checks a person would run: each container pings the other. */
export const s5Checks = (c: S5Containers): [string, string[]][] => [
  [c.test1, ["ping", "-c", "1", "-W", "2", "10.0.0.1"]],
  [c.test2, ["ping", "-c", "1", "-W", "2", "10.0.0.2"]],
];
