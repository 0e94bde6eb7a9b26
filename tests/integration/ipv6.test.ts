import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { CLI, cliIn } from "../helpers/cli";
import { Bridge, ContainerAttachment, NatRule, VethPair } from "../../provider";
import { OutsideClient } from "../helpers/client";
import { dockerExec, removeContainers, runContainer, containerPid } from "../helpers/docker";
import { newStack, TestStack } from "../helpers/engine";
import { firewallSnapshot } from "../helpers/firewall";
import { linkAndAddrSnapshot } from "../helpers/kernel";
import { sh, eventually, tryRun } from "../helpers/procs";

import { requireRoot } from "../helpers/root";
import { HARD_HOST_USERS, TestHost } from "../helpers/testhost";

/** IPv6 settings Docker leaves in a `--net=none` container's namespace, read from the host side. */
async function ipv6Settings(container: string): Promise<string> {
  const pid = await containerPid(container);
  const read = (k: string) => sh(["nsenter", `--net=/proc/${pid}/ns/net`, "--", "sysctl", "-n", k]).then((s) => s.trim());
  return `all=${await read("net.ipv6.conf.all.disable_ipv6")} default=${await read("net.ipv6.conf.default.disable_ipv6")}`;
}

/** The peers busybox httpd logged (`[fd99:1234::1]:34670: url:/`, `[::ffff:10.0.0.1]:…`), its own readiness probes from loopback left out. */
function peersOf(log: string): string[] {
  // The address is everything inside the brackets (an IPv6 address may look like `fd99:1234` followed by `:port:`).
  const peer = (l: string) => (/^\[([^\]]+)\]:\d+:/.exec(l)?.[1] ?? /^([0-9.]+):\d+:/.exec(l)?.[1] ?? "").replace(/^::ffff:/, "");
  return log.split("\n").filter((l) => l.includes("url:/")).map(peer).filter((p) => p !== "127.0.0.1" && p !== "::1");
}

for (const backend of ["auto", "nftables"] as const) {
  describe(`integration: IPv6 end to end on plain --net=none containers, a host whose ip6tables FORWARD drops (${backend === "auto" ? "ip6tables-nft" : "native nftables"} NAT)`, function () {
    let host: TestHost;
    let client: OutsideClient;
    let t: TestStack;
    let only = "";
    let dual = "";
    let firewallBefore = "";
    let linksBefore: unknown;
    const containers: string[] = [];
    before(async () => {
      requireRoot();
      host = await TestHost.create(`v6${backend.slice(0, 3)}`, { hard: true });
      client = await OutsideClient.create(host);
      // No --sysctl: the containers are as `docker run --net=none` makes them, IPv6 off in their namespace.
      only = await runContainer("v6only");
      dual = await runContainer("v6dual");
      containers.push(only, dual);
      firewallBefore = await firewallSnapshot(host);
      linksBefore = await linkAndAddrSnapshot(host);
      // The iptables variant runs as the sudo user (sysctl and ip6tables live in /usr/sbin, outside its PATH), the nftables one as root.
      const conn = backend === "auto" ? host.connection({ user: HARD_HOST_USERS.sudo, sudo: true }) : host.connection();
      const nat = backend === "nftables" ? { backend: "nftables" as const } : {};
      t = await newStack(`ipv6-${backend}`, async () => {
        const br = new Bridge("br", { connection: conn, name: "hnbr-v6", addresses: ["172.29.0.1/24", "fd00:29::1/64"] });
        const v1 = new VethPair("v1", { connection: conn, name: "hnv-6o", peerName: "hnv-6o-c", bridge: br.name });
        // IPv6 only, moved in from a VethPair, its default given as a route to ::/0.
        new ContainerAttachment("only", { connection: conn, container: { docker: only }, interface: v1.peerName, addresses: ["fd00:29::2/64"], routes: [{ to: "::/0", via: "fd00:29::1" }] });
        // Dual stack on a pair of its own, one default gateway per family.
        new ContainerAttachment("dual", { connection: conn, container: { docker: dual }, interface: "hnv-6d", bridge: br.name, addresses: ["172.29.0.3/24", "fd00:29::3/64"], gateway: "172.29.0.1", gateway6: "fd00:29::1" });
        new NatRule("out6", { connection: conn, kind: "masquerade", source: "fd00:29::/64", notOutInterface: br.name, ...nat });
        new NatRule("web6", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "[fd00:29::3]:80", hairpinSource: "fd00:29::/64", ...nat });
      });
    });
    after(async () => {
      await t?.cleanup().catch(() => undefined);
      await removeContainers(containers);
      await client?.destroy();
      await host?.destroy();
    });

    it("applies to containers whose namespace has IPv6 off; both families ping through a bridge the host's FORWARD would drop", async () => {
      assert.equal(await ipv6Settings(only), "all=1 default=1", "Docker turned IPv6 off in the --net=none namespace");
      assert.equal((await host.exec(["sysctl", "-n", "net.ipv6.conf.all.forwarding"])).trim(), "0");
      assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { create: 7 });
      const ping = (c: string, target: string) => async () => (await dockerExec(c, ["ping", target.includes(":") ? "-6" : "-4", "-c", "1", "-W", "1", target])).exitCode === 0;
      await eventually("v6only pings its gateway", ping(only, "fd00:29::1"));
      await eventually("v6only pings dual", ping(only, "fd00:29::3"));
      await eventually("dual pings v6only", ping(dual, "fd00:29::2"));
      await eventually("dual pings the IPv4 gateway", ping(dual, "172.29.0.1"));
      const routes = await dockerExec(dual, ["ip", "-6", "route", "show", "default"]);
      assert.match(routes.stdout, /^default via fd00:29::1 dev eth0/m);
      assert.equal(await ipv6Settings(only), "all=1 default=1", "only the interface's own setting was changed");
      assert.equal((await host.exec(["sysctl", "-n", "net.ipv6.conf.all.forwarding"])).trim(), "1", "IPv6 forwarding on for the IPv6 NAT");
      const filter6 = await host.exec(["ip6tables-nft-save", "-t", "filter"]);
      assert.match(filter6, /^-A FORWARD -j HOSTNET-FORWARD$/m, "our accepts are jumped to from ip6tables' FORWARD");
      assert.match(filter6, /^-A HOSTNET-FORWARD -i hnbr-v6 -m comment --comment "hostnet:[0-9a-f]{8}:bridge\/hnbr-v6 [^"]+" -j ACCEPT$/m);
      assert.match(filter6, /^-A HOSTNET-FORWARD -d fd00:29::3\/128 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -m comment --comment "hostnet:[0-9a-f]{8}:nat\/dnat-/m);
    });

    it("IPv6 NAT: an outside client reaches the published port over IPv6; a container reaches it through the host (hairpin); going out is masqueraded", async () => {
      await sh(["docker", "exec", "-d", dual, "httpd", "-f", "-p", "80", "-h", "/www"]);
      await eventually("client fetch via [host]:8080", async () => (await client.fetch(`http://[${client.hostAddress6}]:8080/`)) === "hello from hostnet\n");
      const hairpin = await dockerExec(only, ["timeout", "3", "wget", "-q", "-O", "-", `http://[${client.hostAddress6}]:8080/`]);
      assert.equal(hairpin.stdout, "hello from hostnet\n", hairpin.stderr);
      const log = await client.serve(9006);
      const out = await dockerExec(only, ["timeout", "3", "wget", "-q", "-O", "-", `http://[${client.address6}]:9006/`]);
      assert.equal(out.stdout, "outside\n", out.stderr);
      assert.deepEqual(peersOf(await sh(["cat", log])), [client.hostAddress6], "the client sees the host's IPv6 address, not the container's");
    });

    it("refresh round-trips (gateway6, ::/0 as the default): the next up changes nothing", async () => {
      assert.equal((await t.stack.refresh({ color: "never" })).summary.result, "succeeded");
      assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { same: 7 });
    });

    it("destroy leaves the host's firewall (both families), links and forwarding as they were", async () => {
      await t.stack.destroy({ color: "never" });
      assert.equal(await firewallSnapshot(host), firewallBefore);
      assert.deepEqual(await linkAndAddrSnapshot(host), linksBefore);
      assert.equal((await host.exec(["sysctl", "-n", "net.ipv6.conf.all.forwarding"])).trim(), "0");
    });
  });
}

describe("integration: examples/ipv6-dual-stack through the CLI and the real engine (masquerade and publish per family)", function () {
  let host: TestHost | undefined;
  let client: OutsideClient | undefined;
  const names = { web6: "", client6: "" };
  let dir = "";
  let spec = "";
  const cli = cliIn(() => dir);
  before(async () => {
    requireRoot();
    host = await TestHost.create("v6spec", { hard: true });
    client = await OutsideClient.create(host);
    names.web6 = await runContainer("web6");
    names.client6 = await runContainer("client6");
    fs.mkdirSync(path.join(REPO_ROOT, ".test-work"), { recursive: true });
    dir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-work", "v6-"));
    spec = path.join(dir, "network.yaml");
    // The example as shipped, pointed at the test host over SSH and at this run's containers.
    const text = fs.readFileSync(path.join(REPO_ROOT, "examples", "ipv6-dual-stack", "network.yaml"), "utf8")
      .replace(/^ {4}local: true.*$/m, `    host: "${host.address}"\n    hostKey: "${host.hostKey}"\n    privateKeyFile: "${path.join(host.dir, "id_ed25519")}"`)
      .replace(/^ {4}name: web6$/m, `    name: web6\n    docker: ${names.web6}`)
      .replace(/^ {4}name: client6$/m, `    name: client6\n    docker: ${names.client6}`);
    assert.match(text, /docker: .*\n[\s\S]*docker: /, "the example names both containers");
    fs.writeFileSync(spec, text);
  });
  after(async () => {
    if (dir && fs.existsSync(path.join(dir, ".hostnet"))) await tryRun(["sh", "-c", 'cd "$1" && exec node "$2" destroy "$3" --yes', "sh", dir, CLI, spec]);
    await removeContainers(Object.values(names).filter((n) => n !== ""));
    await client?.destroy();
    await host?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("up; client6 fetches http://web6/ over IPv6; the port is published on both families; up again (after its refresh) and preview change nothing; destroy leaves the firewall as it was", async () => {
    const h = host as TestHost;
    const c = client as OutsideClient;
    const before = await firewallSnapshot(h);
    const up = await cli("up", spec, "--yes");
    assert.match(up, /\+ 10 created/);
    for (const name of ["h1.masquerade.hnbr-v6", "h1.masquerade6.hnbr-v6", "h1.publish.web6.tcp.8080", "h1.publish6.web6.tcp.8080"].map((n) => n.replace("h1", "node1"))) assert.ok(up.includes(name), `${name} in the up output`);
    await sh(["docker", "exec", "-d", names.web6, "httpd", "-f", "-p", "80", "-h", "/www"]);
    await eventually("client6 fetches http://web6/", async () => (await dockerExec(names.client6, ["timeout", "3", "wget", "-q", "-O", "-", "http://web6/"])).stdout === "hello from hostnet\n");
    await eventually("IPv4 published port", async () => (await c.fetch(`http://${c.hostAddress}:8080/`)) === "hello from hostnet\n");
    await eventually("IPv6 published port", async () => (await c.fetch(`http://[${c.hostAddress6}]:8080/`)) === "hello from hostnet\n");
    assert.doesNotMatch(await cli("up", spec, "--yes"), /created|updated|deleted|replaced/);
    await cli("preview", spec, "--expect-no-changes");
    await cli("destroy", spec, "--yes");
    assert.equal(await firewallSnapshot(h), before);
  });
});
