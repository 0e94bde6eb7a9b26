import { strict as assert } from "node:assert";
import { AttachmentProvider } from "../../provider/resources/attachment/provider";
import { RecordingRunner } from "../helpers/recording";
import { movedRecordPath } from "../../provider/resources/common/moved";
import { ownPairMarks } from "../../provider/resources/attachment/plan";
import { ownerOf } from "../../provider/resources/common/owner";
import { ipLinkDelIfMarked } from "../../provider/linux/ip";
import { PREFLIGHT_ENV } from "../../provider/resources/common/preflight";
import { forgetAllSnapshots } from "../../provider/resources/common/snapshot";

const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
const NS = "/proc/4242/ns/net";
const ok = (stdout = "") => ({ stdout, stderr: "", exitCode: 0 });
const vethB = JSON.stringify([{ ifindex: 7, ifname: "vethB", flags: ["UP"], mtu: 1500, address: "02:00:00:00:00:0b", ifalias: "hostnet:n/veth/vethA/peer", linkinfo: { info_kind: "veth" }, addr_info: [] }]);
const eth0 = JSON.stringify([{ ifindex: 7, ifname: "eth0", flags: [], mtu: 1500, address: "02:00:00:00:00:0b", ifalias: "hostnet:n/veth/vethA/peer", linkinfo: { info_kind: "veth" }, addr_info: [] }]);
const lo = JSON.stringify([{ ifindex: 1, ifname: "lo", flags: ["LOOPBACK", "UP"], mtu: 65536, address: "00:00:00:00:00:00", addr_info: [] }]);

function scriptedHost(failOn?: string): RecordingRunner {
  return new RecordingRunner("n1:22").on((a) => {
    const line = a.join(" ");
    if (failOn && line === failOn) return { stdout: "", stderr: "RTNETLINK answers: Permission denied", exitCode: 2 };
    if (line === "docker inspect --type container base") return ok(JSON.stringify([{ Id: "abc", Name: "/base", State: { Running: true, Pid: 4242 }, HostConfig: { NetworkMode: "none" } }]));
    if (line === `stat -L -c %i ${NS} /proc/self/ns/net`) return ok("4026532999\n4026531840\n");
    if (line === `nsenter --net=${NS} -- ip -j -d addr show`) return ok(lo);
    if (line === "ip -j -d addr show dev vethB") return ok(vethB);
    if (line === `nsenter --net=${NS} -- ip -j -d addr show dev eth0`) return ok(eth0);
    if (line.includes("route show")) return ok("[]");
    return undefined;
  });
}

describe("provider: ContainerAttachment CRUD against a recording runner", () => {
  it("a failed step inside the container undoes the rest in reverse: forget the record, down, rename back, move back, up", async () => {
    const r = scriptedHost(`nsenter --net=${NS} -- ip addr add 172.16.0.2/16 dev eth0`);
    await assert.rejects(new AttachmentProvider(() => r).create({ connection: conn, container: { docker: "base" }, interface: "vethB", addresses: ["172.16.0.2/16"], gateway: "172.16.0.1" }), /step 4\/\d+ \(nsenter --net=\/proc\/4242\/ns\/net -- ip addr add 172.16.0.2\/16 dev eth0\) failed on n1:22 with exit code 2: RTNETLINK answers: Permission denied; undid 3 completed step/);
    const lines = r.lines();
    const at = lines.indexOf(`nsenter --net=${NS} -- ip addr add 172.16.0.2/16 dev eth0`);
    assert.deepEqual(lines.slice(at + 1), [
      `sh -c rm -f -- "$@"; rmdir "$0" /run/hostnet 2>/dev/null; true /run/hostnet/moved ${movedRecordPath("hostnet:n/veth/vethA/peer")}`,
      `nsenter --net=${NS} -- ip link set dev eth0 down`,
      `nsenter --net=${NS} -- ip link set dev eth0 name vethB`,
      `sh -c nsenter --net="$1" -- ip link set dev "$2" netns "$$"; exit $? sh ${NS} vethB`,
      "ip link set dev vethB up",
    ]);
  });

  it("finishes a move an earlier run started (cut off between move and rename): renames the end already inside, moves nothing", async () => {
    const inside = JSON.stringify([JSON.parse(lo)[0], { ...JSON.parse(vethB)[0], flags: [] }]);
    const r = new RecordingRunner("n1:22").on((a) => {
      const line = a.join(" ");
      if (line === "docker inspect --type container base") return ok(JSON.stringify([{ Id: "abc", Name: "/base", State: { Running: true, Pid: 4242 }, HostConfig: { NetworkMode: "none" } }]));
      if (line === `stat -L -c %i ${NS} /proc/self/ns/net`) return ok("4026532999\n4026531840\n");
      if (line === `nsenter --net=${NS} -- ip -j -d addr show`) return ok(inside);
      if (line === "ip -j -d addr show dev vethB") return { stdout: "", stderr: 'Device "vethB" does not exist.', exitCode: 1 };
      if (line === `nsenter --net=${NS} -- ip -j -d addr show dev eth0`) return ok(eth0);
      if (line.includes("route show")) return ok("[]");
      return undefined;
    });
    // This scripted host does not change its answers, so the final verification fails; the commands are what counts.
    await assert.rejects(new AttachmentProvider(() => r).create({ connection: conn, container: { docker: "base" }, interface: "vethB", addresses: ["172.16.0.2/16"] }), /differs after apply/);
    const lines = r.lines();
    assert.ok(lines.includes(`nsenter --net=${NS} -- ip link set dev vethB name eth0`), lines.join("\n"));
    assert.ok(!lines.some((l) => l.startsWith("ip link set dev vethB netns")), "nothing is moved again");
  });

  it("refuses the host's own namespace without changing anything", async () => {
    const r = new RecordingRunner("n1:22").on((a) => (a[0] === "stat" ? ok("4026531840\n4026531840\n") : undefined));
    await assert.rejects(new AttachmentProvider(() => r).create({ connection: conn, container: { pid: 77 }, interface: "vethB" }), /pid:77 on n1:22 shares the host's network namespace/);
    assert.deepEqual(r.lines(), ["stat -L -c %i /proc/77/ns/net /proc/self/ns/net"]);
  });

  it("a container that is gone counts as deleted (only the record of where its interface went is removed)", async () => {
    const r = new RecordingRunner("n1:22").on(() => ({ stdout: "[]", stderr: "Error response from daemon: No such container: base", exitCode: 1 }));
    await new AttachmentProvider(() => r).delete("id", { connection: conn, container: { docker: "base" }, interface: "vethB", ifname: "eth0", addresses: [], routes: [], hostId: "n1:22", netnsInode: "1", pid: 1, containerId: "c", present: true, interfaceAlias: "x" });
    assert.deepEqual(r.lines(), ["docker inspect --type container base", `sh -c rm -f -- "$@"; rmdir "$0" /run/hostnet 2>/dev/null; true /run/hostnet/moved ${movedRecordPath("x")}`]);
  });
});

describe("provider: ContainerAttachment that makes its own pair (bridge set)", () => {
  const owner = "demo/dev";
  const marks = ownPairMarks(ownerOf(owner), "hv1");
  const base = { connection: conn, container: { docker: "base" }, interface: "hv1", bridge: "br0", ifname: "eth0", addresses: ["172.16.0.2/16"], gateway: "172.16.0.1", owner };
  /** A host that answers as the kernel would once the pair is made (`made`), or before. */
  function host(o: { made?: boolean; hostAlias?: string; insideGone?: boolean; failOn?: RegExp; inode?: string } = {}): RecordingRunner {
    let made = o.made ?? false;
    const hostEnd = () => JSON.stringify([{ ifindex: 9, ifname: "hv1", flags: ["UP"], mtu: 1500, address: "02:00:00:00:00:09", ifalias: o.hostAlias ?? marks.host, master: "br0", linkinfo: { info_kind: "veth" }, addr_info: [] }]);
    const inside = () => ({ ifindex: 2, link_index: 9, link_netnsid: 0, ifname: "eth0", flags: ["UP"], mtu: 1500, address: "02:00:00:00:00:02", ifalias: marks.inside, linkinfo: { info_kind: "veth" }, addr_info: [{ family: "inet", local: "172.16.0.2", prefixlen: 16, scope: "global" }] });
    return new RecordingRunner("n1:22").on((a) => {
      const line = a.join(" ");
      if (o.failOn?.test(line)) return { stdout: "", stderr: "RTNETLINK answers: File exists", exitCode: 2 };
      if (line.startsWith("ip link add name hv1 ") && o.hostAlias) return { stdout: "", stderr: "RTNETLINK answers: File exists", exitCode: 2 };
      if (line.startsWith("ip link add name hv1 ")) made = true;
      if (line === `stat -L -c %n %i ${NS} /proc/self/ns/net`) return ok(`${NS} 4026532999\n/proc/self/ns/net 4026531840\n`);
      if (a[0] === "find" && a[2] === NS) return a[7] === (o.inode ?? "4026532999") ? ok() : { stdout: "", stderr: "", exitCode: 1 };
      if (line === "ip link del dev hv1") made = false;
      if (line === "docker inspect --type container base") return ok(JSON.stringify([{ Id: "abc", Name: "/base", State: { Running: true, Pid: 4242 }, HostConfig: { NetworkMode: "none" } }]));
      if (line === `stat -L -c %i ${NS} /proc/self/ns/net`) return ok(`${o.inode ?? "4026532999"}\n4026531840\n`);
      if (line === `nsenter --net=${NS} -- ip -j -d addr show`) return ok(JSON.stringify([JSON.parse(lo)[0], ...(made && !o.insideGone ? [inside()] : [])]));
      if (line === "ip -j -d addr show dev hv1") return made || o.hostAlias ? ok(hostEnd()) : { stdout: "", stderr: 'Device "hv1" does not exist.', exitCode: 1 };
      if (line === `nsenter --net=${NS} -- ip -j -d addr show dev eth0`) return made ? ok(JSON.stringify([inside()])) : { stdout: "", stderr: 'Device "eth0" does not exist.', exitCode: 1 };
      if (line === `nsenter --net=${NS} -- ip -j -4 route show table main`) return ok(made ? JSON.stringify([{ dst: "default", gateway: "172.16.0.1", dev: "eth0", protocol: "boot", flags: [] }]) : "[]");
      if (line.includes("route show")) return ok("[]");
      return undefined;
    });
  }

  it("create: the container end is made inside the namespace (no move, no rename); both ends marked; the rest inside is one ip -batch", async () => {
    const r = host();
    const res = await new AttachmentProvider(() => r).create(base);
    assert.equal(res.outs.interfaceAlias, marks.inside);
    const lines = r.lines();
    assert.ok(lines.includes("ip link add name hv1 master br0 up type veth peer name eth0 netns 4242"), lines.join("\n"));
    assert.ok(lines.includes(`ip link set dev hv1 alias ${marks.host}`));
    const batch = lines.indexOf(`nsenter --net=${NS} -- ip -batch -`);
    assert.ok(batch >= 0);
    assert.equal(r.stdins[batch]?.split("\n")[0], `link set dev eth0 alias "${marks.inside}"`, "the end inside is marked in the same batch");
    assert.ok(!lines.some((l) => / netns \/proc| name eth0$/.test(l) && l.startsWith("ip link set")), "nothing is moved or renamed");
  });

  it("create after this run's check read the container: one round trip (guard, add, marks, one batch inside, re-read), nothing read before", async () => {
    process.env[PREFLIGHT_ENV] = JSON.stringify({ "n1:22": ["base"] });
    try {
      const r = host();
      const p = new AttachmentProvider(() => r);
      await p.check({}, base);
      const before = r.calls.length;
      const res = await p.create(base);
      assert.equal(res.outs.interfaceAlias, marks.inside);
      assert.equal(res.outs.netnsInode, "4026532999");
      assert.deepEqual(r.lines().slice(before).map((l) => l.split(" ").slice(0, 4).join(" ")), [
        `find -L ${NS} -maxdepth`,
        "ip link add name",
        "ip link set dev",
        `nsenter --net=${NS} -- ip`,
        `nsenter --net=${NS} -- ip`,
        "ip -j -d addr",
      ]);
      assert.equal(r.lines()[before + 4], `nsenter --net=${NS} -- ip -j -d -batch -`, "an IPv4-only attachment reads no IPv6 routes");
    } finally {
      delete process.env[PREFLIGHT_ENV];
    }
  });

  it("create whose one-round-trip attempt is refused (the namespace changed, or a name was taken since the check) changes nothing, then reads and plans", async () => {
    process.env[PREFLIGHT_ENV] = JSON.stringify({ "n1:22": ["base"] });
    try {
      // The PID now names another namespace: the guard stops the round trip before anything; the slow path inspects anew.
      let r = host({ inode: "4026530000" });
      let p = new AttachmentProvider(() => r);
      await p.check({}, base);
      let before = r.calls.length;
      await p.create(base).catch(() => undefined);
      let after = r.lines().slice(before);
      const inspect = after.indexOf("docker inspect --type container base");
      assert.ok(after[0].startsWith("find -L") && inspect > 0 && after.slice(0, inspect).every((l) => !l.startsWith("ip link")), after.join("\n"));
      // A host end of that name appeared, not ours: the kernel refuses the add whole, and the slow path refuses it by name.
      forgetAllSnapshots();
      r = host({ hostAlias: "someone" });
      p = new AttachmentProvider(() => r);
      await p.check({}, base);
      before = r.calls.length;
      await assert.rejects(p.create(base), /hv1 already exists on n1:22 and is not made by this attachment/);
      after = r.lines().slice(before);
      assert.ok(after[1].startsWith("ip link add name hv1") && !after.some((l) => l === "ip link del dev hv1" || l.includes("alias")), after.join("\n"));
    } finally {
      delete process.env[PREFLIGHT_ENV];
    }
  });

  it("create: a failed step deletes the new pair (its only undo) and names the step", async () => {
    const r = host({ failOn: /ip -batch -$/ });
    await assert.rejects(new AttachmentProvider(() => r).create(base), /step 3\/3 \(nsenter --net=\/proc\/4242\/ns\/net -- ip -batch -\) failed on n1:22 with exit code 2: RTNETLINK answers: File exists; undid 2/);
    assert.equal(r.lines().at(-1), "ip link del dev hv1");
  });

  it("refuses a host end of the same name that is not this attachment's, touching nothing", async () => {
    const r = host({ hostAlias: "someone" });
    await assert.rejects(new AttachmentProvider(() => r).create(base), /hv1 already exists on n1:22 and is not made by this attachment \(alias "someone"\); refusing/);
    assert.ok(r.lines().every((l) => l.startsWith("docker inspect") || l.startsWith("stat ") || l.includes(" show") || l.endsWith("ip -j -d -batch -")), r.lines().join("\n"));
  });

  it("a host end whose peer is not in the container (it went with the old namespace) is deleted and the pair made anew", async () => {
    const r = host({ made: true, insideGone: true });
    await new AttachmentProvider(() => r).update("id", { ...base, addresses: [], routes: [], hostId: "n1:22", netnsInode: "1", pid: 4242, containerId: "abc", present: false, interfaceAlias: marks.inside }, base);
    const lines = r.lines();
    const del = lines.indexOf("ip link del dev hv1");
    assert.ok(del >= 0 && lines.indexOf("ip link add name hv1 master br0 up type veth peer name eth0 netns 4242") > del, lines.join("\n"));
  });

  it("re-mastering to another bridge makes the container forget its cached neighbours (the gateway may answer from another MAC)", async () => {
    const r = host({ made: true });
    // This scripted host keeps the end on br0, so the verification fails and the steps are undone; the commands are what counts.
    await assert.rejects(new AttachmentProvider(() => r).update("id", { ...base, routes: [], hostId: "n1:22", netnsInode: "1", pid: 4242, containerId: "abc", present: true, interfaceAlias: marks.inside }, { ...base, bridge: "br1" }), /is on br0, not br1/);
    const lines = r.lines();
    const master = lines.indexOf("ip link set dev hv1 master br1");
    assert.ok(master >= 0 && lines[master + 1] === `nsenter --net=${NS} -- ip neigh flush dev eth0`, lines.join("\n"));
  });

  it("delete: one guarded command on the host end, checking the mark; nothing inside the container is entered", async () => {
    const r = new RecordingRunner("n1:22");
    await new AttachmentProvider(() => r).delete("id", { ...base, routes: [], hostId: "n1:22", netnsInode: "1", pid: 4242, containerId: "abc", present: true, interfaceAlias: marks.inside });
    assert.deepEqual(r.calls, [ipLinkDelIfMarked("hv1", marks.host)]);
  });
});
