import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { firewallSnapshot } from "../helpers/firewall";
import { linkAndAddrSnapshot } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/paths";
import { CLI, cliIn } from "../helpers/cli";
import { eventually, sh, tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";
import { Underlay } from "../helpers/underlay";


describe("integration: one L2 segment across hosts (overlays: VXLAN), through the CLI and the real engine", function () {
  const hosts: TestHost[] = [];
  const underlayAddr: string[] = [];
  const containers: string[] = [];
  const initial: { links: unknown; firewall: string }[] = [];
  let underlay: Underlay | undefined;
  let dir = "";
  let spec = "";
  const cli = cliIn(() => dir);
  /** The spec with the first `n` hosts as members, joined over the underlay's IPv4 or IPv6 addresses. */
  const write = (n: number, family: 4 | 6 = 4) => {
    const hs = hosts.slice(0, n);
    const lines = [
      "name: vxtest",
      "hosts:",
      ...hs.map((h, i) => `  h${i + 1}: { host: "${h.address}", hostKey: "${h.hostKey}", privateKeyFile: "${path.join(h.dir, "id_ed25519")}" }`),
      "bridges:",
      ...hs.map((_, i) => `  - { host: h${i + 1}, name: hnbr-vx }`),
      "containers:",
      ...hs.map((_, i) => `  - { host: h${i + 1}, name: c${i + 1}, docker: ${containers[i]}, interfaces: [{ bridge: hnbr-vx, addresses: [10.77.0.1${i + 1}/24] }] }`),
      "overlays:",
      "  - name: seg",
      "    vni: 4242",
      "    members:",
      ...hs.map((h, i) => `      - { host: h${i + 1}, address: "${family === 4 ? underlayAddr[i] : underlay!.address6(h)}", bridge: hnbr-vx }`),
      "",
    ];
    fs.writeFileSync(spec, lines.join("\n"));
  };
  const pings = (from: number, to: number) => async () => (await dockerExec(containers[from], ["ping", "-c", "1", "-W", "1", `10.77.0.1${to + 1}`])).exitCode === 0;

  before(async () => {
    requireRoot();
    underlay = await Underlay.create();
    for (let i = 0; i < 3; i++) {
      // As hard as a Docker/ufw host: FORWARD drops, and br_netfilter sends bridged frames through it;
      // ufw's INPUT drops too, and the tunnel's UDP ends on the host itself.
      const h = await TestHost.create(`vx${i + 1}`, { hard: true });
      hosts.push(h);
      underlayAddr.push(await underlay.plug(h, i + 1));
      containers.push(await runContainer(`vx${i + 1}`));
      initial.push({ links: await linkAndAddrSnapshot(h), firewall: await firewallSnapshot(h) });
    }
    fs.mkdirSync(path.join(REPO_ROOT, ".test-work"), { recursive: true });
    dir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-work", "vx-"));
    spec = path.join(dir, "network.yaml");
  });
  after(async () => {
    if (dir && fs.existsSync(path.join(dir, ".hostnet"))) {
      write(3);
      await tryRun(["sh", "-c", 'cd "$1" && exec node "$2" destroy "$3" --yes', "sh", dir, CLI, spec]);
    }
    await removeContainers(containers);
    for (const h of hosts) await h.destroy();
    await underlay?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("two hosts: a container on each, in one subnet, ping each other and fetch a page across the segment; MTU 1450 inside", async () => {
    write(2);
    assert.match(await cli("up", spec, "--yes"), /\+ 8 created/);
    await eventually("c1 pings c2 across the overlay", pings(0, 1));
    await eventually("c2 pings c1", pings(1, 0));
    await sh(["docker", "exec", "-d", containers[0], "httpd", "-f", "-p", "80", "-h", "/www"]);
    await eventually("c2 fetches c1's page", async () => (await dockerExec(containers[1], ["timeout", "3", "wget", "-q", "-O", "-", "http://10.77.0.11/"])).stdout === "hello from hostnet\n");
    // A full-size frame crosses: 1450 - 28 bytes of ICMP payload, don't fragment.
    assert.equal((await dockerExec(containers[1], ["ping", "-c", "1", "-W", "2", "-s", "1422", "10.77.0.11"])).exitCode, 0);
    assert.match((await dockerExec(containers[1], ["ip", "link", "show", "eth0"])).stdout, /mtu 1450/);
    const dev = JSON.parse(await hosts[0].exec(["ip", "-j", "-d", "link", "show", "hnvx4242"])) as { mtu: number; master: string; ifalias: string; linkinfo: { info_data: { id: number } } }[];
    assert.deepEqual([dev[0].mtu, dev[0].master, dev[0].linkinfo.info_data.id], [1450, "hnbr-vx", 4242]);
    assert.match(dev[0].ifalias, /^hostnet:[0-9a-f]{8}:vxlan\/hnvx4242 vxtest\/vxtest$/);
    assert.match(await hosts[0].exec(["bridge", "fdb", "show", "dev", "hnvx4242"]), new RegExp(`00:00:00:00:00:00 dst ${underlayAddr[1].replace(/\./g, "\\.")} self permanent`));
    // Through ufw's INPUT DROP: the tunnel from the other member is accepted in our own chain, jumped to first.
    const input = await hosts[0].exec(["iptables-nft-save", "-t", "filter"]);
    assert.match(input, /^-A INPUT -j HOSTNET-INPUT$/m);
    assert.match(input, new RegExp(`^-A HOSTNET-INPUT -s ${underlayAddr[1].replace(/\./g, "\\.")}/32 -p udp -m udp --dport 4789 -m comment --comment "hostnet:[0-9a-f]{8}:vxlan/hnvx4242 vxtest/vxtest" -j ACCEPT$`, "m"));
  });

  it("a third host joins: its member is created and the two others gain it in place (updated, not replaced)", async () => {
    write(3);
    const out = await cli("up", spec, "--yes");
    assert.match(out, /\+ 3 created/);
    assert.match(out, /~ 2 updated/);
    assert.doesNotMatch(out, /replaced|deleted/);
    await eventually("c1 pings c3", pings(0, 2));
    await eventually("c3 pings c2", pings(2, 1));
    assert.equal((await dockerExec(containers[2], ["timeout", "3", "wget", "-q", "-O", "-", "http://10.77.0.11/"])).stdout, "hello from hostnet\n");
    await cli("preview", spec, "--expect-no-changes");
    const inspected = JSON.parse(await cli("inspect", spec, "--format", "json")) as { inSync: boolean; orphans: unknown[]; objects: { kind: string; object: string; status: string }[] };
    assert.deepEqual(inspected.objects.filter((o) => o.kind === "vxlan").map((o) => `${o.object}: ${o.status}`), ["hnvx4242 VNI 4242: in sync", "hnvx4242 VNI 4242: in sync", "hnvx4242 VNI 4242: in sync"]);
    assert.deepEqual(inspected.orphans, []);
    assert.equal(inspected.inSync, true);
  });

  it("the third host leaves: its resources go, the others drop it in place and still reach each other; its host is as before", async () => {
    write(2);
    const out = await cli("up", spec, "--yes");
    assert.match(out, /~ 2 updated/);
    assert.match(out, /- 3 deleted/);
    assert.doesNotMatch(await hosts[0].exec(["bridge", "fdb", "show", "dev", "hnvx4242"]), new RegExp(underlayAddr[2].replace(/\./g, "\\.")));
    assert.doesNotMatch(await hosts[0].exec(["iptables-nft-save", "-t", "filter"]), new RegExp(`HOSTNET-INPUT -s ${underlayAddr[2].replace(/\./g, "\\.")}`), "the accept for the member that left goes with it");
    await eventually("c1 still pings c2", pings(0, 1));
    assert.deepEqual(await linkAndAddrSnapshot(hosts[2]), initial[2].links);
    assert.equal(await firewallSnapshot(hosts[2]), initial[2].firewall);
  });

  it("destroy leaves every host's links and firewall as before", async () => {
    await cli("destroy", spec, "--yes");
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await linkAndAddrSnapshot(hosts[i]), initial[i].links, `h${i + 1} links`);
      assert.equal(await firewallSnapshot(hosts[i]), initial[i].firewall, `h${i + 1} firewall`);
    }
  });

  it("over an IPv6 underlay: through ip6tables' INPUT DROP, MTU 1430 inside; destroy leaves the hosts as before", async () => {
    write(2, 6);
    assert.match(await cli("up", spec, "--yes"), /\+ 8 created/);
    await eventually("c1 pings c2 across the IPv6 underlay", pings(0, 1));
    await eventually("c2 pings c1", pings(1, 0));
    // VXLAN over IPv6 adds 70 bytes: the default segment MTU is 1430, and a full-size frame crosses.
    assert.match((await dockerExec(containers[1], ["ip", "link", "show", "eth0"])).stdout, /mtu 1430/);
    assert.equal((await dockerExec(containers[1], ["ping", "-c", "1", "-W", "2", "-s", "1402", "10.77.0.11"])).exitCode, 0);
    const peer6 = underlay!.address6(hosts[1]);
    assert.match(await hosts[0].exec(["bridge", "fdb", "show", "dev", "hnvx4242"]), new RegExp(`00:00:00:00:00:00 dst ${peer6} self permanent`));
    const input6 = await hosts[0].exec(["ip6tables-nft-save", "-t", "filter"]);
    assert.match(input6, /^-A INPUT -j HOSTNET-INPUT$/m);
    assert.match(input6, new RegExp(`^-A HOSTNET-INPUT -s ${peer6}/128 -p udp -m udp --dport 4789 -m comment --comment "hostnet:[0-9a-f]{8}:vxlan/hnvx4242 vxtest/vxtest" -j ACCEPT$`, "m"));
    await cli("preview", spec, "--expect-no-changes");
    await cli("destroy", spec, "--yes");
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await linkAndAddrSnapshot(hosts[i]), initial[i].links, `h${i + 1} links`);
      assert.equal(await firewallSnapshot(hosts[i]), initial[i].firewall, `h${i + 1} firewall`);
    }
  });
});
