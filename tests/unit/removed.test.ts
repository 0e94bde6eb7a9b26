import { strict as assert } from "node:assert";
import { removedFromSpec, urnName } from "../../provider/cli/removed";
import { planTopology, resourceNamesOf } from "../../provider/topology/plan";
import { Spec } from "../../provider/spec/types";

const urn = (type: string, name: string) => `urn:pulumi:dev::hostnet-net::hostnet:index:Topology$${type}::${name}`;

describe("unit: what left the spec (deleted only after the rest applied)", () => {
  const spec = {
    name: "removed",
    hosts: { h0: { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" } },
    bridges: [{ host: "h0", name: "br1", addresses: ["172.20.0.1/24"] }],
    nat: { masquerade: [{ host: "h0", bridge: "br1" }] },
  } as unknown as Spec;

  it("names every resource Topology declares", () => {
    assert.deepEqual([...resourceNamesOf(planTopology(spec))].sort(), ["h0.bridge.br1", "h0.masquerade.br1"].sort());
  });

  it("returns the hostnet resources of the state that the spec no longer declares, and nothing else", () => {
    const state = [
      { urn: "urn:pulumi:dev::hostnet-net::pulumi:pulumi:Stack::hostnet-net-dev", type: "pulumi:pulumi:Stack", custom: false },
      { urn: "urn:pulumi:dev::hostnet-net::pulumi:providers:pulumi-nodejs::default", type: "pulumi:providers:pulumi-nodejs", custom: true },
      { urn: urn("pulumi-nodejs:dynamic/hostnet:Bridge", "h0.bridge.br0"), type: "pulumi-nodejs:dynamic/hostnet:Bridge", custom: true },
      { urn: urn("pulumi-nodejs:dynamic/hostnet:Bridge", "h0.bridge.br1"), type: "pulumi-nodejs:dynamic/hostnet:Bridge", custom: true },
      { urn: urn("pulumi-nodejs:dynamic/hostnet:NatRule", "h0.masquerade.br1"), type: "pulumi-nodejs:dynamic/hostnet:NatRule", custom: true },
      { urn: urn("pulumi-nodejs:dynamic/hostnet:NatRule", "h0.publish.web.tcp.8080"), type: "pulumi-nodejs:dynamic/hostnet:NatRule", custom: true },
      { urn: urn("pulumi-nodejs:dynamic:Resource", "someone-elses"), type: "pulumi-nodejs:dynamic:Resource", custom: true },
    ];
    const removed = removedFromSpec(state, resourceNamesOf(planTopology(spec)));
    assert.deepEqual(removed.map(urnName), ["h0.bridge.br0", "h0.publish.web.tcp.8080"]);
  });
});
