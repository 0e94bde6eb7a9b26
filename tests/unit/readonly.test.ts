import { strict as assert } from "node:assert";
import { isReadOnlyCommand } from "../../provider/host/readonly";
import { ipJsonBatch } from "../../provider/linux/ip";

describe("unit: which commands only read a host", () => {
  const reads = [
    ["ip", "-j", "-d", "addr", "show"], ["ip", "-j", "-d", "addr", "show", "dev", "br0"], ["ip", "-j", "route", "show"], ["ip", "-j", "netns", "list"],
    ["nsenter", "--net=/proc/7/ns/net", "--", "ip", "-j", "-d", "addr", "show"], ["sudo", "-n", "--", "iptables-nft-save"], ["iptables-legacy-save", "-t", "nat"],
    ["iptables", "--version"], ["iptables-nft", "-w", "-t", "nat", "-C", "POSTROUTING", "-j", "X"], ["nft", "-j", "list", "table", "inet", "hostnet"],
    ["docker", "inspect", "--type", "container", "web"], ["stat", "-L", "-c", "%i", "/proc/7/ns/net"], ["sysctl", "-n", "net.ipv4.ip_forward"],
    ["env", "PATH=/usr/sbin:/usr/bin", "ip", "-j", "link", "show"], ["ip", "netns", "exec", "h1", "ip", "-j", "addr", "show"],
    ["nsenter", "--net=/proc/7/ns/net", "--", "ip", "-j", "-d", "-batch", "-"],
    ["ip6tables-nft-save"], ["ip6tables-legacy-save"], ["ip6tables-nft", "-w", "-t", "filter", "-C", "HOSTNET-FORWARD", "-j", "X"],
    ["bridge", "-j", "fdb", "show", "dev", "hnvx7"], ["docker", "events", "--format", "{{json .}}"],
  ];
  const writes = [
    ["ip", "link", "add", "name", "br0", "type", "bridge"], ["ip", "addr", "add", "10.0.0.1/24", "dev", "br0"], ["ip", "route", "add", "default", "via", "10.0.0.1"],
    ["nsenter", "--net=/proc/7/ns/net", "--", "ip", "link", "set", "dev", "x", "name", "eth0"], ["iptables-nft-restore", "-w", "--noflush"],
    ["iptables-nft", "-w", "-t", "nat", "-N", "HOSTNET-POSTROUTING"], ["nft", "-f", "-"], ["nft", "delete", "table", "ip", "nat"],
    ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], ["sh", "-c", "rm -f /run/x"], ["rm", "-f", "/run/x"], ["docker", "rm", "-f", "web"], ["ip", "netns", "add", "x"],
    ["nsenter", "--net=/proc/7/ns/net", "--", "ip", "-batch", "-"], ["ip", "-force", "-batch", "-"],
    ["ip6tables-nft-restore", "-w", "--noflush"], ["ip6tables-nft", "-w", "-t", "filter", "-N", "HOSTNET-FORWARD"],
    ["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "hnvx7", "dst", "10.0.0.2"], ["bridge", "fdb", "del", "aa:bb:cc:dd:ee:ff", "dev", "hnvx7", "dst", "10.0.0.2"],
    ["nsenter", "--net=/proc/7/ns/net", "--", "sysctl", "-q", "-w", "net/ipv6/conf/eth0/disable_ipv6=0"],
  ];
  for (const r of reads) it(`reads: ${r.join(" ")}`, () => assert.equal(isReadOnlyCommand(r), true));
  for (const w of writes) it(`writes: ${w.join(" ")}`, () => assert.equal(isReadOnlyCommand(w), false));
  it("a -j batch is a read by construction: ipJsonBatch refuses any line but addr|link|route show", () => {
    assert.deepEqual(ipJsonBatch([["route", "show", "table", "all"], ["addr", "show", "dev", "eth0"]]), { argv: ["ip", "-j", "-d", "-batch", "-"], stdin: "route show table all\naddr show dev eth0\n" });
    for (const line of [["link", "set", "dev", "x", "up"], ["addr", "add", "10.0.0.1/24", "dev", "x"], ["route", "flush"], ["neigh", "show"]]) assert.throws(() => ipJsonBatch([line]), /is not a read/);
  });
});
