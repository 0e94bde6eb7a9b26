import { strict as assert } from "node:assert";
import { Bridge, VethPair } from "../../provider";
import { newStack, TestStack } from "../helpers/engine";
import { linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";

describe("integration: VethPair through the real engine", function () {
  let host: TestHost;
  const stacks: TestStack[] = [];
  before(async () => {
    requireRoot();
    host = await TestHost.create("veth");
  });
  after(async () => {
    for (const s of stacks) await s.cleanup().catch(() => undefined);
    await host?.destroy();
  });

  it("marks both ends; a bridge change re-masters in place (same ifindex); no bridge detaches; a new peerName replaces; destroy leaves the host as before", async () => {
    const before = await linkAndAddrSnapshot(host);
    const conn = host.connection();
    let bridge: string | undefined = "hnbr-a";
    let peerName = "hnv-x-c";
    const t = await newStack("veth", async () => {
      const a = new Bridge("a", { connection: conn, name: "hnbr-a" });
      const b = new Bridge("b", { connection: conn, name: "hnbr-b" });
      new VethPair("v", { connection: conn, name: "hnv-x", peerName, bridge, mtu: 1400 }, { dependsOn: [a, b] });
    });
    stacks.push(t);
    assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { create: 4 });
    const end = await linkOf(host, "hnv-x");
    const peer = await linkOf(host, "hnv-x-c");
    assert.equal(end?.master, "hnbr-a");
    assert.equal(end?.mtu, 1400);
    assert.match(String(end?.ifalias), /^hostnet:[0-9a-f]{8}:veth\/hnv-x \S+\/test$/);
    assert.match(String(peer?.ifalias), /^hostnet:[0-9a-f]{8}:veth\/hnv-x\/peer \S+\/test$/);
    assert.ok((end?.flags as string[]).includes("UP"));

    bridge = "hnbr-b";
    assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { same: 3, update: 1 });
    assert.equal((await linkOf(host, "hnv-x"))?.master, "hnbr-b");
    assert.equal((await linkOf(host, "hnv-x"))?.ifindex, end?.ifindex, "re-mastered in place");

    bridge = undefined;
    assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { same: 3, update: 1 });
    assert.equal((await linkOf(host, "hnv-x"))?.master, undefined, "detached");

    peerName = "hnv-y-c";
    assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { same: 3, replace: 1 });
    assert.equal(await linkOf(host, "hnv-x-c"), undefined);
    assert.ok(await linkOf(host, "hnv-y-c"));

    await host.exec(["ip", "link", "del", "hnv-x"]);
    assert.equal((await t.stack.refresh({ color: "never" })).summary.resourceChanges?.delete, 1, "a pair deleted by hand drops out on refresh");
    assert.equal((await t.stack.up({ color: "never" })).summary.resourceChanges?.create, 1);

    await t.stack.destroy({ color: "never" });
    assert.deepEqual(await linkAndAddrSnapshot(host), before);
  });

  it("refuses a peerName that already exists, and a bridge that is not a bridge, without changing the host", async () => {
    await host.exec(["ip", "link", "add", "hnd-taken", "type", "veth", "peer", "name", "hnd-taken-p"]);
    try {
      const before = await linkAndAddrSnapshot(host);
      const conn = host.connection();
      let args = { name: "hnv-z", peerName: "hnd-taken", bridge: undefined as string | undefined };
      const t = await newStack("veth-refuse", async () => {
        new VethPair("v", { connection: conn, ...args });
      });
      stacks.push(t);
      await assert.rejects(t.stack.up({ color: "never" }), /hnd-taken already exists on .* \(a veth\)/);
      args = { name: "hnv-z", peerName: "hnv-z-c", bridge: "hnd-taken" };
      await assert.rejects(t.stack.up({ color: "never" }), /hnd-taken exists on .* but is a veth, not a bridge/);
      assert.deepEqual(await linkAndAddrSnapshot(host), before);
    } finally {
      await host.exec(["ip", "link", "del", "hnd-taken"]);
    }
  });
});
