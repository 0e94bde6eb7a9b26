import { strict as assert } from "node:assert";
import { asCommand } from "../../provider/resources/common/steps";
import { diffBridge, normalizeBridge, ownershipProblem, planBridge, stableBridgeMac, subnetClashes, verifyBridge } from "../../provider/resources/bridge/plan";
import { checkMac } from "../../provider/linux/names";
import { BridgeOutputs } from "../../provider/resources/bridge/args";
import { LinkState } from "../../provider/linux/parse";
import { linkMark, ownerOf } from "../../provider/resources/common/owner";

const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
const link = (over: Partial<LinkState> = {}): LinkState => ({
  ifindex: 7, name: "br0", kind: "bridge", mtu: 1500, mac: "02:00:00:00:00:01", up: true, alias: "hostnet:m", stp: false, vlanFiltering: false, addresses: [], ...over,
});

describe("unit: Bridge plan and diff policy", () => {
  it("normalises: canonical sorted addresses, defaults up=true adopt=false", () => {
    const n = normalizeBridge({ connection: conn, name: "br0", addresses: ["FD00::1/64", "10.0.0.1/24"] });
    assert.deepEqual(n.addresses, ["10.0.0.1/24", "fd00::1/64"]);
    assert.equal(n.up, true);
    assert.equal(n.adopt, false);
  });
  it("rejects duplicates and bad fields before any host is contacted", () => {
    assert.throws(() => normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24", "10.0.0.1/16"] }), /addresses\[1\]: address 10.0.0.1 is listed twice/);
    assert.throws(() => normalizeBridge({ connection: conn, name: "this-name-is-too-long" }), /^ValidationError: name:|name: expected/);
    assert.throws(() => normalizeBridge({ connection: conn, name: "br0", mtu: 10 }), /mtu: expected/);
  });

  const olds = (over: Partial<BridgeOutputs> = {}): BridgeOutputs => ({
    ...normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], mtu: 1500 }),
    hostId: "10.0.0.5:22", ifindex: 7, adopted: false, previousAlias: "", ...over,
  });
  it("no change when inputs equal state", () => {
    const d = diffBridge(olds(), normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], mtu: 1500 }));
    assert.deepEqual(d, { changes: false, replaces: [], changed: [], deleteBeforeReplace: true });
  });
  it("addresses and MTU update in place", () => {
    const d = diffBridge(olds(), normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.2/24"], mtu: 1400 }));
    assert.deepEqual(d.replaces, []);
    assert.deepEqual(d.changed, ["addresses", "mtu"]);
  });
  it("a rename or another host replaces, delete first", () => {
    const d = diffBridge(olds(), normalizeBridge({ connection: conn, name: "br1", addresses: ["10.0.0.1/24"] }));
    assert.deepEqual(d.replaces, ["name"]);
    assert.equal(d.deleteBeforeReplace, true);
    const h = diffBridge(olds(), normalizeBridge({ connection: { ...conn, host: "10.0.0.6" }, name: "br0", addresses: ["10.0.0.1/24"] }));
    assert.deepEqual(h.replaces, ["connection"]);
  });
  it("new credentials are an in-place change, not a replacement", () => {
    const d = diffBridge(olds(), normalizeBridge({ connection: { ...conn, privateKey: "k2" }, name: "br0", addresses: ["10.0.0.1/24"] }));
    assert.deepEqual(d.replaces, []);
    assert.deepEqual(d.changed, ["connection"]);
  });
  it("an optional field no longer given is left alone", () => {
    const d = diffBridge(olds({ mtu: 1400 }), normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"] }));
    assert.equal(d.changes, false);
  });

  it("plans a create with its undo", () => {
    const steps = planBridge(undefined, normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], mtu: 1400 }), "hostnet:m");
    assert.deepEqual(steps.map((s) => s.argv.join(" ")), [
      "ip link add name br0 mtu 1400 type bridge",
      "ip link set dev br0 alias hostnet:m",
      "ip addr add 10.0.0.1/24 dev br0",
      "ip link set dev br0 up",
    ]);
    assert.deepEqual(steps[0].undo, [["ip", "link", "del", "dev", "br0"]]);
  });
  it("a new bridge gets the default MAC unless the inputs give one", () => {
    const mac = stableBridgeMac("10.0.0.5:22", "hostnet:m");
    const plain = planBridge(undefined, normalizeBridge({ connection: conn, name: "br0" }), "hostnet:m", mac);
    assert.equal(plain[0].argv.join(" "), `ip link add name br0 address ${mac} type bridge`);
    const given = planBridge(undefined, normalizeBridge({ connection: conn, name: "br0", mac: "02:00:00:00:00:07" }), "hostnet:m", mac);
    assert.equal(given[0].argv.join(" "), "ip link add name br0 address 02:00:00:00:00:07 type bridge");
  });
  it("the default bridge MAC is stable per host and mark, unicast and locally administered", () => {
    const a = stableBridgeMac("10.0.0.5:22", "hostnet:m");
    assert.equal(a, stableBridgeMac("10.0.0.5:22", "hostnet:m"));
    assert.notEqual(a, stableBridgeMac("10.0.0.6:22", "hostnet:m"));
    assert.notEqual(a, stableBridgeMac("10.0.0.5:22", "hostnet:n"));
    for (let i = 0; i < 200; i++) {
      const first = parseInt(stableBridgeMac(`h${i}`, "m").slice(0, 2), 16);
      assert.equal(first & 3, 2, "unicast (bit 0 clear), locally administered (bit 1 set)");
    }
    assert.equal(checkMac(a, "mac"), a);
  });
  it("plans only what differs, each with the undo that restores the old value", () => {
    const steps = planBridge(link({ addresses: ["10.0.0.1/24", "10.0.0.9/24"], mtu: 1500 }), normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24", "fd00::1/64"], mtu: 1400 }), "hostnet:m");
    assert.deepEqual(steps.map((s) => [s.argv.join(" "), s.undo.map((u) => asCommand(u).argv.join(" "))]), [
      ["ip link set dev br0 mtu 1400", ["ip link set dev br0 mtu 1500"]],
      ["ip addr add fd00::1/64 dev br0 nodad", ["ip addr del fd00::1/64 dev br0"]],
      ["ip addr del 10.0.0.9/24 dev br0", ["ip addr add 10.0.0.9/24 dev br0"]],
    ]);
  });
  it("plans nothing when converged", () => {
    assert.deepEqual(planBridge(link({ addresses: ["10.0.0.1/24"] }), normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"] }), "hostnet:m"), []);
  });
  it("adoption marks the bridge and its undo restores the old alias", () => {
    const steps = planBridge(link({ alias: "mine" }), normalizeBridge({ connection: conn, name: "br0", adopt: true }), "hostnet:m");
    assert.deepEqual(steps[0].undo, [["ip", "link", "set", "dev", "br0", "alias", "mine"]]);
  });
  it("ownership: the wrong kind, someone else's bridge, another stack's (named), ours, a 0.1 mark, adopt", () => {
    const me = ownerOf("proj/dev");
    const other = ownerOf("proj/prod");
    const mine = linkMark(me, "bridge", "br0");
    assert.equal(mine, `hostnet:${me.hash}:bridge/br0 proj/dev`);
    assert.equal(ownershipProblem(link({ kind: "veth" }), me, [], true, "node1"), "br0 exists on node1 but is a veth, not a bridge");
    assert.match(ownershipProblem(link({ alias: "" }), me, [], false, "node1") ?? "", /already exists on node1 and is not managed by this resource.*adopt: true/);
    assert.match(ownershipProblem(link({ alias: linkMark(other, "bridge", "br0") }), me, [], false, "node1") ?? "", /belongs to another hostnet stack proj\/prod/);
    assert.equal(ownershipProblem(link({ alias: mine }), me, [], false, "node1"), undefined);
    assert.equal(ownershipProblem(link({ alias: "hostnet:node1/bridge/br0" }), me, ["hostnet:node1/bridge/br0"], false, "node1"), undefined, "0.1 marks keep working");
    assert.equal(ownershipProblem(link({ alias: "" }), me, [], true, "node1"), undefined);
  });
  it("a link of the same stack does not count as overlap (a rename keeping the subnet); another stack's and foreign links do", () => {
    const me = ownerOf("proj/dev");
    const want = normalizeBridge({ connection: conn, name: "br-new", addresses: ["172.16.0.1/16"] });
    const old = link({ name: "br-old", addresses: ["172.16.0.1/16"], alias: linkMark(me, "bridge", "br-old") });
    assert.deepEqual(subnetClashes(want, [old], me), []);
    assert.deepEqual(subnetClashes(want, [old]), ["172.16.0.1/16 overlaps 172.16.0.1/16 on br-old"], "without an owner nothing is excused");
    const theirs = link({ name: "br-old", addresses: ["172.16.0.1/16"], alias: linkMark(ownerOf("proj/prod"), "bridge", "br-old") });
    assert.deepEqual(subnetClashes(want, [theirs], me), ["172.16.0.1/16 overlaps 172.16.0.1/16 on br-old"]);
  });

  it("refuses addresses overlapping another link's subnet, never its own", () => {
    const want = normalizeBridge({ connection: conn, name: "br0", addresses: ["172.16.0.1/16", "fd00::1/64"] });
    const links = [link({ name: "br0", addresses: ["172.16.0.1/16"] }), link({ name: "br1", addresses: ["172.16.9.1/24", "10.0.0.1/8"] }), link({ name: "eth0", addresses: ["fd00::9/64"] })];
    assert.deepEqual(subnetClashes(want, links), ["172.16.0.1/16 overlaps 172.16.9.1/24 on br1", "fd00::1/64 overlaps fd00::9/64 on eth0"]);
    assert.deepEqual(subnetClashes(normalizeBridge({ connection: conn, name: "br0", addresses: ["172.17.0.1/16"] }), links), []);
  });

  it("verify names every difference", () => {
    const want = normalizeBridge({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], mtu: 1400 });
    assert.deepEqual(verifyBridge(link({ addresses: [], up: false }), want, "hostnet:m"), ["addresses are none", "mtu is 1500", "link is down"]);
    assert.deepEqual(verifyBridge(undefined, want, "hostnet:m"), ["br0 is missing after apply"]);
  });
});
