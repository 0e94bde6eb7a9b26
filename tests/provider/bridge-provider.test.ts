import { forgetAllSnapshots } from "../../provider/resources/common/snapshot";
import { strict as assert } from "node:assert";
import { BridgeProvider } from "../../provider/resources/bridge/provider";
import { stableBridgeMac } from "../../provider/resources/bridge/plan";
import { BridgeOutputs } from "../../provider/resources/bridge/args";
import { RecordingRunner } from "../helpers/recording";
import { RunResult } from "../../provider/host/runner";
import { ConnectionError, HostKeyError } from "../../provider/host/errors";
import { linkMark, ownerOf } from "../../provider/resources/common/owner";

const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA", privateKey: "-----BEGIN SECRET-----" };
const ID = "node1:22/bridge/br0";
const OWNER = "proj/dev";
const MARK = linkMark(ownerOf(OWNER), "bridge", "br0");
/** The link commands only (the forward accepts in the filter table have their own test). */
const ipLines = (r: RecordingRunner) => r.lines().filter((l) => l.startsWith("ip "));

/** A fake `ip -j -d addr show dev br0` answer. */
function linkJson(over: Record<string, unknown> = {}): string {
  return JSON.stringify([{ ifindex: 7, ifname: "br0", flags: ["BROADCAST", "UP"], mtu: 1500, address: "02:00:00:00:00:01", ifalias: MARK, linkinfo: { info_kind: "bridge", info_data: { stp_state: 0, vlan_filtering: 0 } }, addr_info: [{ family: "inet", local: "10.0.0.1", prefixlen: 24, scope: "global" }], ...over }]);
}
const absent: RunResult = { stdout: "", stderr: 'Device "br0" does not exist.', exitCode: 1 };
const isShow = (a: readonly string[]) => a.join(" ") === "ip -j -d addr show dev br0";
const isShowAll = (a: readonly string[]) => a.join(" ") === "ip -j -d addr show";
/** Answers both reads: all links (before planning) and br0 alone (after applying). */
const links = (json: () => string | undefined) => (a: readonly string[]): RunResult | undefined =>
  isShowAll(a) ? { stdout: json() ?? "[]", stderr: "", exitCode: 0 } : isShow(a) ? (json() !== undefined ? { stdout: json() as string, stderr: "", exitCode: 0 } : absent) : undefined;

describe("provider: Bridge CRUD against a recording runner", () => {
  it("create on a clean host: reads, creates, marks, addresses, up, re-reads", async () => {
    const r = new RecordingRunner();
    let created = false;
    r.on(links(() => (created ? linkJson() : undefined)));
    r.on((a) => (a[2] === "add" && a[1] === "link" ? ((created = true), { stdout: "", stderr: "", exitCode: 0 }) : undefined));
    const res = await new BridgeProvider(() => r).create({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], owner: OWNER });
    assert.equal(res.id, ID);
    assert.deepEqual(ipLines(r), [
      "ip -j -d addr show",
      `ip link add name br0 address ${stableBridgeMac(r.hostId, MARK)} type bridge`,
      `ip link set dev br0 alias ${MARK}`,
      "ip addr add 10.0.0.1/24 dev br0",
      "ip link set dev br0 up",
      "ip -j -d addr show dev br0",
    ]);
    assert.equal((res.outs as BridgeOutputs).ifindex, 7);
  });

  it("a failed step undoes the completed ones in reverse and names host, step, argv and stderr", async () => {
    const r = new RecordingRunner();
    r.on(links(() => undefined));
    r.on((a) => (a.join(" ") === "ip addr add 10.0.0.2/24 dev br0" ? { stdout: "", stderr: "RTNETLINK answers: Permission denied", exitCode: 2 } : undefined));
    await assert.rejects(new BridgeProvider(() => r).create({ connection: conn, name: "br0", addresses: ["10.0.0.1/24", "10.0.0.2/24"] }), (e: Error) => {
      assert.match(e.message, /bridge br0 on node1:22: step 4\/5 \(ip addr add 10.0.0.2\/24 dev br0\) failed on node1:22 with exit code 2: RTNETLINK answers: Permission denied; undid 3 completed step\(s\)/);
      return true;
    });
    assert.equal(r.lines().at(-1), "ip link del dev br0");
  });

  it("refuses a bridge that is not ours, and the wrong kind, without changing anything", async () => {
    const r = new RecordingRunner().on(links(() => linkJson({ ifalias: undefined })));
    await assert.rejects(new BridgeProvider(() => r).create({ connection: conn, name: "br0" }), /not managed by this resource.*adopt: true/);
    const v = new RecordingRunner().on(links(() => linkJson({ linkinfo: { info_kind: "veth" } })));
    await assert.rejects(new BridgeProvider(() => v).create({ connection: conn, name: "br0", adopt: true }), /br0 exists on node1:22 but is a veth, not a bridge/);
    assert.deepEqual([r.calls.length, v.calls.length], [1, 1]);
  });

  it("check: a host that does not offer its pinned key is a failure on the connection (a preview must not look fine against it); other read failures are left to create", async () => {
    forgetAllSnapshots();
    const wrongKey = new RecordingRunner().on(() => {
      throw new HostKeyError("node1:22", "host key mismatch: the server offered a ssh-ed25519 key that is not the pinned one");
    });
    const res = await new BridgeProvider(() => wrongKey).check({}, { connection: conn, name: "br0" });
    assert.deepEqual(res.failures?.map((f) => f.property), ["connection"]);
    assert.match(res.failures?.[0].reason ?? "", /cannot connect to node1:22: host key mismatch/);
    forgetAllSnapshots();
    const down = new RecordingRunner().on(() => {
      throw new ConnectionError("node1:22", "connect ECONNREFUSED");
    });
    assert.deepEqual((await new BridgeProvider(() => down).check({}, { connection: conn, name: "br0" })).failures ?? [], []);
    forgetAllSnapshots();
  });

  it("update touches only what differs", async () => {
    let mtu = 1500;
    const r = new RecordingRunner();
    r.on(links(() => linkJson({ mtu })));
    r.on((a) => (a[5] === "mtu" ? ((mtu = Number(a[6])), { stdout: "", stderr: "", exitCode: 0 }) : undefined));
    const p = new BridgeProvider(() => r);
    const olds = (await p.create({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], owner: OWNER })).outs as BridgeOutputs;
    r.calls.length = 0;
    await p.update(ID, olds, { connection: conn, name: "br0", addresses: ["10.0.0.1/24"], mtu: 1400, owner: OWNER });
    assert.deepEqual(ipLines(r), ["ip -j -d addr show", "ip link set dev br0 mtu 1400", "ip -j -d addr show dev br0"]);
  });

  it("read drops a bridge deleted by hand and reports changed addresses", async () => {
    const gone = new RecordingRunner().on(links(() => undefined));
    const props = { connection: conn, name: "br0", addresses: ["10.0.0.1/24"], up: true, adopt: false, hostId: "node1:22", ifindex: 7, adopted: false, previousAlias: "", owner: OWNER } as BridgeOutputs;
    assert.equal((await new BridgeProvider(() => gone).read(ID, props)).id, "");
    const changed = new RecordingRunner().on(links(() => linkJson({ addr_info: [{ family: "inet", local: "10.0.0.9", prefixlen: 24, scope: "global" }] })));
    forgetAllSnapshots(); // the host is scripted anew
    const res = await new BridgeProvider(() => changed).read(ID, props);
    assert.deepEqual((res.props as BridgeOutputs).addresses, ["10.0.0.9/24"]);
    assert.deepEqual((res.inputs as BridgeOutputs).addresses, ["10.0.0.9/24"]);
  });

  it("delete: missing is success; someone else's is left alone; ours is deleted", async () => {
    const props = { connection: conn, name: "br0", addresses: [], up: true, adopt: false, hostId: "node1:22", ifindex: 7, adopted: false, previousAlias: "", owner: OWNER } as BridgeOutputs;
    const gone = new RecordingRunner().on(links(() => undefined));
    await new BridgeProvider(() => gone).delete(ID, props);
    assert.deepEqual(gone.lines(), ["ip -j -d addr show"]);
    const foreign = new RecordingRunner().on(links(() => linkJson({ ifalias: "someone" })));
    await new BridgeProvider(() => foreign).delete(ID, props);
    assert.equal(foreign.calls.length, 1);
    const ours = new RecordingRunner().on(links(() => linkJson()));
    await new BridgeProvider(() => ours).delete(ID, props);
    assert.deepEqual(ours.lines(), ["ip -j -d addr show", "ip link del dev br0"], "one read, then the delete");
  });

  it("delete refuses a bridge that still has ports (in use): it is not deleted", async () => {
    const props = { connection: conn, name: "br0", addresses: [], up: true, adopt: false, hostId: "node1:22", ifindex: 7, adopted: false, previousAlias: "", owner: OWNER } as BridgeOutputs;
    const port = JSON.stringify([JSON.parse(linkJson())[0], { ifindex: 9, ifname: "hnv-a", flags: ["UP"], mtu: 1500, address: "02:00:00:00:00:09", master: "br0", linkinfo: { info_kind: "veth" }, addr_info: [] }]);
    const r = new RecordingRunner().on((a) => (isShow(a) ? { stdout: linkJson(), stderr: "", exitCode: 0 } : isShowAll(a) ? { stdout: port, stderr: "", exitCode: 0 } : undefined));
    await assert.rejects(new BridgeProvider(() => r).delete(ID, props), /bridge br0 on node1:22 still has ports \(hnv-a\): refusing to delete a bridge in use/);
    assert.ok(!r.lines().includes("ip link del dev br0"));
  });

  it("create adds the bridge's forward accepts (chain, first jump, rules tagged with the mark) in the detected flavour", async () => {
    const r = new RecordingRunner("fw-node:22"); // the detected flavour is cached per host
    let created = false;
    r.on(links(() => (created ? linkJson() : undefined)));
    r.on((a) => (a[2] === "add" && a[1] === "link" ? ((created = true), { stdout: "", stderr: "", exitCode: 0 }) : undefined));
    r.on((a) => (a[0] === "iptables" && a[1] === "--version" ? { stdout: "iptables v1.8.9 (nf_tables)", stderr: "", exitCode: 0 } : undefined));
    // A Docker host: FORWARD drops what nothing accepts.
    r.on((a) => (a.join(" ") === "iptables-nft-save" ? { stdout: "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\nCOMMIT\n", stderr: "", exitCode: 0 } : undefined));
    r.on((a) => (a.includes("-C") ? { stdout: "", stderr: "Bad rule", exitCode: 1 } : undefined));
    const res = await new BridgeProvider(() => r).create({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], owner: OWNER });
    assert.equal((res.outs as BridgeOutputs).forwardFlavor, "nft");
    const fw = r.lines().filter((l) => l.startsWith("iptables-nft -w -t filter -") && !l.includes(" -C "));
    assert.deepEqual(fw.slice(0, 2), ["iptables-nft -w -t filter -N HOSTNET-FORWARD", "iptables-nft -w -t filter -I FORWARD 1 -j HOSTNET-FORWARD"]);
    const restore = r.calls.findIndex((c) => c[0] === "iptables-nft-restore");
    assert.ok(restore > 0, "the rules go in with one iptables-restore");
  });

  it("adds no forward accepts where FORWARD drops nothing (no filter table), and reads with a plain iptables-save", async () => {
    const r = new RecordingRunner("open-node:22");
    let created = false;
    r.on(links(() => (created ? linkJson() : undefined)));
    r.on((a) => (a[2] === "add" && a[1] === "link" ? ((created = true), { stdout: "", stderr: "", exitCode: 0 }) : undefined));
    await new BridgeProvider(() => r).create({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], owner: OWNER });
    assert.deepEqual(r.lines().filter((l) => l.startsWith("iptables")), ["iptables-legacy-save", "iptables-nft-save", "iptables --version", "iptables-legacy-save"]);
  });

  it("a bridge marked by 0.1 (hostnet:<host>/bridge/<name>, no owner) is still ours: the next update rewrites the mark with the owner", async () => {
    let alias = `hostnet:${ID}`;
    const r = new RecordingRunner();
    r.on(links(() => linkJson({ ifalias: alias })));
    r.on((a) => (a[4] === "br0" && a[5] === "alias" ? ((alias = a[6]), { stdout: "", stderr: "", exitCode: 0 }) : undefined));
    const olds = { connection: conn, name: "br0", addresses: ["10.0.0.1/24"], up: true, adopt: false, hostId: "node1:22", ifindex: 7, adopted: false, previousAlias: "" } as BridgeOutputs;
    assert.equal((await new BridgeProvider(() => r).read(ID, olds)).id, ID, "refresh keeps it");
    const res = await new BridgeProvider(() => r).update(ID, olds, { connection: conn, name: "br0", addresses: ["10.0.0.1/24"], owner: OWNER });
    assert.ok(ipLines(r).includes(`ip link set dev br0 alias ${MARK}`));
    assert.equal((res.outs as BridgeOutputs).adopted, false, "not treated as an adoption");
    assert.equal(alias, MARK);
  });

  it("a host without iptables at all still gets its bridge (no FORWARD chain to open there)", async () => {
    const r = new RecordingRunner("no-iptables:22");
    let created = false;
    r.on(links(() => (created ? linkJson() : undefined)));
    r.on((a) => (a[2] === "add" && a[1] === "link" ? ((created = true), { stdout: "", stderr: "", exitCode: 0 }) : undefined));
    r.on((a) => (a[0].startsWith("iptables") ? { stdout: "", stderr: `sh: 1: ${a[0]}: not found`, exitCode: 127 } : undefined));
    const res = await new BridgeProvider(() => r).create({ connection: conn, name: "br0", addresses: ["10.0.0.1/24"], owner: OWNER });
    assert.equal((res.outs as BridgeOutputs).forwardFlavor, "none");
    assert.deepEqual(r.lines().filter((l) => l.startsWith("iptables")), ["iptables-legacy-save", "iptables-nft-save"]);
  });

  it("refuses a bridge of the same name made by another stack, naming that stack", async () => {
    const r = new RecordingRunner().on(links(() => linkJson({ ifalias: linkMark(ownerOf("proj/prod"), "bridge", "br0") })));
    await assert.rejects(new BridgeProvider(() => r).create({ connection: conn, name: "br0", owner: OWNER }), /belongs to another hostnet stack proj\/prod/);
    assert.equal(r.calls.length, 1);
  });

  it("check returns failures by property, and never echoes secrets", async () => {
    const p = new BridgeProvider(() => new RecordingRunner());
    const res = await p.check({}, { connection: conn, name: "br 0" });
    assert.deepEqual(res.failures?.map((f) => f.property), ["name"]);
    assert.ok(!JSON.stringify(res.failures).includes("BEGIN SECRET"));
  });

  it("errors from the host never contain the secret credentials", async () => {
    const r = new RecordingRunner().on(() => ({ stdout: "", stderr: `boom ${conn.privateKey}`, exitCode: 1 }));
    await assert.rejects(new BridgeProvider(() => r).create({ connection: conn, name: "br0" }), (e: Error) => !e.message.includes("BEGIN SECRET") && e.message.includes("[secret]"));
  });
});
