import { strict as assert } from "node:assert";
import { asCommand } from "../../provider/resources/common/steps";
import { diffVeth, normalizeVeth, planVethCreate, planVethUpdate, vethMarks } from "../../provider/resources/veth/plan";
import { VethOutputs } from "../../provider/resources/veth/args";
import { LinkState } from "../../provider/linux/parse";

const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
const marks = vethMarks("n1/veth/va");
const link = (over: Partial<LinkState>): LinkState => ({ ifindex: 5, name: "va", kind: "veth", mtu: 1500, mac: "02:00:00:00:00:0a", up: true, alias: marks.name, addresses: [], ...over });

describe("unit: VethPair plan and diff policy", () => {
  it("validates names, distinct ends and the bridge", () => {
    assert.throws(() => normalizeVeth({ connection: conn, name: "va", peerName: "va" }), /peerName: must differ from name/);
    assert.throws(() => normalizeVeth({ connection: conn, name: "va", peerName: "a-name-too-long-x" }), /peerName: expected an interface name/);
    assert.throws(() => normalizeVeth({ connection: conn, name: "va", peerName: "vb", bridge: "va" }), /bridge: a veth end cannot be its own bridge/);
  });
  it("plans a create: pair, both marks, master, both up", () => {
    const steps = planVethCreate(normalizeVeth({ connection: conn, name: "va", peerName: "vb", bridge: "br0", mtu: 1400, peerMac: "02:00:00:00:00:0b" }), marks);
    assert.deepEqual(steps.map((s) => s.argv.join(" ")), [
      "ip link add name va mtu 1400 type veth peer name vb mtu 1400 address 02:00:00:00:00:0b",
      `ip link set dev va alias ${marks.name}`,
      `ip link set dev vb alias ${marks.peer}`,
      "ip link set dev va master br0",
      "ip link set dev va up",
      "ip link set dev vb up",
    ]);
    assert.deepEqual(steps[0].undo, [["ip", "link", "del", "dev", "va"]]);
  });
  it("re-masters in place with an undo that restores the old master", () => {
    const steps = planVethUpdate(link({ master: "br0" }), undefined, normalizeVeth({ connection: conn, name: "va", peerName: "vb", bridge: "br1" }), marks);
    assert.deepEqual(steps.map((s) => [s.argv.join(" "), s.undo.map((u) => asCommand(u).argv.join(" "))]), [["ip link set dev va master br1", ["ip link set dev va master br0"]]]);
    const detach = planVethUpdate(link({ master: "br0" }), undefined, normalizeVeth({ connection: conn, name: "va", peerName: "vb" }), marks);
    assert.deepEqual(detach.map((s) => s.argv.join(" ")), ["ip link set dev va nomaster"]);
  });
  it("diff: names and peerMac replace; bridge, mtu, mac update in place", () => {
    const olds = { ...normalizeVeth({ connection: conn, name: "va", peerName: "vb", bridge: "br0" }), hostId: "n1", ifindex: 5, location: "host", peerLocation: "moved" } as VethOutputs;
    assert.deepEqual(diffVeth(olds, normalizeVeth({ connection: conn, name: "va", peerName: "vc", bridge: "br0" })).replaces, ["peerName"]);
    assert.deepEqual(diffVeth(olds, normalizeVeth({ connection: conn, name: "vx", peerName: "vb", bridge: "br0" })).replaces, ["name"]);
    const d = diffVeth(olds, normalizeVeth({ connection: conn, name: "va", peerName: "vb", bridge: "br1", mtu: 9000 }));
    assert.deepEqual([d.replaces, d.changed], [[], ["bridge", "mtu"]]);
    assert.equal(diffVeth(olds, normalizeVeth({ connection: conn, name: "va", peerName: "vb", bridge: "br0" })).changes, false);
  });
});
