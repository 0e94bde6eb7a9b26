/**
 * S3 — NAT out and a published port in: a bridge `hnbr-s3` with
 * 172.20.0.1/16, a container `web` on it at 172.20.0.2 (running busybox
 * httpd on port 80), MASQUERADE for the bridge subnet leaving by any other
 * interface, and host port 8080 published to web:80 (from outside, from the
 * host itself, and — hairpin — from other containers on the bridge).
 */
import * as pulumi from "@pulumi/pulumi";
import * as hostnet from "pulumi-hostnet";

/** The container, by Docker name. */
export interface S3Containers {
  web: string;
}

/** Declares the S3 resources on the host behind `connection`. */
export function s3(connection: pulumi.Input<hostnet.Connection>, c: S3Containers) {
  const br = new hostnet.Bridge("br", { connection, name: "hnbr-s3", addresses: ["172.20.0.1/16"] });
  const veth = new hostnet.VethPair("web", { connection, name: "veth-web", peerName: "veth-web-c", bridge: br.name });
  new hostnet.ContainerAttachment("web", {
    connection, container: { docker: c.web }, interface: veth.peerName,
    addresses: ["172.20.0.2/16"], gateway: "172.20.0.1",
  });
  const out = new hostnet.NatRule("out", { connection, kind: "masquerade", source: "172.20.0.0/16", notOutInterface: br.name });
  const http = new hostnet.NatRule("http", {
    connection, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.20.0.2:80", hairpinSource: "172.20.0.0/16",
  });
  return { bridge: br.name, masquerade: out.tag, published: http.tag, flavor: http.flavor };
}
