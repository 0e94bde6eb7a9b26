import { forgetAllSnapshots } from "../../provider/resources/common/snapshot";
import { strict as assert } from "node:assert";
import { VethProvider } from "../../provider/resources/veth/provider";
import { VethOutputs } from "../../provider/resources/veth/args";
import { vethMarks } from "../../provider/resources/veth/plan";
import { movedRecordPath, recordText } from "../../provider/resources/common/moved";
import { ownerOf } from "../../provider/resources/common/owner";
import { RecordingRunner } from "../helpers/recording";
import { RunResult } from "../../provider/host/runner";

const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA", privateKey: "-----BEGIN SECRET-----" };
const ID = "node1:22/veth/hnv-a";
const OWNER = "proj/dev";
const MARKS = vethMarks(ID, ownerOf(OWNER));
const NS = "/proc/4242/ns/net";
const INODE = "4026532999";
const ok = (stdout = ""): RunResult => ({ stdout, stderr: "", exitCode: 0 });

/** The host end of our pair, its peer moved into another namespace (`link_netnsid`), on bridge br0. */
function hostEnd(netnsid: number | undefined): Record<string, unknown> {
  return { ifindex: 9, link_index: 2, ifname: "hnv-a", flags: ["UP"], mtu: 1500, address: "02:00:00:00:00:09", ifalias: MARKS.name, master: "br0", link_netnsid: netnsid, linkinfo: { info_kind: "veth" }, addr_info: [] };
}
const bridge = { ifindex: 5, ifname: "br0", flags: ["UP"], mtu: 1500, address: "02:00:00:00:00:05", linkinfo: { info_kind: "bridge" }, addr_info: [] };

/** A host whose links are `links()`, with our record of the peer's move and `stat` answering `inode` for its namespace (none: the path is gone). */
function host(links: () => unknown[], inode: string | undefined): RecordingRunner {
  return new RecordingRunner()
    .on((a) => (a.join(" ") === "ip -j -d addr show" ? ok(JSON.stringify(links())) : undefined))
    .on((a) => (a[0] === "cat" && a.includes(movedRecordPath(MARKS.peer)) ? ok(recordText({ alias: MARKS.peer, nsPath: NS, inode: INODE })) : undefined))
    .on((a) => (a[0] === "stat" && a.includes(NS) ? (inode ? ok(`${inode} ${NS}\n`) : { stdout: "", stderr: `stat: cannot statx '${NS}': No such file or directory`, exitCode: 1 }) : undefined));
}

const props: VethOutputs = { connection: conn, name: "hnv-a", peerName: "hnv-ac", bridge: "br0", adopt: false, owner: OWNER, given: [], hostId: "node1:22", ifindex: 9, location: "host", peerLocation: "moved" };

describe("provider: VethPair whose container end went with a restarted container's namespace", () => {
  it("read: the peer's recorded namespace still exists → the pair is there; no namespace is entered", async () => {
    const r = host(() => [bridge, hostEnd(0)], INODE);
    const res = await new VethProvider(() => r).read(ID, props);
    assert.equal(res.id, ID);
    assert.ok(!r.lines().some((l) => l.startsWith("nsenter")), r.lines().join("\n"));
  });

  it("read: the recorded namespace is gone (or the kernel reports none for it) → the pair counts as gone", async () => {
    for (const [netnsid, inode] of [[0, undefined], [0, "4026530001"], [-1, INODE], [undefined, INODE]] as const) {
      const r = host(() => [bridge, hostEnd(netnsid)], inode);
      forgetAllSnapshots(); // each case scripts the host anew
      const res = await new VethProvider(() => r).read(ID, props);
      assert.equal(res.id, "", `netnsid ${netnsid}, inode ${inode}: ${r.lines().join("\n")}`);
      assert.ok(!r.lines().some((l) => l.startsWith("nsenter") || l.startsWith("ip link del")), "read changes nothing and enters nothing");
    }
  });

  it("create: the lingering host end of the dead pair is deleted, then the pair is made anew", async () => {
    let deleted = false;
    let created = false;
    const r = host(() => [bridge, ...(created ? [{ ...hostEnd(0), link_netnsid: undefined, link: "hnv-ac" }, { ...hostEnd(0), ifindex: 10, ifname: "hnv-ac", ifalias: MARKS.peer, master: undefined, link_netnsid: undefined, link: "hnv-a" }] : deleted ? [] : [hostEnd(0)])], undefined);
    r.on((a) => (a.join(" ") === "ip link del dev hnv-a" || a.join(" ") === "ip link del hnv-a" ? ((deleted = true), ok()) : undefined));
    r.on((a) => (a[0] === "ip" && a[1] === "link" && a[2] === "add" ? ((created = true), ok()) : undefined));
    await new VethProvider(() => r).create({ connection: conn, name: "hnv-a", peerName: "hnv-ac", bridge: "br0", owner: OWNER });
    const ipLines = r.lines().filter((l) => l.startsWith("ip ") && !l.startsWith("ip -j"));
    assert.ok(deleted, r.lines().join("\n"));
    assert.match(ipLines[0], /^ip link del (dev )?hnv-a$/);
    assert.match(ipLines[1], /^ip link add /);
  });
});
