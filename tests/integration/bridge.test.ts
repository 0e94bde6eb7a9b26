import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { Bridge } from "../../provider";
import { ConnectionSpec } from "../../provider/host/connection";
import { newStack, TestStack } from "../helpers/engine";
import { globalAddrs, linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";

type Args = { name: string; addresses: string[]; mtu?: number; adopt?: boolean };

/** An inline program with one bridge whose args the test changes between runs. */
function bridgeProgram(conn: ConnectionSpec, current: () => Args) {
  return async () => {
    const a = current();
    const b = new Bridge("br", { connection: conn, ...a });
    return { ifindex: b.ifindex, name: b.name };
  };
}

describe("integration: Bridge through the real Pulumi engine over SSH", function () {
  let host: TestHost;
  const stacks: TestStack[] = [];
  before(async () => {
    requireRoot();
    host = await TestHost.create("bridge");
  });
  after(async () => {
    for (const s of stacks) await s.cleanup().catch(() => undefined);
    await host?.destroy();
  });

  it("create, no-op up, in-place update, rename, refresh after manual delete, recreate, destroy leaves the host as before", async () => {
    const before = await linkAndAddrSnapshot(host);
    let args: Args = { name: "hnbr0", addresses: ["172.16.0.1/16", "fd00:16::1/64"], mtu: 1500 };
    const t = await newStack("bridge-lifecycle", bridgeProgram(host.connection(), () => args));
    stacks.push(t);

    const up1 = await t.stack.up({ color: "never" });
    assert.deepEqual(up1.summary.resourceChanges, { create: 2 });
    let link = await linkOf(host, "hnbr0");
    assert.equal((link?.linkinfo as { info_kind: string }).info_kind, "bridge");
    assert.deepEqual(globalAddrs(link), ["172.16.0.1/16", "fd00:16::1/64"]);
    assert.equal(link?.mtu, 1500);
    assert.match(String(link?.ifalias), /^hostnet:[0-9a-f]{8}:bridge\/hnbr0 bridge-lifecycle\/test$/, "marked with the owning stack");
    assert.ok((link?.flags as string[]).includes("UP"));
    const ifindex = link?.ifindex;

    const up2 = await t.stack.up({ color: "never" });
    assert.deepEqual(up2.summary.resourceChanges, { same: 2 }, "second up reports no changes");

    args = { ...args, addresses: ["172.16.0.1/16", "172.17.0.1/16"], mtu: 1400 };
    const preview = await t.stack.preview({ color: "never" });
    assert.deepEqual(preview.changeSummary, { same: 1, update: 1 });
    const up3 = await t.stack.up({ color: "never" });
    assert.deepEqual(up3.summary.resourceChanges, { same: 1, update: 1 });
    link = await linkOf(host, "hnbr0");
    assert.equal(link?.ifindex, ifindex, "in-place update keeps the ifindex");
    assert.deepEqual(globalAddrs(link), ["172.16.0.1/16", "172.17.0.1/16"]);
    assert.equal(link?.mtu, 1400);

    args = { ...args, name: "hnbr1" };
    const up4 = await t.stack.up({ color: "never" });
    assert.deepEqual(up4.summary.resourceChanges, { same: 1, replace: 1 });
    assert.equal(await linkOf(host, "hnbr0"), undefined, "old name is gone");
    assert.deepEqual(globalAddrs(await linkOf(host, "hnbr1")), ["172.16.0.1/16", "172.17.0.1/16"]);

    await host.exec(["ip", "link", "del", "hnbr1"]);
    const refresh = await t.stack.refresh({ color: "never" });
    assert.equal(refresh.summary.resourceChanges?.delete, 1, "refresh drops the bridge deleted by hand");
    const up5 = await t.stack.up({ color: "never" });
    assert.equal(up5.summary.resourceChanges?.create, 1, "up recreates it");
    assert.deepEqual(globalAddrs(await linkOf(host, "hnbr1")), ["172.16.0.1/16", "172.17.0.1/16"]);

    await t.stack.destroy({ color: "never" });
    assert.deepEqual(await linkAndAddrSnapshot(host), before, "ip -j link/addr equal to before the test");
  });

  it("a bridge keeps its MAC when a port with a lower MAC joins (the gateway's MAC never changes under running containers)", async () => {
    const args: Args = { name: "hnbr-mac", addresses: ["10.78.0.1/24"] };
    const t = await newStack("bridge-mac", bridgeProgram(host.connection(), () => args));
    stacks.push(t);
    await t.stack.up({ color: "never" });
    const mac = (await linkOf(host, "hnbr-mac"))?.address;
    assert.match(String(mac), /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(parseInt(String(mac).slice(0, 2), 16) & 3, 2, "locally administered unicast");
    await host.exec(["ip", "link", "add", "hnv-low", "address", "00:00:00:00:01:01", "type", "veth", "peer", "name", "hnv-low2"]);
    try {
      await host.exec(["ip", "link", "set", "hnv-low", "master", "hnbr-mac", "up"]);
      assert.equal((await linkOf(host, "hnbr-mac"))?.address, mac, "the MAC stays when a lower-MAC port joins");
    } finally {
      await host.exec(["ip", "link", "del", "hnv-low"]);
    }
    await t.stack.destroy({ color: "never" });
    await t.stack.up({ color: "never" });
    assert.equal((await linkOf(host, "hnbr-mac"))?.address, mac, "the same bridge made again by the same stack gets the same MAC");
    await t.stack.destroy({ color: "never" });
  });

  it("refresh shows an address and MTU changed by hand, and the next up puts them back in place", async () => {
    const args: Args = { name: "hnbr2", addresses: ["10.77.0.1/24"], mtu: 1500 };
    const t = await newStack("bridge-drift", bridgeProgram(host.connection(), () => args));
    stacks.push(t);
    await t.stack.up({ color: "never" });
    const ifindex = (await linkOf(host, "hnbr2"))?.ifindex;
    await host.exec(["ip", "addr", "add", "10.77.1.1/24", "dev", "hnbr2"]);
    await host.exec(["ip", "link", "set", "hnbr2", "mtu", "1300"]);
    const refresh = await t.stack.refresh({ color: "never" });
    assert.equal(refresh.summary.resourceChanges?.update, 1, "refresh records the drift");
    const state = (await t.stack.exportStack()).deployment as { resources: { type: string; outputs: { addresses: string[]; mtu: number } }[] };
    const br = state.resources.find((r) => r.type === "pulumi-nodejs:dynamic/hostnet:Bridge");
    assert.deepEqual(br?.outputs.addresses, ["10.77.0.1/24", "10.77.1.1/24"]);
    assert.equal(br?.outputs.mtu, 1300);
    // The diff names what changed (addresses, mtu), not the fields the program never set (mac, stp, vlanFiltering).
    const preview = await t.stack.preview({ color: "never", diff: false });
    const line = preview.stdout.split("\n").find((l) => l.includes("hostnet:Bridge br")) ?? "";
    assert.match(line, /\[diff: ~addresses,mtu\]/, preview.stdout);
    const up = await t.stack.up({ color: "never" });
    assert.deepEqual(up.summary.resourceChanges, { same: 1, update: 1 });
    const link = await linkOf(host, "hnbr2");
    assert.deepEqual(globalAddrs(link), ["10.77.0.1/24"]);
    assert.equal(link?.mtu, 1500);
    assert.equal(link?.ifindex, ifindex);
    await t.cleanup();
    assert.equal(await linkOf(host, "hnbr2"), undefined);
  });

  it("refuses a pre-existing bridge that is not ours, adopts it with adopt: true, and releases it on destroy", async () => {
    await host.exec(["ip", "link", "add", "br0", "type", "bridge"]);
    try {
      let args: Args = { name: "br0", addresses: ["10.88.0.1/24"] };
      const t = await newStack("bridge-adopt", bridgeProgram(host.connection(), () => args));
      stacks.push(t);
      await assert.rejects(t.stack.up({ color: "never" }), /a bridge named br0 already exists on .* and is not managed by this resource.*set adopt: true to take it over/s);
      assert.deepEqual(globalAddrs(await linkOf(host, "br0")), [], "the refused bridge is untouched");
      args = { ...args, adopt: true };
      const up = await t.stack.up({ color: "never" });
      assert.equal(up.summary.resourceChanges?.create, 1);
      const link = await linkOf(host, "br0");
      assert.deepEqual(globalAddrs(link), ["10.88.0.1/24"]);
      assert.match(String(link?.ifalias), /^hostnet:/);
      await t.stack.destroy({ color: "never" });
      const released = await linkOf(host, "br0");
      assert.ok(released, "an adopted bridge is released, not deleted");
      assert.equal(released?.ifalias, undefined, "our mark is removed");
    } finally {
      await host.exec(["ip", "link", "del", "br0"]).catch(() => undefined);
    }
  });

  it("refuses a veth of the bridge's name: exists but is a veth, not a bridge", async () => {
    await host.exec(["ip", "link", "add", "hnv0", "type", "veth", "peer", "name", "hnv0p"]);
    try {
      const t = await newStack("bridge-kind", bridgeProgram(host.connection(), () => ({ name: "hnv0", addresses: [], adopt: true })));
      stacks.push(t);
      await assert.rejects(t.stack.up({ color: "never" }), /hnv0 exists on .* but is a veth, not a bridge/);
    } finally {
      await host.exec(["ip", "link", "del", "hnv0"]).catch(() => undefined);
    }
  });

  it("a step forced to fail mid-create (IPv6 disabled on the host) leaves no bridge behind and names the command", async () => {
    const before = await linkAndAddrSnapshot(host);
    await host.exec(["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"]);
    try {
      const t = await newStack("bridge-undo", bridgeProgram(host.connection(), () => ({ name: "hnbr3", addresses: ["10.99.0.1/24", "fd00:99::1/64"] })));
      stacks.push(t);
      await assert.rejects(t.stack.up({ color: "never" }), /bridge hnbr3 on .*: step 4\/5 \(ip addr add fd00:99::1\/64 dev hnbr3 nodad\) failed on .* with exit code \d+: .*undid 3 completed step/s);
      assert.equal(await linkOf(host, "hnbr3"), undefined, "no bridge left behind");
      assert.deepEqual(await linkAndAddrSnapshot(host), before);
    } finally {
      await host.exec(["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=0"]);
    }
  });

  it("refuses an address whose subnet overlaps another link on the host, before changing anything", async () => {
    const before = await linkAndAddrSnapshot(host);
    const t = await newStack("bridge-overlap", bridgeProgram(host.connection(), () => ({ name: "hnbr5", addresses: [`${host.address.split(".").slice(0, 3).join(".")}.1/24`] })));
    stacks.push(t);
    await assert.rejects(t.stack.up({ color: "never" }), /property addresses .* has a problem: refusing addresses that overlap another link's subnet on .*: \S+ overlaps \S+ on eth0/);
    assert.deepEqual(await linkAndAddrSnapshot(host), before);
  });

  it("refuses a wrong host key through the engine with a clear error", async () => {
    const conn = host.connection({ hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOn0tTheRightKeyAtAllJustForTheTestXXXXXXXXXX" });
    const t = await newStack("bridge-hostkey", bridgeProgram(conn, () => ({ name: "hnbr4", addresses: [] })));
    stacks.push(t);
    await assert.rejects(t.stack.up({ color: "never" }), /cannot connect to .*:22: host key mismatch/);
    assert.equal(await linkOf(host, "hnbr4"), undefined);
  });

  it("bad input fails at preview, before any command reaches the host", async () => {
    const accepted = host.acceptedConnections();
    const t = await newStack("bridge-invalid", bridgeProgram(host.connection(), () => ({ name: "name-longer-than-15", addresses: ["10.0.0.1"] })));
    stacks.push(t);
    await assert.rejects(t.stack.preview({ color: "never" }), /name: expected an interface name of 1-15 characters/);
    assert.equal(host.acceptedConnections(), accepted, "no SSH connection was opened");
  });

  it("one up of 20 bridges on one host opens exactly 1 SSH connection", async () => {
    const accepted = host.acceptedConnections();
    const conn = host.connection();
    const t = await newStack("bridge-twenty", async () => {
      const out: Record<string, pulumi.Output<number>> = {};
      for (let i = 0; i < 20; i++) out[`b${i}`] = new Bridge(`b${i}`, { connection: conn, name: `hnb${i}`, addresses: [`10.120.${i}.1/24`] }).ifindex;
      return out;
    });
    stacks.push(t);
    const up = await t.stack.up({ color: "never" });
    assert.equal(up.summary.resourceChanges?.create, 21);
    assert.equal(host.acceptedConnections() - accepted, 1, "sshd accepted exactly one connection for the whole up");
    const links = JSON.parse(await host.exec(["ip", "-j", "link", "show", "type", "bridge"])) as { ifname: string }[];
    assert.equal(links.filter((l) => /^hnb\d+$/.test(l.ifname)).length, 20);
    await t.cleanup();
    const after = JSON.parse(await host.exec(["ip", "-j", "link", "show", "type", "bridge"])) as { ifname: string }[];
    assert.equal(after.filter((l) => /^hnb\d+$/.test(l.ifname)).length, 0);
  });
});
