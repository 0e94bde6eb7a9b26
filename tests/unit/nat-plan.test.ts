import { strict as assert } from "node:assert";
import { diffNat, natFamily, natId, natRules, natTag, normalizeNat, parsePortRange, portClash } from "../../provider/resources/nat/plan";
import { NatOutputs } from "../../provider/resources/nat/args";
import { IptablesBackend } from "../../provider/resources/nat/backend";
import { NftablesBackend, nftRules } from "../../provider/resources/nat/nftables";
import { parseNftTable } from "../../provider/linux/nftables";
import { binsOf, commentOf, countRules, foreignNatContent, hasTable, linesOf, parseSave, removeLinesScripts, restoreScript, saveLineWords } from "../../provider/linux/iptables";
import { INPUT_HOOK, dnatForwardRules, parseForwardState, vxlanInputRules } from "../../provider/resources/common/forward";
import { ownerOf } from "../../provider/resources/common/owner";

const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
const TAG = "hostnet:h/nat/x";

describe("unit: NatRule validation, rules and diff", () => {
  it("validates per kind with the field and what was expected", () => {
    assert.throws(() => normalizeNat({ connection: conn, kind: "nat" }), /kind: expected masquerade, snat or dnat/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "masquerade" }), /source: a masquerade rule needs the source subnet/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "masquerade", source: "10.0.0.0/8", hostPort: 80 }), /hostPort: not used by a masquerade rule/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "dnat", protocol: "sctp", hostPort: 80, to: "10.0.0.2" }), /protocol: expected tcp or udp/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 0, to: "10.0.0.2" }), /hostPort: expected a port 1-65535, got 0/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: "90-80", to: "10.0.0.2" }), /hostPort: range 90-80 is not ordered/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: "80-82", to: "10.0.0.2:90-91" }), /to: the port range 90-91 must be one port or as long as hostPort 80-82/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 80, to: "fd00::2", hostIp: "10.0.0.5" }), /to: fd00::2 is not of the family of hostIp 10.0.0.5; one rule is IPv4 or IPv6/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "snat", source: "fd00::/64", toSource: "192.0.2.1" }), /toSource: 192.0.2.1 is not of the family of source fd00::\/64/);
    assert.throws(() => normalizeNat({ connection: conn, kind: "snat", source: "10.0.0.0/8" }), /toSource: an snat rule needs toSource/);
    assert.deepEqual(parsePortRange("9000-9005", "p"), { from: 9000, to: 9005 });
  });

  it("canonicalises the source subnet", () => {
    assert.equal(normalizeNat({ connection: conn, kind: "masquerade", source: "172.16.0.1/16" }).source, "172.16.0.0/16");
    assert.equal(normalizeNat({ connection: conn, kind: "masquerade", source: "fd00:29::1/64" }).source, "fd00:29::/64");
  });

  it("IPv6: ip6tables binaries, /128 host matches and [address]:port targets; nftables ip6 matches in the same inet table", () => {
    const m = normalizeNat({ connection: conn, kind: "masquerade", source: "fd00:29::1/64", notOutInterface: "br0" });
    assert.equal(natFamily(m), 6);
    assert.deepEqual(natRules(m, TAG)[0].spec.slice(0, 2), ["-s", "fd00:29::/64"]);
    const d = normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, hostIp: "fd00:1::5", to: "[fd00:29::2]:80", hairpinSource: "fd00:29::/64" });
    assert.equal(natFamily(d), 6);
    assert.deepEqual(natRules(d, TAG).map((r) => r.spec.join(" ")), [
      `-p tcp -d fd00:1::5/128 --dport 8080 -m comment --comment ${TAG} -j DNAT --to-destination [fd00:29::2]:80`,
      `-p tcp -d fd00:1::5/128 --dport 8080 -m comment --comment ${TAG} -j DNAT --to-destination [fd00:29::2]:80`,
      `-s fd00:29::/64 -d fd00:29::2/128 -p tcp --dport 80 -m conntrack --ctstate DNAT -m comment --comment ${TAG} -j MASQUERADE`,
    ]);
    assert.equal(new IptablesBackend("nft", 6).name, "ip6tables-nft");
    assert.deepEqual(binsOf("legacy", 6), { flavor: "legacy", family: 6, iptables: "ip6tables-legacy", save: "ip6tables-legacy-save", restore: "ip6tables-legacy-restore" });
    assert.deepEqual(nftRules(d, TAG).map((r) => r.text), [
      `ip6 daddr fd00:1::5 tcp dport 8080 dnat ip6 to [fd00:29::2]:80 comment "${TAG}"`,
      `ip6 daddr fd00:1::5 tcp dport 8080 dnat ip6 to [fd00:29::2]:80 comment "${TAG}"`,
      `ip6 saddr fd00:29::/64 ip6 daddr fd00:29::2 tcp dport 80 ct status dnat masquerade comment "${TAG}"`,
    ]);
    assert.equal(nftRules(m, TAG)[0].text, `ip6 saddr fd00:29::/64 oifname != "br0" masquerade comment "${TAG}"`);
    assert.deepEqual(dnatForwardRules("tcp", "fd00:29::2", "80", TAG)[0].spec.slice(0, 2), ["-d", "fd00:29::2/128"]);
  });

  it("masquerade: one POSTROUTING rule", () => {
    assert.deepEqual(natRules(normalizeNat({ connection: conn, kind: "masquerade", source: "172.16.0.0/16", notOutInterface: "br0" }), TAG), [
      { chain: "HOSTNET-POSTROUTING", spec: ["-s", "172.16.0.0/16", "!", "-o", "br0", "-m", "comment", "--comment", TAG, "-j", "MASQUERADE"] },
    ]);
  });

  it("snat: one POSTROUTING rule", () => {
    assert.deepEqual(natRules(normalizeNat({ connection: conn, kind: "snat", source: "172.16.0.0/16", toSource: "192.0.2.10" }), TAG), [
      { chain: "HOSTNET-POSTROUTING", spec: ["-s", "172.16.0.0/16", "-m", "comment", "--comment", TAG, "-j", "SNAT", "--to-source", "192.0.2.10"] },
    ]);
  });

  it("dnat: PREROUTING and OUTPUT for local destinations, and the hairpin masquerade", () => {
    const rules = natRules(normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.2:80", hairpinSource: "172.16.0.0/16" }), TAG);
    const dnat = ["-p", "tcp", "-m", "addrtype", "--dst-type", "LOCAL", "--dport", "8080", "-m", "comment", "--comment", TAG, "-j", "DNAT", "--to-destination", "172.16.0.2:80"];
    assert.deepEqual(rules, [
      { chain: "HOSTNET-PREROUTING", spec: dnat },
      { chain: "HOSTNET-OUTPUT", spec: dnat },
      { chain: "HOSTNET-POSTROUTING", spec: ["-s", "172.16.0.0/16", "-d", "172.16.0.2/32", "-p", "tcp", "--dport", "80", "-m", "conntrack", "--ctstate", "DNAT", "-m", "comment", "--comment", TAG, "-j", "MASQUERADE"] },
    ]);
  });

  it("dnat: a range to one host IP from one interface has no OUTPUT rule", () => {
    const rules = natRules(normalizeNat({ connection: conn, kind: "dnat", protocol: "udp", hostPort: "9000-9005", hostIp: "192.0.2.1", to: "172.16.0.2", inInterface: "eth1" }), TAG);
    assert.deepEqual(rules, [{ chain: "HOSTNET-PREROUTING", spec: ["-p", "udp", "-d", "192.0.2.1/32", "-i", "eth1", "--dport", "9000:9005", "-m", "comment", "--comment", TAG, "-j", "DNAT", "--to-destination", "172.16.0.2:9000-9005"] }]);
  });

  it("every field is identity; new credentials or lost rules update in place", () => {
    const n = normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.2:80" });
    const olds = { ...n, hostId: "10.0.0.5:22", tag: TAG, flavor: "nft", intact: true } as NatOutputs;
    assert.deepEqual(diffNat(olds, n), { changes: false, replaces: [] });
    assert.deepEqual(diffNat(olds, normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8081, to: "172.16.0.2:80" })).replaces, ["hostPort"]);
    assert.deepEqual(diffNat(olds, normalizeNat({ connection: { ...conn, privateKey: "k" }, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.2:80" })), { changes: true, replaces: [] });
    assert.deepEqual(diffNat({ ...olds, intact: false }, n), { changes: true, replaces: [] });
    assert.match(natId("10.0.0.5:22", n), /^10\.0\.0\.5:22\/nat\/dnat-[0-9a-f]{12}$/);
    assert.equal(natId("10.0.0.5:22", n), natId("10.0.0.5:22", normalizeNat({ connection: { ...conn, privateKey: "k" }, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.2:80" })), "credentials are not identity");
  });

  it("iptables-restore script, save parsing and comments", () => {
    const rules = natRules(normalizeNat({ connection: conn, kind: "masquerade", source: "10.0.0.0/8" }), TAG);
    assert.equal(restoreScript("-A", rules), `*nat\n-A HOSTNET-POSTROUTING -s 10.0.0.0/8 -m comment --comment ${TAG} -j MASQUERADE\nCOMMIT\n`);
    const save = ["# Generated", "*nat", ":PREROUTING ACCEPT [0:0]", ":HOSTNET-POSTROUTING - [0:0]", "-A POSTROUTING -j HOSTNET-POSTROUTING", `-A HOSTNET-POSTROUTING -s 10.0.0.0/8 -m comment --comment "${TAG}" -j MASQUERADE`, "COMMIT"].join("\n");
    assert.deepEqual(parseSave(save).chains, ["PREROUTING", "HOSTNET-POSTROUTING"]);
    assert.equal(countRules(save), 2);
    assert.equal(commentOf(parseSave(save).rules[1]), TAG);
  });

  it("the iptables backend plans only the missing chains and jumps, each with its undo", () => {
    const b = new IptablesBackend("legacy");
    const n = normalizeNat({ connection: conn, kind: "masquerade", source: "10.0.0.0/8" });
    const steps = b.planChains({ chains: [], jumps: [], tagged: new Map(), ourRules: 0, tableExists: true, tableMadeByUs: false, foreign: 0 }, n, TAG);
    assert.deepEqual(steps.map((s) => s.argv.join(" ")), ["iptables-legacy -w -t nat -N HOSTNET-POSTROUTING", "iptables-legacy -w -t nat -I POSTROUTING 1 -j HOSTNET-POSTROUTING"]);
    assert.deepEqual(b.planChains({ chains: ["HOSTNET-POSTROUTING"], jumps: ["POSTROUTING"], tagged: new Map(), ourRules: 1, tableExists: true, tableMadeByUs: false, foreign: 0 }, n, TAG), []);
  });

  it("iptables-nft: a nat table we create is marked, and the last delete removes it unless others moved in", () => {
    const b = new IptablesBackend("nft");
    const n = normalizeNat({ connection: conn, kind: "masquerade", source: "10.0.0.0/8" });
    const none = { chains: [], jumps: [], tagged: new Map(), ourRules: 0, tableExists: false, tableMadeByUs: false, foreign: 0 };
    const steps = b.planChains(none, n, TAG);
    assert.equal(steps[0].argv.join(" "), "iptables-nft -w -t nat -N HOSTNET-MADE-TABLE");
    assert.match(JSON.stringify(steps[0].undo), /nft delete table ip nat/);
    assert.equal(new IptablesBackend("legacy").planChains(none, n, TAG)[0].argv.join(" "), "iptables-legacy -w -t nat -N HOSTNET-POSTROUTING", "legacy tables cannot be removed: no marker");
    const ours = { ...none, chains: ["HOSTNET-POSTROUTING"], jumps: ["POSTROUTING" as const], tableExists: true, tableMadeByUs: true };
    const teardown = b.planTeardown(ours).map((s) => s.argv.join(" "));
    assert.equal(teardown.length, 3);
    assert.match(teardown[2], /nft delete table ip nat/);
    assert.equal(b.planTeardown({ ...ours, foreign: 2 })[2].argv.join(" "), "iptables-nft -w -t nat -X HOSTNET-MADE-TABLE");
    assert.equal(b.planTeardown({ ...ours, tableMadeByUs: false }).length, 2, "a table we did not make stays");
  });

  it("deletions are planned with an exact undo: each rule goes back at its position in its chain", () => {
    const save = [
      "*filter", ":FORWARD DROP [0:0]", ":HOSTNET-FORWARD - [0:0]",
      "-A FORWARD -j DOCKER-USER", "-A FORWARD -j HOSTNET-FORWARD",
      '-A HOSTNET-FORWARD -i a -m comment --comment "hostnet:1:bridge/a p/s" -j ACCEPT',
      '-A HOSTNET-FORWARD -i b -m comment --comment "hostnet:1:bridge/b p/s" -j ACCEPT',
      '-A HOSTNET-FORWARD -o b -m comment --comment "hostnet:1:bridge/b p/s" -j ACCEPT',
      "COMMIT", "",
    ].join("\n");
    const t = parseSave(save, "filter");
    const mine = t.rules.filter((l) => l.includes("bridge/b"));
    const { remove, restore } = removeLinesScripts(mine, (c) => linesOf(t, c), "filter");
    assert.equal(remove, '*filter\n-D HOSTNET-FORWARD -i b -m comment --comment "hostnet:1:bridge/b p/s" -j ACCEPT\n-D HOSTNET-FORWARD -o b -m comment --comment "hostnet:1:bridge/b p/s" -j ACCEPT\nCOMMIT\n');
    assert.equal(restore, '*filter\n-I HOSTNET-FORWARD 2 -i b -m comment --comment "hostnet:1:bridge/b p/s" -j ACCEPT\n-I HOSTNET-FORWARD 3 -o b -m comment --comment "hostnet:1:bridge/b p/s" -j ACCEPT\nCOMMIT\n');
    assert.deepEqual(linesOf(t, "FORWARD"), ["-A FORWARD -j DOCKER-USER", "-A FORWARD -j HOSTNET-FORWARD"]);
  });

  it("counts what the nat table holds that is not ours", () => {
    const ours = ["HOSTNET-POSTROUTING"];
    const only = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:HOSTNET-POSTROUTING - [0:0]\n:HOSTNET-MADE-TABLE - [0:0]\n-A POSTROUTING -j HOSTNET-POSTROUTING\n-A HOSTNET-POSTROUTING -j MASQUERADE\nCOMMIT\n";
    assert.equal(foreignNatContent(only, ours), 0);
    assert.equal(foreignNatContent(only.replace("COMMIT", ":DOCKER - [0:0]\n-A PREROUTING -j DOCKER\nCOMMIT"), ours), 2);
    assert.equal(foreignNatContent(only.replace(":PREROUTING ACCEPT", ":PREROUTING DROP"), ours), 1);
    assert.equal(hasTable(only, "nat"), true);
    assert.equal(hasTable("*filter\nCOMMIT\n", "nat"), false);
  });

  it("the nftables backend renders the same rules in table inet hostnet, and declares only missing base chains", () => {
    const dnat = normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: "8080-8081", to: "172.16.0.2:80-81", hairpinSource: "172.16.0.0/16" });
    assert.deepEqual(nftRules(dnat, TAG), [
      { chain: "prerouting", text: `fib daddr type local tcp dport 8080-8081 dnat ip to 172.16.0.2:80-81 comment "${TAG}"` },
      { chain: "output", text: `fib daddr type local tcp dport 8080-8081 dnat ip to 172.16.0.2:80-81 comment "${TAG}"` },
      { chain: "postrouting", text: `ip saddr 172.16.0.0/16 ip daddr 172.16.0.2 tcp dport 80-81 ct status dnat masquerade comment "${TAG}"` },
    ]);
    assert.deepEqual(nftRules(normalizeNat({ connection: conn, kind: "masquerade", source: "172.16.0.0/16", notOutInterface: "br0" }), TAG), [{ chain: "postrouting", text: `ip saddr 172.16.0.0/16 oifname != "br0" masquerade comment "${TAG}"` }]);
    const b = new NftablesBackend();
    const [step] = b.planChains({ chains: ["postrouting"], jumps: ["POSTROUTING"], tagged: new Map(), ourRules: 1, tableExists: true, tableMadeByUs: false, foreign: 0 }, dnat, TAG);
    assert.equal(step.stdin, "table inet hostnet {\n  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }\n  chain output { type nat hook output priority -100; policy accept; }\n}\n");
    assert.equal(b.planAdd(dnat, TAG).stdin?.split("\n")[0], `add rule inet hostnet prerouting fib daddr type local tcp dport 8080-8081 dnat ip to 172.16.0.2:80-81 comment "${TAG}"`);
    const listed = parseNftTable(JSON.stringify({ nftables: [{ table: { family: "inet", name: "hostnet" } }, { chain: { table: "hostnet", name: "postrouting" } }, { rule: { table: "hostnet", chain: "postrouting", handle: 7, comment: TAG } }] }));
    assert.deepEqual(listed, { chains: ["postrouting"], rules: [{ chain: "postrouting", handle: 7, comment: TAG }] });
  });

  it("reads forward state from a full iptables-save: guarded by a DROP policy or foreign rules, ours by chain and jump", () => {
    const docker = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [3:120]\n:HOSTNET-FORWARD - [0:0]\n-A FORWARD -j HOSTNET-FORWARD\n-A FORWARD -j DOCKER-USER\n" +
      '-A HOSTNET-FORWARD -i br0 -m comment --comment "hostnet:1234abcd:bridge/br0 p/s" -j ACCEPT\nCOMMIT\n';
    const s = parseForwardState(docker);
    assert.deepEqual(s, { table: true, chain: true, jump: true, rules: ['-A HOSTNET-FORWARD -i br0 -m comment --comment "hostnet:1234abcd:bridge/br0 p/s" -j ACCEPT'], guarded: true });
    assert.equal(parseForwardState("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n").guarded, false);
    assert.equal(parseForwardState("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j ufw-before-forward\nCOMMIT\n").guarded, true);
    assert.deepEqual(parseForwardState(""), { table: false, chain: false, jump: false, rules: [], guarded: false });
    assert.deepEqual(saveLineWords(s.rules[0]), ["-A", "HOSTNET-FORWARD", "-i", "br0", "-m", "comment", "--comment", "hostnet:1234abcd:bridge/br0 p/s", "-j", "ACCEPT"]);
    // The same reading of INPUT (ufw's default deny incoming), for a VXLAN tunnel's accepts.
    const ufw = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:HOSTNET-INPUT - [0:0]\n-A INPUT -j HOSTNET-INPUT\n-A INPUT -j ufw-before-input\n" +
      '-A HOSTNET-INPUT -s 10.250.0.2/32 -p udp -m udp --dport 4789 -m comment --comment "hostnet:1234abcd:vxlan/hnvx7 p/s" -j ACCEPT\nCOMMIT\n';
    assert.deepEqual(parseForwardState(ufw, INPUT_HOOK), { table: true, chain: true, jump: true, rules: ['-A HOSTNET-INPUT -s 10.250.0.2/32 -p udp -m udp --dport 4789 -m comment --comment "hostnet:1234abcd:vxlan/hnvx7 p/s" -j ACCEPT'], guarded: true });
    assert.equal(parseForwardState(ufw).guarded, false, "its FORWARD drops nothing");
    assert.deepEqual(vxlanInputRules(["10.250.0.2", "fd00::2"], 4789, "T").map((r) => `${r.chain} ${r.spec.join(" ")}`), [
      "HOSTNET-INPUT -s 10.250.0.2/32 -p udp -m udp --dport 4789 -m comment --comment T -j ACCEPT",
      "HOSTNET-INPUT -s fd00::2/128 -p udp -m udp --dport 4789 -m comment --comment T -j ACCEPT",
    ]);
  });

  it("tags carry the owner; a published port of another stack clashes, the same stack's (create-before-delete) does not", () => {
    const dev = ownerOf("p/dev");
    const prod = ownerOf("p/prod");
    const n = normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.2:80" });
    const tag = natTag(dev, n);
    assert.match(tag, /^hostnet:[0-9a-f]{8}:nat\/dnat-[0-9a-f]{12}\/tcp\/any\/8080-8080 p\/dev$/);
    const other = normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: "8000-8090", hostIp: "10.0.0.5", to: "172.16.0.3:80" });
    assert.match(portClash([natTag(prod, other)], dev, n) ?? "", /tcp port 8080 \(address any\) is already published on this host by another hostnet stack p\/prod/);
    assert.equal(portClash([natTag(dev, other)], dev, n), undefined, "the same stack never clashes with itself");
    const udp = normalizeNat({ connection: conn, kind: "dnat", protocol: "udp", hostPort: 8080, to: "172.16.0.3:80" });
    assert.equal(portClash([natTag(prod, udp)], dev, n), undefined, "another protocol");
    assert.notEqual(natTag(dev, n), natTag(prod, n), "identical rules of two stacks carry different tags");
    // IPv6: its own ports ("any6" in the tag); a port taken on IPv4 is free on IPv6 and the other way round.
    const v6 = normalizeNat({ connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: "[fd00::2]:80" });
    assert.match(natTag(dev, v6), /\/tcp\/any6\/8080-8080 p\/dev$/);
    assert.equal(portClash([natTag(prod, n)], dev, v6), undefined, "IPv4 8080 leaves IPv6 8080 free");
    assert.equal(portClash([natTag(prod, v6)], dev, n), undefined, "IPv6 8080 leaves IPv4 8080 free");
    assert.match(portClash([natTag(prod, v6)], dev, { ...v6, hostIp: "fd00::9" }) ?? "", /tcp port 8080 \(address fd00::9\) is already published/);
  });
});
