import { strict as assert } from "node:assert";
import { diffVxlan, mtuProblem, normalizeVxlan, parseVxlanFdb, parseVxlanDevice, planVxlanCreate, planVxlanUpdate, underlayOf, verifyVxlan } from "../../provider/resources/vxlan/plan";
import { VxlanOutputs } from "../../provider/resources/vxlan/args";
import { LinkState } from "../../provider/linux/parse";
import { parseSpec } from "../../provider/spec/load";
import { planTopology } from "../../provider/topology/plan";
import { toMermaid } from "../../provider/topology/graph";

const base = { connection: { local: true }, name: "hnvx42", vni: 42, local: "10.250.0.1", remotes: ["10.250.0.3", "10.250.0.2"], bridge: "br0" };
const link = (o: Partial<LinkState>): LinkState => ({ ifindex: 9, name: "hnvx42", kind: "vxlan", mtu: 1450, mac: "", up: true, alias: "M", addresses: [], master: "br0", ...o });

describe("unit: Vxlan validation, diff, reads and steps", () => {
  it("validates with the field and what was expected; defaults port 4789 and mtu 1450 (1430 over IPv6)", () => {
    const d = normalizeVxlan(base);
    assert.deepEqual([d.port, d.mtu, d.remotes], [4789, 1450, ["10.250.0.2", "10.250.0.3"]]);
    assert.equal(normalizeVxlan({ ...base, local: "fd00::1", remotes: ["fd00::2"] }).mtu, 1430);
    assert.throws(() => normalizeVxlan({ ...base, vni: 0 }), /vni: expected a VXLAN network identifier 1-16777215, got 0/);
    assert.throws(() => normalizeVxlan({ ...base, remotes: ["10.250.0.1"] }), /remotes\[0\]: 10.250.0.1 is this host's own address/);
    assert.throws(() => normalizeVxlan({ ...base, remotes: ["fd00::2"] }), /remotes\[0\]: fd00::2 is not of the family of local/);
    assert.throws(() => normalizeVxlan({ ...base, remotes: ["10.250.0.2", "10.250.0.2"] }), /remotes: 10.250.0.2 is listed twice/);
    assert.throws(() => normalizeVxlan({ ...base, name: "x; reboot" }), /name:/);
    assert.throws(() => normalizeVxlan({ ...base, bridge: "hnvx42" }), /bridge: the device hnvx42 cannot be its own bridge/);
  });

  it("members, bridge and MTU change in place; VNI, local and port replace", () => {
    const d = normalizeVxlan(base);
    const olds = { ...d, hostId: "local", underlay: "u0", present: true } as VxlanOutputs;
    assert.deepEqual(diffVxlan(olds, normalizeVxlan({ ...base, remotes: ["10.250.0.2"] })), { changes: true, replaces: [], changed: ["remotes"] });
    assert.deepEqual(diffVxlan(olds, normalizeVxlan({ ...base, vni: 43, bridge: "br1" })).replaces, ["vni"]);
    assert.equal(diffVxlan(olds, d).changes, false);
  });

  it("reads the device (ip -j -d) and its flood entries (bridge -j fdb); finds the underlay by address and refuses an MTU it cannot carry", () => {
    const dev = parseVxlanDevice(JSON.stringify([{ ifname: "hnvx42", linkinfo: { info_kind: "vxlan", info_data: { id: 42, local: "10.250.0.1", link: "u0", port: 4789 } } }]), "hnvx42");
    assert.deepEqual(dev, { vni: 42, local: "10.250.0.1", port: 4789, underlay: "u0" });
    assert.equal(parseVxlanDevice(JSON.stringify([{ ifname: "hnvx42", linkinfo: { info_kind: "bridge" } }]), "hnvx42"), undefined);
    const fdb = [{ mac: "f2:79:18:58:14:5f", master: "br0", state: "permanent" }, { mac: "00:00:00:00:00:00", dst: "10.250.0.3", flags: ["self"], state: "permanent" }, { mac: "00:00:00:00:00:00", dst: "10.250.0.2", flags: ["self"], state: "permanent" }, { mac: "aa:bb:cc:dd:ee:ff", dst: "10.250.0.2", flags: ["self"] }];
    assert.deepEqual(parseVxlanFdb(JSON.stringify(fdb)), { remotes: ["10.250.0.2", "10.250.0.3"], learnt: new Map([["10.250.0.2", ["aa:bb:cc:dd:ee:ff"]]]) });
    const u0 = link({ name: "u0", kind: "veth", mtu: 1500, addresses: ["10.250.0.1/24"], master: undefined });
    assert.equal(underlayOf([link({}), u0], "10.250.0.1"), u0);
    assert.equal(mtuProblem(u0, normalizeVxlan(base)), undefined);
    assert.match(mtuProblem({ ...u0, mtu: 1400 }, normalizeVxlan(base)) ?? "", /the underlay u0 has MTU 1400, and VXLAN over IPv4 adds 50 bytes: give mtu 1350 or less/);
  });

  it("create: add on the underlay, mark, mtu+bridge+up, one flood entry per member; update adds and removes members with exact undo", () => {
    const d = normalizeVxlan(base);
    assert.deepEqual(planVxlanCreate(d, "u0", "M").map((s) => s.argv.join(" ")), [
      "ip link add hnvx42 type vxlan id 42 local 10.250.0.1 dstport 4789 dev u0",
      "ip link set dev hnvx42 alias M",
      "ip link set dev hnvx42 mtu 1450 master br0 up",
      "bridge fdb append 00:00:00:00:00:00 dev hnvx42 dst 10.250.0.2",
      "bridge fdb append 00:00:00:00:00:00 dev hnvx42 dst 10.250.0.3",
    ]);
    const steps = planVxlanUpdate(link({}), { remotes: ["10.250.0.2", "10.250.0.9"], learnt: new Map([["10.250.0.9", ["aa:bb:cc:dd:ee:ff"]], ["10.250.0.2", ["aa:bb:cc:dd:ee:01"]]]) }, d);
    assert.deepEqual(steps.map((s) => s.argv.join(" ")), [
      "bridge fdb append 00:00:00:00:00:00 dev hnvx42 dst 10.250.0.3",
      "bridge fdb del 00:00:00:00:00:00 dev hnvx42 dst 10.250.0.9",
      "bridge fdb del aa:bb:cc:dd:ee:ff dev hnvx42 dst 10.250.0.9",
    ]);
    assert.deepEqual(steps[1].undo, [["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "hnvx42", "dst", "10.250.0.9"]]);
    assert.deepEqual(verifyVxlan(link({}), { vni: 42, local: "10.250.0.1", port: 4789 }, ["10.250.0.2"], d, "M"), ["members are 10.250.0.2"]);
  });

  it("spec overlays: one Vxlan per member listing the others; container interfaces on a member bridge get the segment's MTU", () => {
    const spec = parseSpec(`
name: ov
hosts: { a: { local: true }, b: { netns: nb }, c: { netns: nc } }
bridges: [{ host: a, name: br0 }, { host: b, name: br0 }, { host: c, name: br1 }]
containers:
  - { host: a, name: x, interfaces: [{ bridge: br0, addresses: [10.77.0.1/24] }] }
  - { host: b, name: y, interfaces: [{ bridge: br0, addresses: [10.77.0.2/24], mtu: 1400 }] }
overlays:
  - { name: lab, vni: 77, members: [{ host: a, address: 10.250.0.1, bridge: br0 }, { host: b, address: 10.250.0.2, bridge: br0 }, { host: c, address: 10.250.0.3, bridge: br1 }] }
`, "ov.yaml").spec;
    const plans = planTopology(spec);
    assert.deepEqual(plans.flatMap((p) => p.overlays).map((o) => `${o.resourceName} ${o.name} ${o.local} -> ${o.remotes.join(",")} on ${o.bridge} mtu ${o.mtu}`), [
      "a.overlay.lab hnvx77 10.250.0.1 -> 10.250.0.2,10.250.0.3 on br0 mtu 1450",
      "b.overlay.lab hnvx77 10.250.0.2 -> 10.250.0.1,10.250.0.3 on br0 mtu 1450",
      "c.overlay.lab hnvx77 10.250.0.3 -> 10.250.0.1,10.250.0.2 on br1 mtu 1450",
    ]);
    assert.deepEqual(plans.flatMap((p) => p.veths.map((v) => v.attachments[0].mtu)), [1450, 1400]);
    // The graph joins the member bridges across the hosts' boxes.
    const mermaid = toMermaid(spec);
    assert.match(mermaid, /a_br_br0 -\.->\|"vxlan 77 10\.250\.0\.1 - 10\.250\.0\.2"\| b_br_br0/);
    assert.match(mermaid, /b_br_br0 -\.->\|"vxlan 77 10\.250\.0\.2 - 10\.250\.0\.3"\| c_br_br1/);
  });
});
