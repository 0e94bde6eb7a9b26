import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { Bridge, ContainerAttachment, NatRule, VethPair } from "../../provider";
import { forwardMarkPath } from "../../provider/resources/nat/forwarding";
import { saveLineWords } from "../../provider/linux/iptables";
import { OutsideClient } from "../helpers/client";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { newStack, TestStack } from "../helpers/engine";
import { sh, sleep, eventually } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";
import { firewallSnapshot } from "../helpers/firewall";

/**
 * iptables-save of both flavours of the test host, without the `#` lines (they carry timestamps); for the
 * native backend also `nft list ruleset`.
 */
async function iptablesSave(host: TestHost, flavor: string): Promise<string> {
  const strip = (s: string) => s.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  const ipt = `${strip(await host.exec(["iptables-nft-save"]))}\n--- legacy\n${strip(await host.exec(["iptables-legacy-save"]))}`;
  return flavor === "nftables" ? `${ipt}\n--- nft\n${await host.exec(["nft", "list", "ruleset"])}` : ipt;
}

/** The rules of the flavour under test, as text. */
function ourRules(host: TestHost, flavor: string): Promise<string> {
  return flavor === "nftables" ? host.exec(["nft", "-a", "list", "table", "inet", "hostnet"]) : host.exec([`iptables-${flavor}-save`, "-t", "nat"]);
}

for (const flavor of ["nft", "legacy", "nftables"] as const) {
  const ipt = flavor === "nftables" ? "nft" : flavor;
  describe(`integration: NatRule with real traffic (${flavor === "nftables" ? "native nftables table" : `iptables-${flavor}`} on the test host)`, function () {
    let host: TestHost;
    let client: OutsideClient;
    let t: TestStack;
    let web = "";
    let other = "";
    let hostPort = 8080;
    let beforeSave = "";
    let beforeForward = "";
    const containers: string[] = [];
    before(async () => {
      requireRoot();
      host = await TestHost.create(`nat${flavor}`);
      client = await OutsideClient.create(host);
      // The host's existing rules live in the flavour under test (as on a host that uses it); ours must join them there and leave them alone.
      await host.exec([`iptables-${ipt}`, "-w", "-t", "nat", "-A", "POSTROUTING", "-s", "192.0.2.0/24", "-j", "RETURN"]);
      beforeSave = await iptablesSave(host, flavor);
      beforeForward = (await host.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim();
      web = await runContainer(`web${flavor}`);
      other = await runContainer(`other${flavor}`);
      containers.push(web, other);
      const conn = host.connection();
      t = await newStack(`nat-${flavor}`, async () => {
        const br = new Bridge("br", { connection: conn, name: "hnbr-nat", addresses: ["172.16.0.1/16"] });
        const v1 = new VethPair("web", { connection: conn, name: "hnv-web", peerName: "hnv-web-c", bridge: br.name });
        const v2 = new VethPair("other", { connection: conn, name: "hnv-oth", peerName: "hnv-oth-c", bridge: br.name });
        new ContainerAttachment("web", { connection: conn, container: { docker: web }, interface: v1.peerName, addresses: ["172.16.0.2/16"], gateway: "172.16.0.1" });
        new ContainerAttachment("other", { connection: conn, container: { docker: other }, interface: v2.peerName, addresses: ["172.16.0.3/16"], gateway: "172.16.0.1" });
        const backend = flavor === "nftables" ? { backend: "nftables" as const } : {};
        new NatRule("out", { connection: conn, kind: "masquerade", source: "172.16.0.0/16", notOutInterface: br.name, ...backend });
        new NatRule("http", { connection: conn, kind: "dnat", protocol: "tcp", hostPort, to: "172.16.0.2:80", hairpinSource: "172.16.0.0/16", ...backend });
      });
    });
    after(async () => {
      await t?.cleanup().catch(() => undefined);
      await removeContainers(containers);
      await client?.destroy();
      await host?.destroy();
    });

    it("applies: our chains with tagged rules in the host's flavour, jumped to once, ip_forward on", async () => {
      const up = await t.stack.up({ color: "never" });
      assert.deepEqual(up.summary.resourceChanges, { create: 8 });
      await sh(["docker", "exec", "-d", web, "httpd", "-f", "-p", "80", "-h", "/www"]);
      const save = await ourRules(host, flavor);
      if (flavor === "nftables") {
        for (const hook of ["prerouting", "output", "postrouting"]) assert.match(save, new RegExp(`chain ${hook} \\{[^}]*type nat hook ${hook}`), `base chain ${hook}`);
        assert.match(save, /ip saddr 172\.16\.0\.0\/16 oifname != "hnbr-nat" masquerade comment "hostnet:[0-9a-f]{8}:nat\/masquerade-[0-9a-f]{12} nat-\S+\/test"/);
        assert.match(save, /fib daddr type local tcp dport 8080 dnat ip to 172\.16\.0\.2:80 comment "hostnet:[0-9a-f]{8}:nat\/dnat-[0-9a-f]{12}\/tcp\/any\/8080-8080 nat-\S+\/test"/);
        assert.match(await host.exec(["iptables-nft-save", "-t", "nat"]), /-A POSTROUTING -s 192\.0\.2\.0\/24 -j RETURN/, "the host's own rule is untouched");
      } else {
        for (const chain of ["HOSTNET-PREROUTING", "HOSTNET-OUTPUT", "HOSTNET-POSTROUTING"]) {
          assert.equal(save.split("\n").filter((l) => l === `-A ${chain.slice(8)} -j ${chain}`).length, 1, `one jump to ${chain}`);
        }
        assert.match(save, /-A HOSTNET-POSTROUTING -s 172\.16\.0\.0\/16 ! -o hnbr-nat -m comment --comment "hostnet:[0-9a-f]{8}:nat\/masquerade-[0-9a-f]{12} nat-\S+\/test" -j MASQUERADE/);
        assert.match(save, /-A HOSTNET-PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8080 -m comment --comment "hostnet:[0-9a-f]{8}:nat\/dnat-\S+ nat-\S+\/test" -j DNAT --to-destination 172\.16\.0\.2:80/);
        assert.match(save, /-A POSTROUTING -s 192\.0\.2\.0\/24 -j RETURN/, "the host's own rule is untouched");
      }
      assert.equal((await host.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "1");
    });

    it("an outside client fetches the page through the published port", async () => {
      await eventually("client fetch via host:8080", async () => (await client.fetch(`http://${client.hostAddress}:8080/`)) === "hello from hostnet\n");
    });

    it("the host itself fetches it via its own address (OUTPUT chain)", async () => {
      const r = await host.exec(["timeout", "3", "busybox", "wget", "-q", "-O", "-", `http://${host.address}:8080/`]);
      assert.equal(r, "hello from hostnet\n");
    });

    it("a second container fetches it via the host address (hairpin)", async () => {
      const r = await dockerExec(other, ["timeout", "3", "wget", "-q", "-O", "-", `http://${client.hostAddress}:8080/`]);
      assert.equal(r.stdout, "hello from hostnet\n", r.stderr);
    });

    it("a container reaches the outside client, which sees the host's address as source (MASQUERADE)", async () => {
      const log = await client.serve(9000);
      const r = await dockerExec(other, ["timeout", "3", "wget", "-q", "-O", "-", `http://${client.address}:9000/`]);
      assert.equal(r.stdout, "outside\n", r.stderr);
      // busybox httpd logs "[::ffff:10.232.1.1]:34670: url:/" per request; its own readiness probes come from 127.0.0.1.
      const peers = (await sh(["cat", log])).split("\n").filter((l) => l.includes("url:/")).map((l) => /^\[?(?:::ffff:)?([0-9.]+)\]?:\d+:/.exec(l)?.[1]).filter((p) => p !== "127.0.0.1");
      assert.deepEqual(peers, [client.hostAddress], "the outside client sees the host's address, not the container's");
    });

    it("a second up reports no changes", async () => {
      assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { same: 8 });
    });

    it("a rule deleted by hand is gone on refresh, a missing jump is drift; up repairs both", async () => {
      const save = await ourRules(host, flavor);
      if (flavor === "nftables") {
        const handle = /masquerade comment "hostnet:[0-9a-f]{8}:nat\/masquerade-[0-9a-f]{12} \S+" # handle (\d+)/.exec(save)?.[1] as string;
        await host.exec(["nft", "delete", "rule", "inet", "hostnet", "postrouting", "handle", handle]);
        await host.exec(["nft", "flush", "chain", "inet", "hostnet", "output"]);
        await host.exec(["nft", "delete", "chain", "inet", "hostnet", "output"]);
      } else {
        const masq = save.split("\n").find((l) => l.includes("-j MASQUERADE") && l.includes(":nat/masquerade-")) as string;
        await host.exec([`iptables-${flavor}`, "-w", "-t", "nat", "-D", ...saveLineWords(masq).slice(1)]);
        await host.exec([`iptables-${flavor}`, "-w", "-t", "nat", "-D", "OUTPUT", "-j", "HOSTNET-OUTPUT"]);
      }
      const refresh = await t.stack.refresh({ color: "never" });
      assert.equal(refresh.summary.resourceChanges?.delete, 1, "the deleted masquerade rule drops out");
      assert.equal(refresh.summary.resourceChanges?.update, 1, "the dnat rule whose OUTPUT jump is missing shows drift");
      const up = await t.stack.up({ color: "never" });
      assert.equal(up.summary.resourceChanges?.create, 1);
      assert.equal(up.summary.resourceChanges?.update, 1);
      assert.equal(await host.exec(["timeout", "3", "busybox", "wget", "-q", "-O", "-", `http://${host.address}:8080/`]), "hello from hostnet\n");
    });

    it("changing hostPort keeps the service reachable throughout (new rule first, then the old one goes)", async () => {
      hostPort = 8081;
      let done = false;
      const polls: [boolean, boolean][] = [];
      const poller = (async () => {
        while (!done) {
          const [a, b] = await Promise.all([client.fetch(`http://${client.hostAddress}:8080/`), client.fetch(`http://${client.hostAddress}:8081/`)]);
          polls.push([a !== undefined, b !== undefined]);
          await sleep(50);
        }
      })();
      let up;
      try {
        up = await t.stack.up({ color: "never" });
      } finally {
        done = true;
        await poller;
      }
      assert.deepEqual(up.summary.resourceChanges, { same: 7, replace: 1 });
      assert.ok(polls.length >= 2, `polled ${polls.length} times`);
      assert.deepEqual(polls.filter(([a, b]) => !a && !b), [], "never unreachable on both ports");
      assert.equal(await client.fetch(`http://${client.hostAddress}:8081/`), "hello from hostnet\n");
      assert.equal(await client.fetch(`http://${client.hostAddress}:8080/`), undefined, "the old port is gone");
    });

    it("destroy leaves iptables-save of the test host byte-identical to before and ip_forward restored", async () => {
      await t.stack.destroy({ color: "never" });
      assert.equal(await iptablesSave(host, flavor), beforeSave);
      assert.equal((await host.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), beforeForward);
      const inode = await host.netnsInode();
      assert.equal(fs.existsSync(forwardMarkPath(inode)), false, "the recorded ip_forward value is forgotten");
    });
  });
}

describe("integration: NatRule validation before any host is touched", function () {
  let host: TestHost;
  const stacks: TestStack[] = [];
  before(async () => {
    requireRoot();
    host = await TestHost.create("natval");
  });
  after(async () => {
    for (const s of stacks) await s.cleanup().catch(() => undefined);
    await host?.destroy();
  });

  it("two DNATs of one host port are rejected at preview, and bad ports/addresses name their field", async () => {
    const conn = host.connection();
    const accepted = host.acceptedConnections();
    const dup = await newStack("nat-dup", async () => {
      new NatRule("a", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.2:80" });
      new NatRule("b", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: "8000-8090", to: "172.16.0.3:80" });
    });
    stacks.push(dup);
    await assert.rejects(dup.stack.preview({ color: "never" }), /NatRule b: tcp port 8000-8090 on .* \(address any IPv4\) is already published by NatRule a/);
    let args: Record<string, unknown> = { kind: "dnat", protocol: "tcp", hostPort: 70000, to: "172.16.0.2:80" };
    const bad = await newStack("nat-bad", async () => {
      new NatRule("r", { connection: conn, ...(args as { kind: "dnat" }) });
    });
    stacks.push(bad);
    await assert.rejects(bad.stack.preview({ color: "never" }), /hostPort: expected a port 1-65535, got 70000/);
    args = { kind: "dnat", protocol: "tcp", hostPort: "9005-9000", to: "172.16.0.2" };
    await assert.rejects(bad.stack.preview({ color: "never" }), /hostPort: range 9005-9000 is not ordered/);
    args = { kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.999:80" };
    await assert.rejects(bad.stack.preview({ color: "never" }), /to: expected an IPv4 or IPv6 address, got "172.16.0.999"/);
    assert.equal(host.acceptedConnections(), accepted, "no SSH connection was opened");
  });
});

describe("integration: a host with no nat table is left exactly as found (iptables-nft)", function () {
  let host: TestHost;
  let t: TestStack | undefined;
  let web = "";
  const ours = async () => {
    const inode = await host.netnsInode();
    return [...fs.readdirSync("/run"), ...fs.readdirSync("/run/lock").map((f) => `lock/${f}`)].filter((f) => f.includes(inode));
  };
  before(async () => {
    requireRoot();
    host = await TestHost.create("natnone");
  });
  after(async () => {
    await t?.cleanup().catch(() => undefined);
    await removeContainers(web ? [web] : []);
    await host?.destroy();
  });

  it("up makes and marks the nat table; destroy leaves nft list ruleset and iptables-save byte-identical, and no file of ours in /run", async () => {
    const before = await firewallSnapshot(host);
    assert.equal(await host.exec(["nft", "list", "ruleset"]), "", "the test host starts with no nft table at all");
    assert.deepEqual(await ours(), []);
    web = await runContainer("webnone");
    const conn = host.connection();
    t = await newStack("nat-none", async () => {
      const br = new Bridge("br", { connection: conn, name: "hnbr-none", addresses: ["172.19.0.1/24"] });
      const v = new VethPair("web", { connection: conn, name: "hnv-none", peerName: "hnv-none-c", bridge: br.name });
      const a = new ContainerAttachment("web", { connection: conn, container: { docker: web }, interface: v.peerName, addresses: ["172.19.0.2/24"], gateway: "172.19.0.1" });
      new NatRule("out", { connection: conn, kind: "masquerade", source: "172.19.0.0/24", notOutInterface: br.name, backend: "nft" });
      new NatRule("http", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.19.0.2:80", backend: "nft" }, { dependsOn: [a] });
    });
    await t.stack.up({ color: "never" });
    const save = await host.exec(["iptables-nft-save", "-t", "nat"]);
    assert.match(save, /^:HOSTNET-MADE-TABLE - /m, "the table we made is marked");
    assert.match(save, /-j MASQUERADE/);
    await t.stack.destroy({ color: "never" });
    assert.equal(await firewallSnapshot(host), before, "iptables-save (both flavours) and nft list ruleset as before");
    assert.equal(await host.exec(["nft", "list", "ruleset"]), "");
    // The host lock is let go when the provider's connection closes with the run (or half a second after its last mutation): moments after destroy returns.
    await eventually("the host lock's file is removed", async () => (await ours()).every((f) => !f.startsWith("lock/")), 50);
    assert.deepEqual(await ours(), [], "no lock or ip_forward file of ours left in /run");
  });

  it("a table made by us that others moved into stays, with only our marker removed", async () => {
    const conn = host.connection();
    const t2 = await newStack("nat-none-shared", async () => {
      new NatRule("out", { connection: conn, kind: "masquerade", source: "172.19.1.0/24", backend: "nft" });
    });
    try {
      await t2.stack.up({ color: "never" });
      await host.exec(["iptables-nft", "-w", "-t", "nat", "-A", "POSTROUTING", "-s", "198.51.100.0/24", "-j", "RETURN"]);
      await t2.stack.destroy({ color: "never" });
      const save = await host.exec(["iptables-nft-save", "-t", "nat"]);
      assert.match(save, /^-A POSTROUTING -s 198\.51\.100\.0\/24 -j RETURN$/m, "the other rule stays");
      assert.doesNotMatch(save, /HOSTNET/);
    } finally {
      await t2.cleanup().catch(() => undefined);
      await host.exec(["iptables-nft", "-w", "-t", "nat", "-D", "POSTROUTING", "-s", "198.51.100.0/24", "-j", "RETURN"]).catch(() => undefined);
    }
  });
});
