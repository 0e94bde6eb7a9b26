import { strict as assert } from "node:assert";
import { hostTargets } from "../../provider/cli/targets";
import { hostOfName } from "../../provider/topology/graph";
import { parseSpec } from "../../provider/spec/load";
import { planTopology } from "../../provider/topology/plan";

const SPEC = `
name: lab
hosts:
  h1: { host: 10.0.0.5, hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl }
  h1.b: { host: 10.0.0.6, hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl }
bridges:
  - { host: h1, name: br1, addresses: [172.16.0.1/16] }
  - { host: h1.b, name: br2, addresses: [172.17.0.1/16] }
containers:
  - { host: h1, name: web, interfaces: [{ bridge: br1, addresses: [172.16.0.2/16] }] }
`;

describe("unit: --host targets", () => {
  const spec = parseSpec(SPEC, "net.yaml").spec;
  const hosts = Object.keys(spec.hosts);
  const urn = (type: string, name: string) => `urn:pulumi:lab::lab::hostnet:index:Topology$pulumi-nodejs:dynamic/hostnet:${type}::${name}`;

  it("a resource belongs to the longest host name that prefixes it (host names may hold dots)", () => {
    assert.equal(hostOfName("h1.bridge.br1", hosts), "h1");
    assert.equal(hostOfName("h1.b.bridge.br2", hosts), "h1.b");
    assert.equal(hostOfName("other.bridge.x", hosts), "(other)");
  });

  it("targets the host's declared resources by exact name, its state resources by URN (removed ones too), not the other host's", () => {
    const state = [
      { urn: "urn:pulumi:lab::lab::pulumi:pulumi:Stack::lab-lab", type: "pulumi:pulumi:Stack" },
      { urn: "urn:pulumi:lab::lab::hostnet:index:Topology::topology", type: "hostnet:index:Topology" },
      { urn: urn("Bridge", "h1.bridge.old"), type: "pulumi-nodejs:dynamic/hostnet:Bridge", custom: true },
      { urn: urn("Bridge", "h1.b.bridge.br2"), type: "pulumi-nodejs:dynamic/hostnet:Bridge", custom: true },
    ];
    const t = hostTargets(["h1"], planTopology(spec), state, hosts);
    assert.ok(t.includes("**::h1.bridge.br1") && t.includes("**::h1.web.eth0"), t.join("\n"));
    assert.ok(t.includes(urn("Bridge", "h1.bridge.old")), "what left the spec on h1 is deleted with it");
    assert.ok(!t.some((x) => x.includes("h1.b.")), "nothing of h1.b");
    assert.ok(!t.some((x) => x.endsWith("::topology") || x.endsWith("Topology::*")), "the existing Topology is not targeted (its dependents are every host)");
    assert.ok(hostTargets(["h1"], planTopology(spec), [], hosts).includes("**hostnet:index:Topology::*"), "a first run creates the Topology");
    const d = hostTargets(["h1.b"], planTopology(spec), state, hosts, true);
    assert.deepEqual(d, [urn("Bridge", "h1.b.bridge.br2")], "destroy: the host's resources in the state, nothing else");
  });
});
