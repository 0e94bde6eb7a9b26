import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Bridge, ContainerAttachment, NatRule, VethPair } from "../../provider";
import { spawnHeld } from "../../provider/host/local";
import { holdLockArgv, lockFilePath } from "../../provider/resources/common/lock";
import { forwardMarkPath } from "../../provider/resources/nat/forwarding";
import { OutsideClient } from "../helpers/client";
import { containerLinkNames } from "../helpers/container-ns";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { newStack, TestStack } from "../helpers/engine";
import { firewallSnapshot } from "../helpers/firewall";
import { linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { sh, sleep, tryRun, eventually } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { HARD_HOST_USERS, TestHost } from "../helpers/testhost";
import { HOSTILE } from "../helpers/hostile";

/** Runs a command as `user` with the system OpenSSH client (host key pinned), as an admin would: no hostnet code involved. */
async function sshAs(host: TestHost, user: string, command: string): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const known = path.join(host.dir, "known_hosts_raw");
  fs.writeFileSync(known, `${host.address} ${host.hostKey}\n`);
  return tryRun(["ssh", "-q", "-i", path.join(host.dir, "id_ed25519"), "-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", `${user}@${host.address}`, command]);
}

/** Everything engine-visible that went wrong in a failed operation, as one string. */
function errorText(e: unknown): string {
  const x = e as { message?: string; stdout?: string; stderr?: string };
  return `${x.message ?? ""}\n${x.stdout ?? ""}\n${x.stderr ?? ""}`;
}

describe("integration: the hard host is as hard as a Debian server with Docker and ufw", function () {
  let host: TestHost;
  before(async () => {
    requireRoot();
    host = await TestHost.create("hardcheck", { hard: true });
  });
  after(async () => host?.destroy());

  it("sessions run bash as sh; the sudo user's PATH lacks /usr/sbin, sudo works for it and wants a password for nopass", async () => {
    const shell = await sshAs(host, "root", "sh -c 'echo ${BASH_VERSION:-not-bash}'");
    assert.match(shell.stdout, /^5\./, `sh is bash: ${shell.stdout}${shell.stderr}`);
    const p = await sshAs(host, HARD_HOST_USERS.sudo, "echo $PATH; id -un");
    assert.equal(p.exitCode, 0, p.stderr);
    const [pathLine, user] = p.stdout.trim().split("\n");
    assert.equal(user, HARD_HOST_USERS.sudo);
    assert.ok(!pathLine.split(":").includes("/usr/sbin"), pathLine);
    assert.equal((await sshAs(host, HARD_HOST_USERS.sudo, "sudo -n iptables-nft -S FORWARD")).stdout.split("\n")[0], "-P FORWARD DROP");
    assert.match((await sshAs(host, HARD_HOST_USERS.nopass, "sudo -n true")).stderr, /a password is required/);
    assert.match(await host.exec(["iptables-nft-save", "-t", "nat"]), /-A POSTROUTING -s 172\.17\.0\.0\/16 ! -o docker0 -j MASQUERADE/);
    assert.equal((await host.exec(["sysctl", "-n", "net.bridge.bridge-nf-call-iptables"])).trim(), "1");
  });
});

describe("integration: safe on a real, busy host (two stacks, failures, the lock, hostile input, sudo)", function () {
  let host: TestHost;
  let client: OutsideClient;
  const stacks: TestStack[] = [];
  const containers: string[] = [];
  before(async () => {
    requireRoot();
    host = await TestHost.create("busy", { hard: true });
    client = await OutsideClient.create(host);
  });
  after(async () => {
    for (const s of stacks.reverse()) await s.cleanup().catch(() => undefined);
    await removeContainers(containers);
    await client?.destroy();
    await host?.destroy();
  });
  const stack = async (name: string, program: () => Promise<void>) => {
    const t = await newStack(name, program);
    stacks.push(t);
    return t;
  };
  const container = async (label: string, opts?: Parameters<typeof runContainer>[1]) => {
    const c = await runContainer(label, opts);
    containers.push(c);
    return c;
  };

  it("two stacks, one host: the same bridge name is refused naming the first stack; identical NAT rules both apply and destroying one leaves the other's rules and traffic", async () => {
    const conn = host.connection();
    const fwBefore = await firewallSnapshot(host);
    const ca = await container("twoa");
    const cb = await container("twob");
    const a = await stack("two-a", async () => {
      const br = new Bridge("br", { connection: conn, name: "hnbr-ta", addresses: ["172.27.1.1/24"] });
      const v = new VethPair("v", { connection: conn, name: "hnv-ta", peerName: "hnv-ta-c", bridge: br.name });
      new ContainerAttachment("c", { connection: conn, container: { docker: ca }, interface: v.peerName, addresses: ["172.27.1.2/24"], gateway: "172.27.1.1" });
      new NatRule("out", { connection: conn, kind: "masquerade", source: "172.27.0.0/16" });
      new NatRule("web", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8088, to: "172.27.1.2:80" });
    });
    assert.deepEqual((await a.stack.up({ color: "never" })).summary.resourceChanges, { create: 6 });

    let bridgeName = "hnbr-ta";
    let publish = true;
    const b = await stack("two-b", async () => {
      const br = new Bridge("br", { connection: conn, name: bridgeName, addresses: ["172.27.2.1/24"] });
      const v = new VethPair("v", { connection: conn, name: "hnv-tb", peerName: "hnv-tb-c", bridge: br.name });
      new ContainerAttachment("c", { connection: conn, container: { docker: cb }, interface: v.peerName, addresses: ["172.27.2.2/24"], gateway: "172.27.2.1" });
      new NatRule("out", { connection: conn, kind: "masquerade", source: "172.27.0.0/16" });
      if (publish) new NatRule("web", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8088, to: "172.27.2.2:80" });
    });
    await assert.rejects(b.stack.up({ color: "never" }), (e) => /hnbr-ta already exists on .* belongs to another hostnet stack two-a\/test/.test(errorText(e)));
    assert.match(String((await linkOf(host, "hnbr-ta"))?.ifalias), / two-a\/test$/, "the first stack's bridge is untouched");
    await b.stack.destroy({ color: "never" });

    bridgeName = "hnbr-tb";
    await assert.rejects(b.stack.up({ color: "never" }), (e) => /tcp port 8088 \(address any\) is already published on this host by another hostnet stack two-a\/test/.test(errorText(e)));
    publish = false;
    const upB = await b.stack.up({ color: "never" });
    assert.equal(upB.summary.result, "succeeded");
    const nat = await host.exec(["iptables-nft-save", "-t", "nat"]);
    const masq = nat.split("\n").filter((l) => l.startsWith("-A HOSTNET-POSTROUTING -s 172.27.0.0/16") && l.includes("MASQUERADE"));
    assert.equal(masq.length, 2, "identical masquerade rules of both stacks coexist, each with its own tag");
    assert.match(masq.join("\n"), / two-a\/test"/);
    assert.match(masq.join("\n"), / two-b\/test"/);

    await b.stack.destroy({ color: "never" });
    const after = await host.exec(["iptables-nft-save", "-t", "nat"]);
    assert.equal(after.split("\n").filter((l) => l.includes("two-b/test")).length, 0, "stack b's rules are gone");
    assert.equal(after.split("\n").filter((l) => l.includes("two-a/test")).length, 3, "stack a's masquerade and DNAT (PREROUTING, OUTPUT) remain");
    await sh(["docker", "exec", "-d", ca, "httpd", "-f", "-p", "80", "-h", "/www"]);
    await eventually("stack a's published port still works", async () => (await client.fetch(`http://${client.hostAddress}:8088/`)) === "hello from hostnet\n");
    const log = await client.serve(9100);
    await eventually("stack a's container still gets out (MASQUERADE)", async () => (await dockerExec(ca, ["timeout", "3", "wget", "-q", "-O", "-", `http://${client.address}:9100/`])).stdout === "outside\n");
    assert.match(await sh(["cat", log]), new RegExp(client.hostAddress.replace(/\./g, "\\.")));
    await a.stack.destroy({ color: "never" });
    assert.equal(await firewallSnapshot(host), fwBefore, "both stacks gone: the firewall is as before");
  });

  it("a forced failure in the middle of an attachment on the bash-as-sh host leaves container and host as before (link moved back, then gone)", async () => {
    const conn = host.connection();
    const before = await linkAndAddrSnapshot(host);
    const c = await container("fail");
    const t = await stack("fail-mid", async () => {
      const br = new Bridge("br", { connection: conn, name: "hnbr-ff", addresses: ["172.27.9.1/24"] });
      const v = new VethPair("v", { connection: conn, name: "hnv-ff", peerName: "hnv-ff-c", bridge: br.name });
      // The route's next hop is not on any link: `ip route add` fails after the move, the rename and the address.
      new ContainerAttachment("c", { connection: conn, container: { docker: c }, interface: v.peerName, addresses: ["172.27.9.2/24"], routes: [{ to: "10.99.0.0/16", via: "192.168.250.1" }] });
    });
    await assert.rejects(t.stack.up({ color: "never" }), (e) => /step \d+\/\d+ \(nsenter .* ip route add 10\.99\.0\.0\/16 via 192\.168\.250\.1 dev eth0\) failed on .* undid \d+ completed step/.test(errorText(e)));
    assert.deepEqual(await containerLinkNames(c), ["lo"], "nothing of ours is left in the container");
    const back = await linkOf(host, "hnv-ff-c");
    assert.ok(back, "the moved end is back on the host under its own name (moveLinkBack under bash)");
    assert.match(String(back?.ifalias), /^hostnet:[0-9a-f]{8}:veth\/hnv-ff\/peer /);
    await t.stack.destroy({ color: "never" });
    assert.equal(await linkOf(host, "hnv-ff-c"), undefined, "then gone");
    assert.deepEqual(await linkAndAddrSnapshot(host), before);
  });

  it("killing the host lock's holder during an up of 20 resources fails the up with a lock-lost error; a second up converges", async () => {
    const conn = host.connection();
    const lock = lockFilePath(await host.netnsInode());
    const t = await stack("lock-kill", async () => {
      for (let i = 0; i < 20; i++) new Bridge(`br${i}`, { connection: conn, name: `hnbr-l${i}`, addresses: [`172.28.${i}.1/24`] });
    });
    let done = false;
    const killed: number[] = [];
    const killer = (async () => {
      while (!done) {
        const text = fs.existsSync(lock) ? fs.readFileSync(lock, "utf8") : "";
        const pid = Number(/ pid (\d+)$/m.exec(text)?.[1] ?? 0);
        // Only the holder we just read, only while it is alive, and only a process of this test host's namespace.
        if (pid > 0 && !killed.includes(pid) && fs.existsSync(`/proc/${pid}`) && (await tryRun(["ip", "netns", "identify", String(pid)])).stdout.trim() === host.netns) {
          killed.push(pid);
          process.kill(pid, "SIGKILL");
        }
        await sleep(15);
      }
    })();
    let failure = "";
    try {
      await t.stack.up({ color: "never" });
    } catch (e) {
      failure = errorText(e);
    } finally {
      done = true;
      await killer;
    }
    assert.ok(killed.length > 0, "a holder was killed");
    assert.match(failure, /lost the host lock \/run\/lock\/hostnet\.\d+\.lock on .* \(its holder ended: .*\); stopped before/);
    const up2 = await t.stack.up({ color: "never" });
    assert.equal(up2.summary.result, "succeeded");
    for (let i = 0; i < 20; i++) assert.ok(await linkOf(host, `hnbr-l${i}`), `hnbr-l${i} exists`);
    assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { same: 21 });
    await t.stack.destroy({ color: "never" });
  });

  it("a hostile hostId (and 12 other hostile values) is refused at preview; nothing reaches the host", async () => {
    const accepted = host.acceptedConnections();
    const fw = await firewallSnapshot(host);
    let hostId = "";
    const t = await stack("hostile", async () => {
      const conn = { ...host.connection(), hostId };
      new Bridge("br", { connection: conn, name: "hnbr-x" });
      new NatRule("out", { connection: conn, kind: "masquerade", source: "172.29.0.0/16", backend: "nftables" });
    });
    for (const v of HOSTILE) {
      hostId = v;
      await assert.rejects(t.stack.preview({ color: "never" }), (e) => /connection\.hostId: expected 1-100 characters of \[A-Za-z0-9_\.:@-\]/.test(errorText(e)), JSON.stringify(v));
    }
    assert.equal(HOSTILE.length, 13);
    assert.equal(host.acceptedConnections(), accepted, "no SSH connection was opened");
    assert.equal(await firewallSnapshot(host), fw);
    assert.equal(await linkOf(host, "hnbr-x"), undefined);
  });

  it("a user without passwordless sudo gets one clear error naming the host and the fix", async () => {
    const t = await stack("nopass", async () => {
      new Bridge("br", { connection: host.connection({ user: HARD_HOST_USERS.nopass, sudo: true }), name: "hnbr-np" });
    });
    await assert.rejects(t.stack.up({ color: "never" }), (e) => {
      const text = errorText(e);
      assert.match(text, new RegExp(`sudo on ${host.address.replace(/\./g, "\\.")}:22 refused to run .* for nopass \\(sudo: a password is required\\).*"nopass ALL=\\(root\\) NOPASSWD: ALL"`));
      assert.doesNotMatch(text, /at .*\.js:\d+/, "no stack trace");
      return true;
    });
    assert.equal(await linkOf(host, "hnbr-np"), undefined);
  });
});

describe("integration: ip_forward is counted across backends and stacks", function () {
  let host: TestHost;
  const stacks: TestStack[] = [];
  before(async () => {
    requireRoot();
    host = await TestHost.create("fwdcount");
    await host.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
  });
  after(async () => {
    for (const s of stacks.reverse()) await s.cleanup().catch(() => undefined);
    await host?.destroy();
  });
  const forward = async () => (await host.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim();
  const masq = (project: string, backend: "nft" | "legacy" | "nftables") =>
    newStack(project, async () => {
      new NatRule("out", { connection: host.connection(), kind: "masquerade", source: "172.30.0.0/16", backend });
    }).then((t) => (stacks.push(t), t));

  it("the last rule of one backend keeps ip_forward on while another stack's rules on another backend remain; the very last restores it", async () => {
    const a = await masq("fwd-a", "nftables");
    const b = await masq("fwd-b", "legacy");
    await a.stack.up({ color: "never" });
    await b.stack.up({ color: "never" });
    assert.equal(await forward(), "1");
    await a.stack.destroy({ color: "never" });
    assert.equal(await forward(), "1", "stack b's iptables-legacy rule still needs forwarding");
    await b.stack.destroy({ color: "never" });
    assert.equal(await forward(), "0", "no hostnet rule is left: restored");
  });

  it("forwarding is left on when something else started to route meanwhile (a new foreign NAT rule, as Docker adds)", async () => {
    const a = await masq("fwd-c", "nft");
    await a.stack.up({ color: "never" });
    assert.equal(await forward(), "1");
    await host.exec(["iptables-nft", "-w", "-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "-j", "MASQUERADE"]);
    try {
      await a.stack.destroy({ color: "never" });
      assert.equal(await forward(), "1", "left on for the other router");
      assert.equal(fs.existsSync(forwardMarkPath(await host.netnsInode())), false, "the record is dropped");
    } finally {
      await host.exec(["iptables-nft", "-w", "-t", "nat", "-D", "POSTROUTING", "-s", "172.17.0.0/16", "-j", "MASQUERADE"]);
      await host.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
    }
  });
});

describe("integration: waiting for another run's host lock", function () {
  let host: TestHost;
  const stacks: TestStack[] = [];
  before(async () => {
    requireRoot();
    host = await TestHost.create("lockwait");
  });
  after(async () => {
    delete process.env.HOSTNET_LOCK_TIMEOUT_S;
    for (const s of stacks) await s.cleanup().catch(() => undefined);
    await host?.destroy();
  });

  it("says who holds the lock while it waits, and gives up after the timeout naming them; once free, the up goes through", async () => {
    const file = lockFilePath(await host.netnsInode());
    const other = await spawnHeld(["ip", "netns", "exec", host.netns, ...holdLockArgv(file, "stack other/prod", 60)], 10_000);
    let released = false;
    try {
      process.env.HOSTNET_LOCK_TIMEOUT_S = "3";
      const t = await newStack("lock-wait", async () => {
        new Bridge("br", { connection: host.connection(), name: "hnbr-lw" });
      });
      stacks.push(t);
      let out = "";
      await assert.rejects(t.stack.up({ color: "never", onOutput: (s) => (out += s) }), (e) => {
        assert.match(errorText(e), /gave up after 3 s waiting for the host lock \/run\/lock\/hostnet\.\d+\.lock on .*, held by stack other\/prod since \d{4}-\d\d-\d\dT[0-9:]+Z pid \d+; try again when that run is done/);
        return true;
      });
      assert.match(out, /waiting for the host lock \/run\/lock\/hostnet\.\d+\.lock, held by stack other\/prod since/, "the wait shows in Pulumi's output");
      await other.release();
      released = true;
      assert.equal((await t.stack.up({ color: "never" })).summary.result, "succeeded");
      assert.ok(await linkOf(host, "hnbr-lw"));
    } finally {
      if (!released) await other.release();
    }
  });
});
