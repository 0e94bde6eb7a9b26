import { strict as assert } from "node:assert";
import { AttachmentProvider } from "../../provider/resources/attachment/provider";
import { ownPairMarks } from "../../provider/resources/attachment/plan";
import { ownerOf } from "../../provider/resources/common/owner";
import { PREFLIGHT_ENV } from "../../provider/resources/common/preflight";
import { forgetSnapshots, readForChecks, readOnce } from "../../provider/resources/common/snapshot";
import { withHostLock } from "../../provider/resources/common/lock";
import { RecordingRunner } from "../helpers/recording";

const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
const ok = (stdout = "") => ({ stdout, stderr: "", exitCode: 0 });

describe("provider: per-host read snapshots for refresh", () => {
  afterEach(() => {
    delete process.env[PREFLIGHT_ENV];
    forgetSnapshots("10.0.0.5:22");
    forgetSnapshots("n1:22");
  });

  it("readOnce: concurrent and later reads of a host share one read; a mutation under the host lock drops it", async () => {
    const r = new RecordingRunner("n1:22");
    const read = () => r.run(["ip", "-j", "-d", "addr", "show"]);
    await Promise.all([readOnce(r, "links", read), readOnce(r, "links", read)]);
    await readOnce(r, "links", read);
    assert.equal(r.calls.length, 1);
    await withHostLock(r, async () => undefined);
    await readOnce(r, "links", read);
    assert.equal(r.calls.length, 2, "read again after a mutation");
  });

  it("readForChecks: this process's mutations do not drop what checks read (they look for what is not ours)", async () => {
    const r = new RecordingRunner("n2:22");
    const read = () => r.run(["ip", "-j", "-d", "addr", "show"]);
    await readForChecks(r, "links", read);
    await withHostLock(r, async () => undefined);
    await readForChecks(r, "links", read);
    assert.equal(r.calls.length, 1, "one read across a mutation");
    await readOnce(r, "links", read);
    assert.equal(r.calls.length, 2, "refresh reads keep their own snapshot");
  });

  it("attachments of the containers the spec names are refreshed from one docker inspect, one stat and one round trip of ip reads", async () => {
    const owner = "demo/dev";
    const names = ["c1", "c2", "c3"];
    process.env[PREFLIGHT_ENV] = JSON.stringify({ "10.0.0.5:22": names });
    const r = new RecordingRunner("10.0.0.5:22").on((a) => {
      const line = a.join(" ");
      if (line.startsWith("docker inspect --type container")) return ok(JSON.stringify(names.map((n, i) => ({ Id: `id${i}`, Name: `/${n}`, State: { Running: true, Pid: 100 + i }, HostConfig: { NetworkMode: "none" } }))));
      if (a[0] === "stat") return ok([...names.map((_, i) => `/proc/${100 + i}/ns/net ${900 + i}`), "/proc/self/ns/net 1"].join("\n") + "\n");
      const m = /^nsenter --net=\/proc\/(\d+)\/ns\/net -- ip -j -d addr show$/.exec(line);
      if (m) {
        const k = Number(m[1]) - 100;
        return ok(JSON.stringify([{ ifindex: 1, ifname: "lo", flags: ["UP"], mtu: 65536, address: "", addr_info: [] }, { ifindex: 2, ifname: "eth0", flags: ["UP"], mtu: 1500, address: "02:00:00:00:00:02", ifalias: ownPairMarks(ownerOf(owner), `hv${k}`).inside, linkinfo: { info_kind: "veth" }, addr_info: [{ family: "inet", local: `10.1.0.${k + 2}`, prefixlen: 24, scope: "global" }] }]));
      }
      if (line === "ip -j -d addr show") return ok(JSON.stringify(names.map((_, k) => ({ ifindex: 10 + k, ifname: `hv${k}`, flags: ["UP"], mtu: 1500, address: "", master: "br0", ifalias: ownPairMarks(ownerOf(owner), `hv${k}`).host, linkinfo: { info_kind: "veth" }, addr_info: [] }))));
      if (line.includes("route show")) return ok("[]");
      return undefined;
    });
    const p = new AttachmentProvider(() => r);
    const reads = await Promise.all(names.map((n, k) => p.read(`id${k}`, { connection: conn, container: { docker: n }, interface: `hv${k}`, bridge: "br0", ifname: "eth0", addresses: [`10.1.0.${k + 2}/24`], routes: [], owner, hostId: "10.0.0.5:22", netnsInode: String(900 + k), pid: 100 + k, containerId: `id${k}`, present: true, interfaceAlias: ownPairMarks(ownerOf(owner), `hv${k}`).inside })));
    for (const [k, res] of reads.entries()) {
      assert.equal(res.props?.present, true, `c${k + 1} is there`);
      assert.deepEqual(res.props?.addresses, [`10.1.0.${k + 2}/24`]);
      assert.equal(res.props?.bridge, "br0");
    }
    const lines = r.lines();
    assert.equal(lines.filter((l) => l.startsWith("docker inspect")).length, 1, lines.join("\n"));
    assert.equal(lines.filter((l) => l.startsWith("stat ")).length, 1);
    assert.equal(lines.filter((l) => l === "ip -j -d addr show").length, 1);
    assert.equal(lines.filter((l) => l.startsWith("nsenter")).length, 3, "each named container read once: its links and the routes of both families in one ip -batch");
  });
});
