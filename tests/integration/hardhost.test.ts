import { strict as assert } from "node:assert";
import { Bridge, ContainerAttachment, NatRule, VethPair } from "../../provider";
import { ConnectionSpec } from "../../provider/host/connection";
import { OutsideClient } from "../helpers/client";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { newStack, TestStack } from "../helpers/engine";
import { firewallSnapshot } from "../helpers/firewall";
import { eventually, sh } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { HARD_HOST_USERS, TestHost } from "../helpers/testhost";

const pings = (container: string, target: string) => async () => (await dockerExec(container, ["ping", "-c", "1", "-W", "1", target])).exitCode === 0;

/**
 * S1 + S3 on a host as hard as a Debian server with Docker and ufw: FORWARD
 * policy DROP with Docker's chains, br_netfilter on, foreign nat and filter
 * rules, /bin/sh = bash; once as root and once as a sudo user whose PATH lacks
 * /usr/sbin.
 */
for (const who of ["root", HARD_HOST_USERS.sudo] as const) {
  describe(`integration: S1 + S3 on a hard host (Docker/ufw firewall, bash as sh) as ${who === "root" ? "root" : `${who} with sudo`}`, function () {
    let host: TestHost;
    let client: OutsideClient;
    let t: TestStack;
    let web = "";
    let other = "";
    let fwBefore = "";
    const containers: string[] = [];
    const tag = who === "root" ? "r" : "s";
    const sub = who === "root" ? "172.25" : "172.26";

    before(async () => {
      requireRoot();
      host = await TestHost.create(`hard${tag}`, { hard: true });
      client = await OutsideClient.create(host);
      fwBefore = await firewallSnapshot(host);
      web = await runContainer(`hweb${tag}`);
      other = await runContainer(`hoth${tag}`);
      containers.push(web, other);
      const conn: ConnectionSpec = who === "root" ? host.connection() : host.connection({ user: who, sudo: true });
      t = await newStack(`hard-${tag}`, async () => {
        const br = new Bridge("br", { connection: conn, name: `hnbr-h${tag}`, addresses: [`${sub}.0.1/16`] });
        const v1 = new VethPair("web", { connection: conn, name: `hnv-hw${tag}`, peerName: `hnv-hw${tag}-c`, bridge: br.name });
        const v2 = new VethPair("other", { connection: conn, name: `hnv-ho${tag}`, peerName: `hnv-ho${tag}-c`, bridge: br.name });
        new ContainerAttachment("web", { connection: conn, container: { docker: web }, interface: v1.peerName, addresses: [`${sub}.0.2/16`], gateway: `${sub}.0.1` });
        new ContainerAttachment("other", { connection: conn, container: { docker: other }, interface: v2.peerName, addresses: [`${sub}.0.3/16`], gateway: `${sub}.0.1` });
        new NatRule("out", { connection: conn, kind: "masquerade", source: `${sub}.0.0/16`, notOutInterface: br.name });
        new NatRule("http", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: `${sub}.0.2:80`, hairpinSource: `${sub}.0.0/16` });
      });
    });
    after(async () => {
      await t?.cleanup().catch(() => undefined);
      await removeContainers(containers);
      await client?.destroy();
      await host?.destroy();
    });

    it("applies: our HOSTNET-FORWARD chain is jumped to first from FORWARD, Docker's chains and policy stay", async () => {
      const up = await t.stack.up({ color: "never" });
      assert.deepEqual(up.summary.resourceChanges, { create: 8 });
      await sh(["docker", "exec", "-d", web, "httpd", "-f", "-p", "80", "-h", "/www"]);
      const filter = (await host.exec(["iptables-nft-save", "-t", "filter"])).split("\n");
      assert.ok(filter.includes(":FORWARD DROP [0:0]") || filter.some((l) => /^:FORWARD DROP/.test(l)), "FORWARD policy is still DROP");
      const forward = filter.filter((l) => l.startsWith("-A FORWARD "));
      assert.deepEqual(forward, ["-A FORWARD -j HOSTNET-FORWARD", "-A FORWARD -j DOCKER-USER", "-A FORWARD -j DOCKER-FORWARD"]);
      const ours = filter.filter((l) => l.startsWith("-A HOSTNET-FORWARD "));
      assert.equal(ours.length, 3, ours.join("\n"));
      assert.ok(ours.every((l) => /--comment "hostnet:[0-9a-f]{8}:/.test(l)), "every accept carries its owner's mark");
      if (who !== "root") assert.match(await host.exec(["cat", "/proc/sys/net/ipv4/ip_forward"]), /^1/);
    });

    it("S1 across the bridge through FORWARD DROP + br_netfilter: the containers ping the gateway and each other", async () => {
      await eventually("web pings the gateway", pings(web, `${sub}.0.1`));
      await eventually("web pings other", pings(web, `${sub}.0.3`));
      await eventually("other pings web", pings(other, `${sub}.0.2`));
      // The host is really that hard: without the jump to our chain, Docker's FORWARD policy drops the same traffic.
      await host.exec(["iptables-nft", "-w", "-D", "FORWARD", "-j", "HOSTNET-FORWARD"]);
      try {
        assert.equal(await pings(web, `${sub}.0.3`)(), false, "bridged traffic crosses FORWARD (br_netfilter) and is dropped without HOSTNET-FORWARD");
      } finally {
        await host.exec(["iptables-nft", "-w", "-I", "FORWARD", "1", "-j", "HOSTNET-FORWARD"]);
      }
      await eventually("web pings other again", pings(web, `${sub}.0.3`));
    });

    it("S3: an outside client fetches the page through the published port", async () => {
      await eventually("client fetch via host:8080", async () => (await client.fetch(`http://${client.hostAddress}:8080/`)) === "hello from hostnet\n");
    });

    it("S3: hairpin — the other container fetches it via the host address", async () => {
      await eventually("hairpin fetch", async () => (await dockerExec(other, ["timeout", "3", "wget", "-q", "-O", "-", `http://${client.hostAddress}:8080/`])).stdout === "hello from hostnet\n");
    });

    it("S3: a container reaches the outside client, which sees the host's address (MASQUERADE)", async () => {
      const log = await client.serve(9000);
      const r = await dockerExec(other, ["timeout", "3", "wget", "-q", "-O", "-", `http://${client.address}:9000/`]);
      assert.equal(r.stdout, "outside\n", r.stderr);
      const peers = (await sh(["cat", log])).split("\n").filter((l) => l.includes("url:/")).map((l) => /^\[?(?:::ffff:)?([0-9.]+)\]?:\d+:/.exec(l)?.[1]).filter((p) => p !== "127.0.0.1");
      assert.deepEqual(peers, [client.hostAddress]);
    });

    it("destroy leaves iptables-save (both flavours, every table) and nft list ruleset byte-identical, foreign rules intact", async () => {
      const res = await t.stack.destroy({ color: "never" });
      assert.equal(res.summary.result, "succeeded");
      const after = await firewallSnapshot(host);
      assert.equal(after, fwBefore);
      assert.match(after, /-A INPUT -p tcp -m tcp --dport 9999 -m comment --comment "foreign admin rule" -j ACCEPT/);
      assert.match(after, /-A POSTROUTING -s 172\.17\.0\.0\/16 ! -o docker0 -j MASQUERADE/);
      assert.equal((await host.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "1", "Docker's ip_forward=1 is left as it was");
    });
  });
}
