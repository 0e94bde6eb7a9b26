import { strict as assert } from "node:assert";
import { InspectReport, allInSync, driftOf, formatReport, hostOfUrn, kindOfType, objectName, show, statusText } from "../../provider/inspect/report";
import { inventoryFrom } from "../../provider/topology/topology";

describe("unit: inspect report (drift, names, table)", () => {
  it("driftOf lists exactly the fields that differ, in normal form, leaving out connection, owner and the engine's", () => {
    const want = { connection: { host: "a" }, owner: "p/s", name: "eth0", addresses: ["172.16.0.2/16"], routes: [{ to: "10.0.0.0/8", via: "172.16.0.1" }], gateway: "172.16.0.1" };
    const have = { connection: { host: "b" }, owner: "x/y", name: "eth0", addresses: ["172.16.0.9/16"], routes: [{ via: "172.16.0.1", to: "10.0.0.0/8" }] };
    assert.deepEqual(driftOf(want, have), [
      { field: "addresses", want: "172.16.0.2/16", have: "172.16.0.9/16" },
      { field: "gateway", want: "172.16.0.1", have: "(none)" },
    ]);
    assert.deepEqual(driftOf(want, { ...want, connection: { host: "c" } }), []);
  });

  it("show: lists, records and absent values as a reader expects", () => {
    assert.equal(show(["a", "b"]), "a, b");
    assert.equal(show([]), "(none)");
    assert.equal(show({ to: "0.0.0.0/0", via: "1.2.3.4" }), "to=0.0.0.0/0 via=1.2.3.4");
    assert.equal(show(1500), "1500");
  });

  it("kinds from resource types, hosts from URNs (longest host name first, others undefined)", () => {
    assert.equal(kindOfType("pulumi-nodejs:dynamic/hostnet:Bridge"), "bridge");
    assert.equal(kindOfType("pulumi-nodejs:dynamic/hostnet:ContainerAttachment"), "attachment");
    assert.equal(kindOfType("pulumi-nodejs:dynamic/hostnet:NatRule"), "nat");
    assert.equal(kindOfType("pulumi-nodejs:dynamic/hostnet:VethPair"), "veth");
    assert.equal(kindOfType("hostnet:index:Topology"), undefined);
    const urn = (n: string) => `urn:pulumi:s::p::hostnet:index:Topology$pulumi-nodejs:dynamic/hostnet:Bridge::${n}`;
    assert.equal(hostOfUrn(urn("h1.bridge.br0"), ["h1", "h1.x"]), "h1");
    assert.equal(hostOfUrn(urn("h1.x.bridge.br0"), ["h1", "h1.x"]), "h1.x");
    assert.equal(hostOfUrn(urn("h9.bridge.br0"), ["h1"]), undefined);
  });

  it("names objects as ip and iptables users know them, from outputs or from the plan", () => {
    assert.equal(objectName("bridge", { name: "mybr0" }), "mybr0");
    assert.equal(objectName("attachment", { container: { docker: "web" }, ifname: "eth0" }), "web:eth0");
    assert.equal(objectName("nat", { kind: "dnat", protocol: "tcp", hostPort: { from: 8080, to: 8080 }, toIp: "172.16.0.2", toPort: { from: 80, to: 80 } }), "publish tcp 8080 -> 172.16.0.2:80");
    assert.equal(objectName("nat", { kind: "dnat", protocol: "udp", hostPort: "9000-9005", to: "172.16.0.2" }), "publish udp 9000-9005 -> 172.16.0.2");
    assert.equal(objectName("nat", { kind: "masquerade", source: "172.16.0.0/16", notOutInterface: "mybr0" }), "masquerade 172.16.0.0/16 !-o mybr0");
  });

  it("the table: one block per host, drift as field: want → have, orphans, a summary; JSON-ready and a sync verdict", () => {
    const report: InspectReport = {
      stack: "demo/demo",
      objects: [
        { host: "h1", kind: "bridge", resource: "h1.bridge.mybr0", object: "mybr0", details: "172.16.0.1/16 mtu 1500 up", status: "in sync", drift: [] },
        { host: "h1", kind: "attachment", resource: "h1.web.eth0", object: "web:eth0", details: "172.16.0.9/16", status: "drifted", drift: [{ field: "addresses", want: "172.16.0.2/16", have: "172.16.0.9/16" }] },
        { host: "h2", kind: "nat", resource: "h2.publish.web.tcp.8080", object: "publish tcp 8080 -> 172.17.0.2:80", details: "", status: "missing", drift: [] },
      ],
      orphans: [{ host: "h1", where: "link old0", mark: "hostnet:12345678:bridge/old0 demo/demo" }],
    };
    const text = formatReport(report);
    assert.equal(statusText(report.objects[1]), "drifted (addresses: 172.16.0.2/16 → 172.16.0.9/16)");
    assert.equal(
      text,
      [
        "host h1",
        "  KIND        OBJECT    DETAILS                    STATUS",
        "  bridge      mybr0     172.16.0.1/16 mtu 1500 up  in sync",
        "  attachment  web:eth0  172.16.0.9/16              drifted (addresses: 172.16.0.2/16 → 172.16.0.9/16)",
        "  orphans (carry this stack's mark, claimed by no resource):",
        "    link old0: hostnet:12345678:bridge/old0 demo/demo",
        "host h2",
        "  KIND  OBJECT                             DETAILS  STATUS",
        "  nat   publish tcp 8080 -> 172.17.0.2:80           missing",
        "stack demo/demo: 1 in sync, 1 drifted, 1 missing, 1 orphan(s)",
        "",
      ].join("\n"),
    );
    assert.equal(allInSync(report), false);
    assert.equal(allInSync({ stack: "s", objects: [report.objects[0]], orphans: [] }), true);
  });

  it("the inventory after up comes from what each resource reports; a failed resource (undefined) is left out", () => {
    assert.deepEqual(
      inventoryFrom([{ bridge: "mybr0" }, { container: "web", ifname: "eth0", addresses: ["172.16.0.2/16"] }, undefined, { published: "tcp 8080 -> 172.16.0.2:80" }, { masqueraded: "172.16.0.0/16" }]),
      { bridges: ["mybr0"], containers: { web: { eth0: ["172.16.0.2/16"] } }, published: ["tcp 8080 -> 172.16.0.2:80"], masqueraded: ["172.16.0.0/16"] },
    );
  });
});
