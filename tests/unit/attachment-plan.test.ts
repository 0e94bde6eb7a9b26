import { strict as assert } from "node:assert";
import { readFileSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { diffAttachment, normalizeAttachment, ownPairMarks, planInside, planMoveIn, planOwnPairCreate, planRoutes, routesAsInputs, verifyInside, wantsIpv6 } from "../../provider/resources/attachment/plan";
import { ownerOf } from "../../provider/resources/common/owner";
import { ipBatch, jsonLines } from "../../provider/linux/ip";
import { AttachmentOutputs } from "../../provider/resources/attachment/args";
import { LinkState, RouteState, parseRoutes } from "../../provider/linux/parse";
import { parseDockerInspect } from "../../provider/linux/docker";
import { inNetns, moveLinkBack, netnsIs, statInode } from "../../provider/linux/netns";
import { REPO_ROOT } from "../helpers/paths";

const fixture = (name: string) => readFileSync(join(REPO_ROOT, "tests", "fixtures", name), "utf8");
const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
const NS = "/proc/4242/ns/net";
const base = { connection: conn, container: { docker: "base" }, interface: "vethB", addresses: ["172.16.0.2/16"], gateway: "172.16.0.1" };
const link = (over: Partial<LinkState>): LinkState => ({ ifindex: 9, name: "eth0", kind: "veth", mtu: 1500, mac: "02:00:00:00:00:02", up: true, alias: "hostnet:x/peer", addresses: [], ...over });

describe("unit: ContainerAttachment plan, diff and parsers", () => {
  it("validates the target, gateway inside a subnet, routes", () => {
    assert.throws(() => normalizeAttachment({ ...base, container: { docker: "a", pid: 3 } }), /container: expected exactly one of/);
    assert.throws(() => normalizeAttachment({ ...base, container: { pid: 1 } }), /container.pid: expected a process ID > 1/);
    assert.throws(() => normalizeAttachment({ ...base, container: { docker: "$(x)" } }), /container.docker: expected a container name or ID/);
    assert.throws(() => normalizeAttachment({ ...base, gateway: "10.9.9.9" }), /gateway: 10.9.9.9 is not inside the subnet of any of the addresses \(172.16.0.2\/16\)/);
    assert.throws(() => normalizeAttachment({ ...base, routes: [{ to: "10.0.0.300/32" }] }), /routes\[0\].to: expected a destination/);
    assert.throws(() => normalizeAttachment({ ...base, routes: [{ to: "10.0.0.1", dev: "x" }] }), /routes\[0\].dev: unknown field/);
    const n = normalizeAttachment({ ...base, routes: [{ to: "10.0.0.1" }] });
    assert.equal(n.ifname, "eth0");
    assert.deepEqual(n.routes, [{ to: "10.0.0.1/32" }]);
  });

  it("moves in and renames, with undos that rename back, bring the link down first, and move it back up", () => {
    const steps = planMoveIn(NS, link({ name: "vethB" }), normalizeAttachment(base));
    assert.deepEqual(steps.map((s) => s.argv.join(" ")), [`ip link set dev vethB netns ${NS}`, `nsenter --net=${NS} -- ip link set dev vethB name eth0`]);
    assert.deepEqual(steps[0].undo, [moveLinkBack(NS, "vethB"), ["ip", "link", "set", "dev", "vethB", "up"]]);
    assert.deepEqual(steps[1].undo, [inNetns(NS, ["ip", "link", "set", "dev", "eth0", "down"]), inNetns(NS, ["ip", "link", "set", "dev", "eth0", "name", "vethB"])]);
  });

  it("configures inside: removes stale addresses before adding, link and lo up", () => {
    const steps = planInside(NS, link({ up: false, addresses: ["172.16.0.9/16"] }), link({ name: "lo", kind: "", up: false }), normalizeAttachment(base));
    assert.deepEqual(steps.map((s) => s.argv.slice(3).join(" ")), [
      "ip addr del 172.16.0.9/16 dev eth0",
      "ip addr add 172.16.0.2/16 dev eth0",
      "ip link set dev eth0 up",
      "ip link set dev lo up",
    ]);
  });

  it("plans routes from real `ip -j route` output: keeps what matches, removes and adds the rest", () => {
    const actual = parseRoutes(fixture("ip-route4.json")).map((r) => ({ ...r, dev: r.dev === "e0" ? "eth0" : r.dev }));
    assert.deepEqual(actual.map((r) => `${r.to} ${r.via ?? ""} ${r.protocol}`), ["default 172.16.0.1 boot", "10.0.0.2/32  boot", "172.16.0.0/16  kernel"]);
    const steps = planRoutes(NS, actual, normalizeAttachment({ ...base, routes: [{ to: "10.0.0.3/32" }] }));
    assert.deepEqual(steps.map((s) => s.argv.slice(3).join(" ")), ["ip route del 10.0.0.2/32 dev eth0", "ip route add 10.0.0.3/32 dev eth0"]);
    assert.deepEqual(routesAsInputs(actual, "eth0"), { gateway: "172.16.0.1", routes: [{ to: "10.0.0.2/32" }] });
    assert.equal(parseRoutes(fixture("ip-route6.json")).every((r) => r.protocol === "kernel"), true);
  });

  it("verify names what differs", () => {
    const routes: RouteState[] = [];
    assert.deepEqual(verifyInside(link({ addresses: [] }), routes, normalizeAttachment(base)), ["addresses are none", "routes are none"]);
  });

  it("diff: target and names replace; addresses, gateway, routes update; a missing interface (restart) is a change", () => {
    const olds = { ...normalizeAttachment(base), hostId: "h", netnsInode: "1", pid: 4242, containerId: "c", present: true, interfaceAlias: "hostnet:x/peer" } as AttachmentOutputs;
    assert.equal(diffAttachment(olds, normalizeAttachment(base)).changes, false);
    assert.deepEqual(diffAttachment(olds, normalizeAttachment({ ...base, container: { docker: "other" } })).replaces, ["container"]);
    assert.deepEqual(diffAttachment(olds, normalizeAttachment({ ...base, addresses: ["172.16.0.4/16"] })).changed, ["addresses"]);
    assert.deepEqual(diffAttachment({ ...olds, present: false, addresses: [] }, normalizeAttachment(base)).changed, ["addresses", "present"]);
  });

  it("parses real docker inspect output for none, host and container: modes", () => {
    const none = parseDockerInspect(fixture("docker-inspect-none.json"));
    assert.equal(none?.networkMode, "none");
    assert.equal(none?.running, true);
    assert.ok((none?.pid ?? 0) > 1);
    assert.equal(parseDockerInspect(fixture("docker-inspect-host-mode.json"))?.networkMode, "host");
    assert.match(parseDockerInspect(fixture("docker-inspect-container-mode.json"))?.networkMode ?? "", /^container:[0-9a-f]{64}$/);
    assert.equal(parseDockerInspect("[]"), undefined);
  });

  it("namespace argv", () => {
    assert.deepEqual(statInode(NS), ["stat", "-L", "-c", "%i", NS]);
    assert.deepEqual(moveLinkBack(NS, "vethB"), ["sh", "-c", 'nsenter --net="$1" -- ip link set dev "$2" netns "$$"; exit $?', "sh", NS, "vethB"]);
  });
});

describe("unit: ContainerAttachment with its own pair (bridge set)", () => {
  const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
  const d = normalizeAttachment({ connection: conn, container: { docker: "web" }, interface: "hv1", bridge: "br0", ifname: "eth0", addresses: ["172.16.0.2/16", "fd00::2/64"], gateway: "172.16.0.1", routes: [{ to: "10.9.0.0/16", via: "172.16.0.254" }], mtu: 1400 });
  const marks = ownPairMarks(ownerOf("demo/dev"), "hv1");

  it("validates the bridge; switching between own pair and moved-in end replaces, another bridge re-masters in place", () => {
    assert.throws(() => normalizeAttachment({ connection: conn, container: { docker: "web" }, interface: "hv1", bridge: "bad name" }), /bridge/);
    assert.throws(() => normalizeAttachment({ connection: conn, container: { docker: "web" }, interface: "hv1", bridge: "hv1" }), /its own bridge/);
    const olds = { ...d, hostId: "h", netnsInode: "1", pid: 1, containerId: "c", present: true, interfaceAlias: marks.inside } as AttachmentOutputs;
    assert.deepEqual(diffAttachment(olds, { ...d, bridge: "br1" }).replaces, []);
    assert.deepEqual(diffAttachment(olds, { ...d, bridge: "br1" }).changed, ["bridge"]);
    assert.deepEqual(diffAttachment(olds, { ...d, bridge: undefined }).replaces, ["bridge"]);
    assert.equal(diffAttachment(olds, d).changes, false);
  });

  it("plans the pair made with its container end inside the namespace, IPv6 turned on for it, then one ip -batch for everything inside", () => {
    const steps = planOwnPairCreate("/proc/42/ns/net", "42", undefined, d, marks);
    assert.deepEqual(steps.map((s) => s.argv.join(" ")), [
      "ip link add name hv1 mtu 1400 master br0 up type veth peer name eth0 mtu 1400 netns 42",
      `ip link set dev hv1 alias ${marks.host}`,
      "nsenter --net=/proc/42/ns/net -- sysctl -q -w net/ipv6/conf/eth0/disable_ipv6=0",
      "nsenter --net=/proc/42/ns/net -- ip -batch -",
    ]);
    assert.deepEqual(steps[0].undo, [["ip", "link", "del", "dev", "hv1"]]);
    // Without an IPv6 address nothing but ip runs inside.
    assert.deepEqual(planOwnPairCreate("/proc/42/ns/net", "42", undefined, { ...d, addresses: ["172.16.0.2/16"] }, marks).map((s) => s.argv.at(-2)), ["netns", "alias", "-batch"]);
    assert.equal(steps[3].stdin, [
      `link set dev eth0 alias "${marks.inside}"`,
      "addr add 172.16.0.2/16 dev eth0",
      "addr add fd00::2/64 dev eth0 nodad",
      "link set dev eth0 up",
      "route add 10.9.0.0/16 via 172.16.0.254 dev eth0",
      "route add default via 172.16.0.1 dev eth0",
      "",
    ].join("\n"));
  });

  it("ip -batch refuses a token its reader would split or cut (quote, #, backslash, line break, outer blanks); inner blanks go in double quotes", () => {
    for (const t of ['a"', "a#b", "", "a'b", "a\\b", "a\nb", " a", "a "]) assert.throws(() => ipBatch([["link", "set", "dev", t, "up"]]), /ip -batch token/);
    assert.equal(ipBatch([["link", "set", "dev", "eth0", "alias", "hostnet:ab:attachment/h/peer p/s"]]).stdin, 'link set dev eth0 alias "hostnet:ab:attachment/h/peer p/s"\n');
  });

  it("IPv6: turned on for the interface only (slash form, dots kept) before its first IPv6 address, and only when one is added", () => {
    const inside: LinkState = { ifindex: 5, name: "eth0.10", kind: "veth", mtu: 1500, mac: "", up: true, alias: "", addresses: [] };
    const v6 = normalizeAttachment({ connection: { local: true }, container: { docker: "c" }, interface: "hv", ifname: "eth0.10", addresses: ["fd00::2/64", "10.0.0.2/24"] });
    const steps = planInside("/proc/9/ns/net", inside, undefined, v6);
    assert.deepEqual(steps.map((s) => s.argv.slice(3).join(" ")), ["sysctl -q -w net/ipv6/conf/eth0.10/disable_ipv6=0", "ip addr add 10.0.0.2/24 dev eth0.10", "ip addr add fd00::2/64 dev eth0.10 nodad"]);
    assert.deepEqual(planInside("/proc/9/ns/net", { ...inside, addresses: ["10.0.0.2/24", "fd00::2/64"] }, undefined, v6), []);
    assert.equal(planInside("/proc/9/ns/net", inside, undefined, { ...v6, addresses: ["10.0.0.2/24"] }).some((s) => s.argv.includes("sysctl")), false);
  });

  it("gateway6 beside an IPv4 gateway; ::/0 is the IPv6 default; both read back from the kernel's routes (refresh round-trips)", () => {
    const base = { connection: { local: true }, container: { docker: "c" }, interface: "hv", addresses: ["172.16.0.2/16", "fd00::2/64"] };
    const a = normalizeAttachment({ ...base, gateway: "172.16.0.1", gateway6: "fd00::1" });
    assert.deepEqual(planRoutes("/n", [], a).map((s) => s.argv.slice(3).join(" ")), ["ip route add default via 172.16.0.1 dev eth0", "ip route add default via fd00::1 dev eth0"]);
    assert.throws(() => normalizeAttachment({ ...base, gateway6: "172.16.0.1" }), /gateway6: expected an IPv6 address/);
    assert.throws(() => normalizeAttachment({ ...base, gateway6: "fd01::1" }), /gateway6: fd01::1 is not inside the subnet/);
    assert.throws(() => normalizeAttachment({ ...base, gateway: "fd00::1", gateway6: "fd00::1" }), /gateway6: gateway fd00::1 is already the IPv6 default gateway/);
    assert.throws(() => normalizeAttachment({ ...base, gateway6: "fd00::1", routes: [{ to: "::/0", via: "fd00::9" }] }), /routes: an IPv6 default route is given twice/);
    assert.deepEqual(normalizeAttachment({ ...base, routes: [{ to: "::/0", via: "fd00::1" }] }).routes, [{ to: "default", via: "fd00::1" }]);
    assert.deepEqual(normalizeAttachment({ ...base, routes: [{ to: "0.0.0.0/0", via: "172.16.0.1" }] }).routes, [{ to: "default", via: "172.16.0.1" }]);
    assert.deepEqual(normalizeAttachment({ ...base, routes: [{ to: "::/0" }] }).routes, [{ to: "::/0" }]);
    assert.throws(() => normalizeAttachment({ ...base, routes: [{ to: "::/0", via: "172.16.0.1" }] }), /routes\[0\]\.via: 172.16.0.1 is an IPv4 next hop/);
    // What the kernel lists: both defaults as `default`, an IPv6 dev-only default told apart by `pref`.
    const read = parseRoutes(JSON.stringify([
      { dst: "default", gateway: "172.16.0.1", dev: "eth0", protocol: "boot" },
      { dst: "default", gateway: "fd00::1", dev: "eth0", protocol: "boot", metric: 1024, pref: "medium" },
      { dst: "default", dev: "eth1", protocol: "boot", metric: 1024, pref: "medium" },
      { dst: "fd00::/64", dev: "eth0", protocol: "kernel", metric: 256, pref: "medium" },
    ]));
    assert.deepEqual(read.map((r) => `${r.to} ${r.via ?? "-"} ${r.dev}`), ["default 172.16.0.1 eth0", "default fd00::1 eth0", "::/0 - eth1", "fd00::/64 - eth0"]);
    assert.deepEqual(routesAsInputs(read, "eth0", a.gateway, a.gateway6), { gateway: "172.16.0.1", gateway6: "fd00::1", routes: [] });
    assert.deepEqual(verifyInside({ ifindex: 2, name: "eth0", kind: "veth", mtu: 1500, mac: "", up: true, alias: "", addresses: a.addresses }, read, a), []);
    // Without a recorded gateway6 the IPv6 default is an extra route (made by hand: drift).
    assert.deepEqual(routesAsInputs(read, "eth0", a.gateway), { gateway: "172.16.0.1", routes: [{ to: "default", via: "fd00::1" }] });
    assert.deepEqual(diffAttachment({ ...a, present: true } as AttachmentOutputs, { ...a, gateway6: undefined }).changed, ["gateway6"]);
  });

  it("the lines of a read batch: one JSON value per line; IPv6 is read only when the attachment has any", () => {
    assert.deepEqual(jsonLines('[{"dst":"default"}]\n[]\n'), [[{ dst: "default" }], []]);
    assert.equal(wantsIpv6(d), true);
    assert.equal(wantsIpv6({ ...d, addresses: ["172.16.0.2/16"] }), false);
    assert.equal(wantsIpv6({ ...d, addresses: ["172.16.0.2/16"], routes: [{ to: "fd01::/64" }] }), true);
  });

  it("the namespace guard compares the inode of the namespace file with the one read before, as positional values", () => {
    assert.deepEqual(netnsIs("/proc/42/ns/net", "4026532253"), ["find", "-L", "/proc/42/ns/net", "-maxdepth", "0", "!", "-inum", "4026532253", "-exec", "false", "{}", "+"]);
    // Run here, by GNU find and by busybox find: this process's own namespace passes with its inode, fails with another or when gone.
    const own = String(statSync("/proc/self/ns/net").ino);
    for (const pre of [[], ["busybox"]]) {
      const run = (p: string, inode: string) => spawnSync([...pre, ...netnsIs(p, inode)][0], [...pre, ...netnsIs(p, inode)].slice(1), { encoding: "utf8" }).status;
      assert.equal(run("/proc/self/ns/net", own), 0);
      assert.equal(run("/proc/self/ns/net", "1"), 1);
      assert.notEqual(run("/proc/999999999/ns/net", own), 0);
    }
  });
});
