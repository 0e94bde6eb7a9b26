import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Bridge, ContainerAttachment, VethPair } from "../../provider";
import { ConnectionSpec } from "../../provider/host/connection";
import { containerLinkNames, containerLinks, containerRoutes } from "../helpers/container-ns";
import { containerPid, dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { newStack, TestStack } from "../helpers/engine";
import { globalAddrs, linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { sh, sleep, tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";

async function pings(container: string, target: string): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    if ((await dockerExec(container, ["ping", "-c", "1", "-W", "1", target])).exitCode === 0) return true;
    await sleep(200);
  }
  return false;
}

function eth0Addrs(links: Record<string, unknown>[], ifname = "eth0"): string[] {
  return globalAddrs(links.find((l) => l.ifname === ifname));
}

describe("integration: VethPair and ContainerAttachment on real Docker containers through the real engine", function () {
  let host: TestHost;
  const stacks: TestStack[] = [];
  const containers: string[] = [];
  before(async () => {
    requireRoot();
    host = await TestHost.create("attach");
  });
  after(async () => {
    for (const s of stacks) await s.cleanup().catch(() => undefined);
    await removeContainers(containers);
    await host?.destroy();
  });
  const container = async (label: string, opts?: Parameters<typeof runContainer>[1]) => {
    const c = await runContainer(label, opts);
    containers.push(c);
    return c;
  };

  it("S1: bridge by hand — two --net=none containers on a bridge ping the gateway and each other; no-op up; in-place address change; destroy leaves only lo", async () => {
    const before = await linkAndAddrSnapshot(host);
    const c1 = await container("s1a");
    const c2 = await container("s1b");
    let addr1 = "172.16.0.2/16";
    const conn: ConnectionSpec = host.connection();
    const t = await newStack("s1", async () => {
      const br = new Bridge("br", { connection: conn, name: "hnbr-s1", addresses: ["172.16.0.1/16"] });
      const v1 = new VethPair("v1", { connection: conn, name: "hnv-s1a", peerName: "hnv-s1a-c", bridge: br.name });
      const v2 = new VethPair("v2", { connection: conn, name: "hnv-s1b", peerName: "hnv-s1b-c", bridge: br.name });
      new ContainerAttachment("a1", { connection: conn, container: { docker: c1 }, interface: v1.peerName, ifname: "eth0", addresses: [addr1], gateway: "172.16.0.1" });
      new ContainerAttachment("a2", { connection: conn, container: { docker: c2 }, interface: v2.peerName, addresses: ["172.16.0.3/16"], gateway: "172.16.0.1" });
    });
    stacks.push(t);
    const up1 = await t.stack.up({ color: "never" });
    assert.deepEqual(up1.summary.resourceChanges, { create: 6 });
    assert.ok(await pings(c1, "172.16.0.1"), "c1 pings the gateway");
    assert.ok(await pings(c1, "172.16.0.3"), "c1 pings c2");
    assert.ok(await pings(c2, "172.16.0.2"), "c2 pings c1");
    assert.deepEqual(eth0Addrs(await containerLinks(c1)), ["172.16.0.2/16"]);
    assert.deepEqual(eth0Addrs(await containerLinks(c2)), ["172.16.0.3/16"]);
    assert.deepEqual(await containerRoutes(c1), ["default via 172.16.0.1 dev eth0"]);
    assert.deepEqual(await containerLinkNames(c1), ["eth0", "lo"]);
    assert.equal((await linkOf(host, "hnv-s1a"))?.master, "hnbr-s1");

    const up2 = await t.stack.up({ color: "never" });
    assert.deepEqual(up2.summary.resourceChanges, { same: 6 }, "second up: no changes");

    addr1 = "172.16.0.4/16";
    const up3 = await t.stack.up({ color: "never" });
    assert.deepEqual(up3.summary.resourceChanges, { same: 5, update: 1 });
    assert.deepEqual(eth0Addrs(await containerLinks(c1)), ["172.16.0.4/16"]);
    assert.deepEqual(await containerRoutes(c1), ["default via 172.16.0.1 dev eth0"], "the default route survives the address change");
    assert.ok(await pings(c1, "172.16.0.1"));
    assert.ok(await pings(c2, "172.16.0.4"), "c2 pings c1 at its new address");

    await t.stack.destroy({ color: "never" });
    assert.deepEqual(await linkAndAddrSnapshot(host), before, "the host's links and addresses are as before");
    assert.deepEqual(await containerLinkNames(c1), ["lo"]);
    assert.deepEqual(await containerLinkNames(c2), ["lo"]);
  });

  it("S5: point-to-point — one VethPair with no bridge joins two --net=none containers with /32 addresses and host routes; they ping both ways; refresh and destroy never look into another container", async () => {
    const c1 = await container("s5a");
    const c2 = await container("s5b");
    const conn = host.connection();
    const t = await newStack("s5", async () => {
      const p = new VethPair("p2p", { connection: conn, name: "hnpA", peerName: "hnpB" });
      new ContainerAttachment("a", { connection: conn, container: { docker: c2 }, interface: p.name, ifname: "vethA", addresses: ["10.0.0.1/32"], routes: [{ to: "10.0.0.2/32" }] });
      new ContainerAttachment("b", { connection: conn, container: { docker: c1 }, interface: p.peerName, ifname: "vethB", addresses: ["10.0.0.2/32"], routes: [{ to: "10.0.0.1" }] });
    });
    stacks.push(t);
    await t.stack.up({ color: "never" });
    assert.ok(await pings(c1, "10.0.0.1"), "test1 pings test2");
    assert.ok(await pings(c2, "10.0.0.2"), "test2 pings test1");
    assert.deepEqual(await containerRoutes(c2), ["10.0.0.2 dev vethA"]);
    // Someone else's container on the same host: refresh and destroy must not look into it (issue 10 item 4).
    const other = await container("s5other");
    const otherPid = await containerPid(other);
    const trace = path.join(host.dir, "s5-trace");
    fs.writeFileSync(trace, "");
    process.env.HOSTNET_TEST_TRACE = trace;
    try {
      const up2 = await t.stack.up({ color: "never", refresh: true });
      assert.deepEqual(up2.summary.resourceChanges, { same: 4 }, "both ends moved away is not drift (found where the attachments recorded them)");
      await t.stack.destroy({ color: "never" });
    } finally {
      delete process.env.HOSTNET_TEST_TRACE;
    }
    const sent = fs.readFileSync(trace, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t")[1]).filter((c) => c.startsWith("["));
    assert.ok(sent.length > 0, "the refresh and the destroy were traced");
    const [pid1, pid2] = [await containerPid(c1), await containerPid(c2)];
    for (const line of sent) {
      assert.ok(!line.includes(other) && !line.includes(`/proc/${otherPid}/`), `a command touched the foreign container: ${line}`);
      assert.ok(!/"docker","ps"/.test(line), `a command listed the host's containers: ${line}`);
      for (const m of line.matchAll(/\/proc\/(\d+)\/ns\/net/g)) assert.ok([pid1, pid2].includes(Number(m[1])), `a command entered a namespace that holds nothing of ours: ${line}`);
    }
    assert.deepEqual(await containerLinkNames(c1), ["lo"]);
    assert.deepEqual(await containerLinkNames(c2), ["lo"]);
    // /run is the machine's: only this stack's records count (another run's may be there).
    assert.equal((await host.exec(["sh", "-c", "grep -l ' s5/test' /run/hostnet/moved/* 2>/dev/null | wc -l"])).trim(), "0", "no record of moved links is left");
  });

  it("attaches by pid and by named netns too", async () => {
    const c = await container("bypid");
    const pid = await containerPid(c);
    const ns = `hnt-ns-${process.pid}`;
    await sh(["ip", "netns", "add", ns]);
    try {
      const conn = host.connection();
      const t = await newStack("pid-netns", async () => {
        const br = new Bridge("br", { connection: conn, name: "hnbr-pid", addresses: ["192.168.77.1/24"] });
        const v1 = new VethPair("v1", { connection: conn, name: "hnv-pid", peerName: "hnv-pid-c", bridge: br.name });
        const v2 = new VethPair("v2", { connection: conn, name: "hnv-ns", peerName: "hnv-ns-c", bridge: br.name });
        new ContainerAttachment("bypid", { connection: conn, container: { pid }, interface: v1.peerName, addresses: ["192.168.77.2/24"], gateway: "192.168.77.1" });
        new ContainerAttachment("bynetns", { connection: conn, container: { netns: ns }, interface: v2.peerName, addresses: ["192.168.77.3/24"], gateway: "192.168.77.1" });
      });
      stacks.push(t);
      await t.stack.up({ color: "never" });
      assert.ok(await pings(c, "192.168.77.3"), "the pid-attached container pings the named namespace");
      const nsLinks = JSON.parse(await sh(["ip", "-n", ns, "-j", "addr", "show", "dev", "eth0"]));
      assert.deepEqual(globalAddrs(nsLinks[0]), ["192.168.77.3/24"]);
      await t.cleanup();
      assert.deepEqual(await containerLinkNames(c), ["lo"]);
    } finally {
      await tryRun(["ip", "netns", "del", ns]);
    }
  });

  it("refuses a host-mode container (and the host's own namespace) before any command changes the host", async () => {
    const hostMode = await container("hostmode", { net: "host" });
    const conn = host.connection();
    let attach: "none" | "docker" | "pid" = "none";
    const t = await newStack("hostmode", async () => {
      const v = new VethPair("v", { connection: conn, name: "hnv-hm", peerName: "hnv-hm-c" });
      if (attach === "docker") new ContainerAttachment("a", { connection: conn, container: { docker: hostMode }, interface: v.peerName, addresses: ["10.1.0.2/24"] });
      if (attach === "pid") new ContainerAttachment("a", { connection: conn, container: { pid: Number((await sh(["ip", "netns", "pids", host.netns])).split(/\s+/)[0]) }, interface: v.peerName, addresses: ["10.1.0.2/24"] });
    });
    stacks.push(t);
    await t.stack.up({ color: "never" });
    const before = await linkAndAddrSnapshot(host);
    attach = "docker";
    await assert.rejects(t.stack.up({ color: "never" }), /container hnt-hostmode-\S+ on .* runs in host network mode: its network namespace is the host's.*refusing/s);
    assert.deepEqual(await linkAndAddrSnapshot(host), before, "nothing changed on the host");
    attach = "pid";
    await assert.rejects(t.stack.up({ color: "never" }), /shares the host's network namespace \(host network mode\).*refusing/s);
    assert.deepEqual(await linkAndAddrSnapshot(host), before, "nothing changed on the host");
  });

  it("a host-mode target is refused at preview, which changes nothing on the host; up refuses it too", async () => {
    const hostMode = await container("hostmode2", { net: "host" });
    const conn = host.connection();
    const before = await linkAndAddrSnapshot(host);
    const t = await newStack("hostmode-preview", async () => {
      const v = new VethPair("v", { connection: conn, name: "hnv-hp", peerName: "hnv-hp-c" });
      new ContainerAttachment("a", { connection: conn, container: { docker: hostMode }, interface: v.peerName, addresses: ["10.1.0.2/24"] });
    });
    stacks.push(t);
    await assert.rejects(t.stack.preview({ color: "never" }), /container hnt-hostmode2-\S+ on .* runs in host network mode: its network namespace is the host's.*refusing/s);
    assert.deepEqual(await linkAndAddrSnapshot(host), before, "preview read the host and changed nothing");
    await assert.rejects(t.stack.up({ color: "never" }), /runs in host network mode/);
    assert.ok(await linkOf(host, "hnv-hp-c"), "the veth end was never moved into the host-mode container");
  });

  it("container: mode resolves to the shared namespace and refuses two attachments of one ifname there", async () => {
    const owner = await container("owner");
    const sharer = await container("sharer", { net: `container:${owner}` });
    const conn = host.connection();
    let second = "eth0";
    const t = await newStack("shared", async () => {
      const v1 = new VethPair("v1", { connection: conn, name: "hnv-sh1", peerName: "hnv-sh1-c" });
      const v2 = new VethPair("v2", { connection: conn, name: "hnv-sh2", peerName: "hnv-sh2-c" });
      const a = new ContainerAttachment("a", { connection: conn, container: { docker: owner }, interface: v1.peerName, addresses: ["10.2.0.2/24"] });
      new ContainerAttachment("b", { connection: conn, container: { docker: sharer }, interface: v2.peerName, ifname: second, addresses: ["10.3.0.2/24"] }, { dependsOn: [a] });
    });
    stacks.push(t);
    await assert.rejects(t.stack.up({ color: "never" }), /eth0 in the namespace of docker:hnt-sharer-\S+ \(sharing the network namespace of container:[0-9a-f]+\) is already taken by another attachment/);
    assert.ok(await linkOf(host, "hnv-sh2-c"), "the refused interface stays on the host");
    second = "eth1";
    await t.stack.up({ color: "never" });
    assert.deepEqual(await containerLinkNames(owner), ["eth0", "eth1", "lo"], "both interfaces are in the one shared namespace");
    assert.deepEqual(eth0Addrs(await containerLinks(owner), "eth1"), ["10.3.0.2/24"]);
  });

  it("own pair (bridge set): the container end is made inside, both containers ping; in-place re-master and address change; a restart is re-plumbed by the next up; a foreign link of the same name is refused; destroy leaves only lo", async () => {
    const before = await linkAndAddrSnapshot(host);
    const c1 = await container("own1");
    const c2 = await container("own2");
    const conn = host.connection();
    let bridge = "hnbr-own";
    let addr1 = "172.19.0.2/16";
    let third = false;
    const t = await newStack("own", async () => {
      const brs = ["hnbr-own", "hnbr-own2"].map((n) => new Bridge(n, { connection: conn, name: n, addresses: [n === "hnbr-own" ? "172.19.0.1/16" : "172.29.0.1/16"] }));
      const br = bridge === "hnbr-own" ? brs[0] : brs[1];
      new ContainerAttachment("a1", { connection: conn, container: { docker: c1 }, interface: "hnv-own1", bridge: br.name, addresses: [addr1], gateway: bridge === "hnbr-own" ? "172.19.0.1" : undefined });
      new ContainerAttachment("a2", { connection: conn, container: { docker: c2 }, interface: "hnv-own2", bridge: brs[0].name, addresses: ["172.19.0.3/16"], gateway: "172.19.0.1" });
      if (third) new ContainerAttachment("a3", { connection: conn, container: { docker: c2 }, interface: "hnv-own3", bridge: brs[0].name, ifname: "eth1", addresses: ["172.19.0.9/16"] });
    });
    stacks.push(t);
    const up1 = await t.stack.up({ color: "never" });
    assert.deepEqual(up1.summary.resourceChanges, { create: 5 });
    assert.ok(await pings(c1, "172.19.0.1"), "c1 pings the gateway");
    assert.ok(await pings(c1, "172.19.0.3"), "c1 pings c2");
    assert.deepEqual(await containerLinkNames(c1), ["eth0", "lo"]);
    assert.deepEqual(await containerRoutes(c1), ["default via 172.19.0.1 dev eth0"]);
    assert.equal((await linkOf(host, "hnv-own1"))?.master, "hnbr-own");
    assert.match(String((await linkOf(host, "hnv-own1"))?.ifalias ?? ""), /^hostnet:[0-9a-f]{8}:attachment\/hnv-own1 /);
    assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { same: 5 }, "second up: no changes");

    // A container restart takes the pair with the old namespace: refresh sees it, the next up makes it anew.
    await sh(["docker", "restart", "-t", "0", c1]);
    assert.equal(await linkOf(host, "hnv-own1"), undefined, "the host end went with the container's old namespace");
    await t.stack.refresh({ color: "never" });
    const up2 = await t.stack.up({ color: "never" });
    assert.deepEqual(up2.summary.resourceChanges, { same: 4, update: 1 }, "the attachment is re-plumbed");
    assert.ok(await pings(c1, "172.19.0.3"), "pings work again after the restart");

    // Another bridge re-masters in place, with the address change in the same update.
    bridge = "hnbr-own2";
    addr1 = "172.29.0.2/16";
    const up3 = await t.stack.up({ color: "never" });
    assert.deepEqual(up3.summary.resourceChanges, { same: 4, update: 1 });
    assert.equal((await linkOf(host, "hnv-own1"))?.master, "hnbr-own2");
    assert.ok(await pings(c1, "172.29.0.1"), "c1 pings its new bridge");

    // A link of the same name that is not hostnet's is refused (at check, before anything changes), and left as it was.
    await host.exec(["ip", "link", "add", "hnv-own3", "type", "bridge"]);
    third = true;
    await assert.rejects(t.stack.up({ color: "never" }), /a link named hnv-own3 already exists on \S+ \(a bridge\) and is not managed by hostnet/);
    assert.equal(((await linkOf(host, "hnv-own3"))?.linkinfo as { info_kind?: string } | undefined)?.info_kind, "bridge", "the foreign link is untouched");
    await host.exec(["ip", "link", "del", "hnv-own3"]);
    third = false;

    await t.stack.destroy({ color: "never" });
    assert.deepEqual(await linkAndAddrSnapshot(host), before, "the host's links and addresses are as before");
    assert.deepEqual(await containerLinkNames(c1), ["lo"]);
    assert.deepEqual(await containerLinkNames(c2), ["lo"]);
  });

  it("a restarted container shows as drift on refresh, and the next up re-plumbs it so pings work again", async () => {
    const c1 = await container("rs1");
    const c2 = await container("rs2");
    const conn = host.connection();
    const t = await newStack("restart", async () => {
      const br = new Bridge("br", { connection: conn, name: "hnbr-rs", addresses: ["172.18.0.1/16"] });
      const v1 = new VethPair("v1", { connection: conn, name: "hnv-rs1", peerName: "hnv-rs1-c", bridge: br.name });
      const v2 = new VethPair("v2", { connection: conn, name: "hnv-rs2", peerName: "hnv-rs2-c", bridge: br.name });
      new ContainerAttachment("a1", { connection: conn, container: { docker: c1 }, interface: v1.peerName, addresses: ["172.18.0.2/16"], gateway: "172.18.0.1" });
      new ContainerAttachment("a2", { connection: conn, container: { docker: c2 }, interface: v2.peerName, addresses: ["172.18.0.3/16"], gateway: "172.18.0.1" });
    });
    stacks.push(t);
    await t.stack.up({ color: "never" });
    assert.ok(await pings(c1, "172.18.0.3"));
    await sh(["docker", "restart", "-t", "0", c1]);
    assert.deepEqual(await containerLinkNames(c1), ["lo"], "the restarted container lost its interface");
    const refresh = await t.stack.refresh({ color: "never" });
    assert.equal(refresh.summary.resourceChanges?.delete, 1, "the veth pair that died with the old namespace is dropped");
    assert.equal(refresh.summary.resourceChanges?.update, 1, "the attachment shows drift");
    const up = await t.stack.up({ color: "never" });
    assert.equal(up.summary.resourceChanges?.create, 1, "the pair is recreated");
    assert.equal(up.summary.resourceChanges?.update, 1, "the attachment is re-plumbed");
    assert.ok(await pings(c1, "172.18.0.3"), "pings work again after the restart");
    assert.ok(await pings(c2, "172.18.0.2"));
  });

  it("a failure forced mid-attachment (a route whose next hop the kernel rejects, after the move, rename and addresses) leaves the container and the host as they were", async () => {
    const c = await container("fail");
    const conn = host.connection();
    let withAttachment = false;
    const t = await newStack("fail", async () => {
      const v = new VethPair("v", { connection: conn, name: "hnv-f", peerName: "hnv-f-c" });
      // 10.99.0.1 is on no link of the container: `ip route add … via 10.99.0.1` fails with "Nexthop has invalid gateway".
      if (withAttachment) new ContainerAttachment("a", { connection: conn, container: { docker: c }, interface: v.peerName, addresses: ["10.5.0.2/24", "fd00:5::2/64"], gateway: "10.5.0.1", routes: [{ to: "10.9.0.0/16", via: "10.99.0.1" }] });
    });
    stacks.push(t);
    await t.stack.up({ color: "never" });
    const before = await linkAndAddrSnapshot(host);
    withAttachment = true;
    await assert.rejects(t.stack.up({ color: "never" }), /attachment of hnv-f-c as eth0 to docker:\S+ on .*: step \d+\/\d+ \(nsenter --net=\/proc\/\d+\/ns\/net -- ip route add 10\.9\.0\.0\/16 via 10\.99\.0\.1 dev eth0\) failed on .* with exit code \d+: .*undid \d+ completed step/s);
    assert.deepEqual(await containerLinkNames(c), ["lo"], "the container is as it was");
    assert.deepEqual(await linkAndAddrSnapshot(host), before, "the host is as it was (the peer is back, with its name)");
  });
});
