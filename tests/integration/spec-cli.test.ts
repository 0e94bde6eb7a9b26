import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { containerLinks } from "../helpers/container-ns";
import { containerPid, dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { globalAddrs, linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/paths";
import { sh, sleep, tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";
import { spawnCollect } from "../../provider/host/local";
import { forwardMarkPath } from "../../provider/resources/nat/forwarding";
import { ownerOf } from "../../provider/resources/common/owner";
import { saveLineWords } from "../../provider/linux/iptables";

const CLI = path.join(REPO_ROOT, "dist", "bin", "hostnet.js");

describe("integration: S6 — one spec, two SSH test hosts, through the hostnet CLI and the real engine", function () {
  const hosts: TestHost[] = [];
  const containers: string[] = [];
  let dir = "";
  let spec = "";
  const names = { web1: "", cli1: "", web2: "", cli2: "" };
  const beforeLinks: unknown[] = [];
  const beforeIpt: string[][] = [];
  const beforeForward: string[] = [];
  /** The nat table's rules and user chains (iptables-nft keeps built-in base chains once used; they are not ours). */
  const natRules = async (h: TestHost) =>
    (await h.exec(["iptables-nft-save", "-t", "nat"])).split("\n").filter((l) => l.startsWith("-A") || (l.startsWith(":") && !/^:(PREROUTING|INPUT|OUTPUT|POSTROUTING) /.test(l)));

  /** Runs the CLI in the test's directory (its state and work dir land there); resolves to its exit code and output. */
  const cliRaw = (...args: string[]) => spawnCollect(["sh", "-c", 'cd "$1" && shift && exec node "$@"', "sh", dir, CLI, ...args], { timeoutMs: 600_000 });
  /** Runs the CLI and requires it to succeed. */
  const cli = async (...args: string[]) => {
    const r = await cliRaw(...args);
    if (r.exitCode !== 0) assert.fail(`hostnet ${args.join(" ")} failed (${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  function writeSpec(web2Address: string, web1Port = 8080): void {
    const [h1, h2] = hosts;
    const host = (h: TestHost) => `{ host: "${h.address}", hostKey: "${h.hostKey}", privateKeyFile: "${path.join(h.dir, "id_ed25519")}" }`;
    fs.writeFileSync(spec, `# S6: two hosts, each with its bridge, two containers and NAT
name: s6
hosts:
  h1: ${host(h1)}
  h2: ${host(h2)}
bridges:
  - { host: h1, name: hnbr-s6a, addresses: [172.21.0.1/16] }
  - { host: h2, name: hnbr-s6b, addresses: [172.22.0.1/16] }
containers:
  - { host: h1, name: ${names.web1}, interfaces: [{ bridge: hnbr-s6a, addresses: [172.21.0.2/16], gateway: 172.21.0.1 }] }
  - { host: h1, name: ${names.cli1}, interfaces: [{ bridge: hnbr-s6a, addresses: [172.21.0.3/16], gateway: 172.21.0.1 }] }
  - { host: h2, name: ${names.web2}, interfaces: [{ bridge: hnbr-s6b, addresses: [${web2Address}], gateway: 172.22.0.1 }] }
  - { host: h2, name: ${names.cli2}, interfaces: [{ bridge: hnbr-s6b, addresses: [172.22.0.3/16], gateway: 172.22.0.1 }] }
nat:
  masquerade:
    - { host: h1, bridge: hnbr-s6a }
    - { host: h2, bridge: hnbr-s6b }
  publish:
    - { host: h1, container: ${names.web1}, hostPort: ${web1Port}, port: 80 }
    - { host: h2, container: ${names.web2}, hostPort: 8080, port: 80 }
`);
  }

  before(async () => {
    requireRoot();
    hosts.push(await TestHost.create("s6a"), await TestHost.create("s6b"));
    for (const k of Object.keys(names) as (keyof typeof names)[]) {
      names[k] = await runContainer(`s6${k}`);
      containers.push(names[k]);
    }
    fs.mkdirSync(path.join(REPO_ROOT, ".test-work"), { recursive: true });
    dir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-work", "s6-"));
    spec = path.join(dir, "network.yaml");
    writeSpec("172.22.0.2/16");
    for (const h of hosts) {
      beforeLinks.push(await linkAndAddrSnapshot(h));
      beforeIpt.push(await natRules(h));
      beforeForward.push((await h.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim());
    }
  });
  after(async () => {
    if (dir && fs.existsSync(path.join(dir, ".hostnet"))) await tryRun(["sh", "-c", 'cd "$1" && exec node "$2" destroy "$3" --yes', "sh", dir, CLI, spec]);
    await removeContainers(containers);
    for (const h of hosts) await h.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("hostnet validate and graph describe both hosts without contacting them", async () => {
    const accepted = hosts.map((h) => h.acceptedConnections());
    assert.match(await cli("validate", spec), /valid — 2 host\(s\), 2 bridge\(s\), 4 container\(s\), 0 link\(s\), 4 NAT rule\(s\)/);
    const mermaid = await cli("graph", spec);
    for (const want of ['subgraph host_h1["host h1"]', 'subgraph host_h2["host h2"]', "h1_br_hnbr_s6a", "h2_br_hnbr_s6b", `h2_c_${names.web2.replace(/-/g, "_")} ---|"eth0 172.22.0.2/16"| h2_br_hnbr_s6b`, 'h1_port_tcp_8080 -->|"dnat 172.21.0.2:80"|']) {
      assert.ok(mermaid.includes(want), `graph lacks ${want}`);
    }
    assert.match(await cli("graph", spec, "--format", "dot"), /subgraph cluster_h2 \{/);
    const json = JSON.parse(await cli("validate", spec, "--json")) as Record<string, unknown>;
    assert.deepEqual(json, { command: "validate", file: spec, ok: true, hosts: 2, bridges: 2, containers: 4, links: 0, natRules: 4, overlays: 0 });
    assert.deepEqual(hosts.map((h) => h.acceptedConnections()), accepted);
  });

  it("hostnet --help, COMMAND --help and --version answer; a wrong command line exits 2 with the command's usage", async () => {
    assert.match(await cli("--help"), /commands:\n {2}validate .*\n {2}graph .*\n {2}preview .*\n {2}up .*\n {2}inspect .*\n {2}refresh .*\n {2}destroy /);
    assert.match(await cli("up", "--help"), /usage: hostnet up FILE \[options\][\s\S]*--stop-on-error/);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(await cli("--version"), `hostnet ${pkg.version}\n`);
    for (const args of [["up", spec, "--bogus"], ["frobnicate", spec], ["up"], ["preview", spec, "--parallel", "zero"]]) {
      const r = await cliRaw(...args);
      assert.equal(r.exitCode, 2, `${args.join(" ")}: exit 2\n${r.stderr}`);
      assert.match(r.stderr, /^hostnet: .+\n\nusage: hostnet /, args.join(" "));
    }
  });

  it("one `hostnet up` provisions both hosts; traffic works on each", async () => {
    const accepted = hosts.map((h) => h.acceptedConnections());
    const out = await cli("up", spec, "--yes");
    assert.match(out, /\+ 12 created/);
    assert.deepEqual(hosts.map((h, i) => h.acceptedConnections() - accepted[i]), [1, 1], "one SSH connection per host");
    await sh(["docker", "exec", "-d", names.web1, "httpd", "-f", "-p", "80", "-h", "/www"]);
    await sh(["docker", "exec", "-d", names.web2, "httpd", "-f", "-p", "80", "-h", "/www"]);
    await sleep(300);
    assert.equal((await dockerExec(names.cli1, ["ping", "-c", "1", "-W", "2", "172.21.0.2"])).exitCode, 0, "h1: cli1 pings web1");
    assert.equal((await dockerExec(names.cli2, ["ping", "-c", "1", "-W", "2", "172.22.0.2"])).exitCode, 0, "h2: cli2 pings web2");
    for (const h of hosts) assert.equal(await h.exec(["timeout", "5", "busybox", "wget", "-q", "-O", "-", `http://${h.address}:8080/`]), "hello from hostnet\n", `${h.netns}: the published port serves the page`);
  });

  it("a second preview shows no changes on either host (Markdown summary)", async () => {
    const md = path.join(dir, "preview.md");
    await cli("preview", spec, "--markdown", md);
    const text = fs.readFileSync(md, "utf8");
    assert.match(text, /### host `h1` — 5 same\n\nNo changes\./);
    assert.match(text, /### host `h2` — 5 same\n\nNo changes\./);
    const r = await cliRaw("preview", spec, "--expect-no-changes", "--json");
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { changes: unknown[] }).changes, [], "--json: no changes, and nothing but the JSON on stdout");
  });

  it("editing one host's part of the spec changes only that host: the preview lists it, up applies it", async () => {
    const idx1 = (await linkOf(hosts[0], "hnbr-s6a"))?.ifindex;
    writeSpec("172.22.0.5/16");
    const md = path.join(dir, "preview2.md");
    const shown = await cli("preview", spec, "--markdown", md);
    const text = fs.readFileSync(md, "utf8");
    assert.match(text, /### host `h1` — 5 same\n\nNo changes\./);
    assert.match(text, /### host `h2` — 3 same, 1 update, 1 replace\n/);
    // Old → new values, the replacement listed first under ⚠, in the Markdown and in the terminal.
    assert.ok(text.includes(`| update | \`h2.${names.web2}.eth0\` | ContainerAttachment | addresses: 172.22.0.2/16 → 172.22.0.5/16 |`), text);
    assert.ok(text.includes(`| ⚠ replace | \`h2.publish.${names.web2}.tcp.8080\` | NatRule | to: 172.22.0.2:80 → 172.22.0.5:80 |`), "the published port follows the new address");
    assert.ok(text.indexOf("### ⚠ 1 delete(s) and replacement(s)") < text.indexOf("### host `h1`"), text);
    assert.match(text, /^Spec `.*network\.yaml`, stack `s6`, backend `file:\/\/.*\/\.hostnet\/state`\.$/m);
    assert.ok(shown.includes(`Changes:\n  ⚠ replace h2.publish.${names.web2}.tcp.8080 (NatRule): to: 172.22.0.2:80 → 172.22.0.5:80\n  update h2.${names.web2}.eth0 (ContainerAttachment): addresses: 172.22.0.2/16 → 172.22.0.5/16\n`), shown);
    assert.ok(text.includes("```mermaid"));
    assert.ok(text.includes(`  class h2_c_${names.web2.replace(/[^A-Za-z0-9_]/g, "_")} changed`), "the Mermaid marks the changed container");
    const drift = await cliRaw("preview", spec, "--expect-no-changes");
    assert.equal(drift.exitCode, 3, "--expect-no-changes: exit 3 on changes");
    assert.match(drift.stderr, /2 change\(s\) found \(--expect-no-changes\): (update|replace) h2\./);
    const out = await cli("up", spec, "--yes");
    assert.match(out, /~ 1 updated/);
    assert.match(out, /\+-1 replaced/);
    assert.deepEqual(globalAddrs((await containerLinks(names.web2)).find((l) => l.ifname === "eth0")), ["172.22.0.5/16"]);
    assert.equal((await linkOf(hosts[0], "hnbr-s6a"))?.ifindex, idx1, "h1 untouched");
    assert.equal((await dockerExec(names.cli2, ["ping", "-c", "1", "-W", "2", "172.22.0.5"])).exitCode, 0);
  });

  it("hostnet refresh records an address removed by hand (the state is written once, at the end); the next up puts it back", async () => {
    const pid = await containerPid(names.cli1);
    await sh(["nsenter", "-t", String(pid), "-n", "ip", "addr", "del", "172.21.0.3/16", "dev", "eth0"]);
    const refreshed = await cli("refresh", spec);
    assert.match(refreshed, /~ 1 updated/, refreshed);
    const r = await cliRaw("preview", spec, "--json");
    assert.equal(r.exitCode, 0, r.stderr);
    const changes = (JSON.parse(r.stdout) as { changes: { op: string; name: string }[] }).changes;
    assert.deepEqual(changes.map((c) => `${c.op} ${c.name}`), [`update h1.${names.cli1}.eth0`], "the refreshed state knows the address is gone");
    assert.match(await cli("up", spec, "--yes"), /~ 1 updated/);
    assert.deepEqual(globalAddrs((await containerLinks(names.cli1)).find((l) => l.ifname === "eth0")), ["172.21.0.3/16"]);
    assert.equal((await dockerExec(names.cli1, ["ping", "-c", "1", "-W", "2", "172.21.0.2"])).exitCode, 0);
  });

  it("--host limits destroy, preview and up to that host: h2 is torn down and made again, h1 is not touched", async () => {
    const idx1 = (await linkOf(hosts[0], "hnbr-s6a"))?.ifindex;
    const bad = await cliRaw("preview", spec, "--host", "nope");
    assert.equal(bad.exitCode, 2, bad.stderr);
    assert.match(bad.stderr, /--host nope: not a host of .* \(its hosts: h1, h2\)/);
    assert.match(await cli("destroy", spec, "--host", "h2", "--yes"), /- 5 deleted/);
    assert.equal(await linkOf(hosts[1], "hnbr-s6b"), undefined, "h2's bridge is gone");
    assert.equal((await linkOf(hosts[0], "hnbr-s6a"))?.ifindex, idx1, "h1's bridge untouched");
    assert.equal((await dockerExec(names.cli1, ["ping", "-c", "1", "-W", "2", "172.21.0.2"])).exitCode, 0, "h1 still works");
    const h1 = await cliRaw("preview", spec, "--host", "h1", "--expect-no-changes");
    assert.equal(h1.exitCode, 0, `h1 alone has nothing to change, though h2's resources are missing:\n${h1.stdout}\n${h1.stderr}`);
    assert.match(await cli("up", spec, "--host", "h2", "--yes"), /\+ 5 created/);
    assert.equal((await linkOf(hosts[0], "hnbr-s6a"))?.ifindex, idx1, "h1's bridge still untouched");
    assert.equal((await dockerExec(names.cli2, ["ping", "-c", "1", "-W", "2", "172.22.0.5"])).exitCode, 0, "h2 works again");
    const all = await cliRaw("preview", spec, "--expect-no-changes");
    assert.equal(all.exitCode, 0, all.stdout + all.stderr);
  });

  it("moving a published port to another host port: the preview shows it as one replace, hostPort: 8080 → 8081; up moves it", async () => {
    writeSpec("172.22.0.5/16", 8081);
    try {
      const md = path.join(dir, "preview-port.md");
      const shown = await cli("preview", spec, "--markdown", md);
      const text = fs.readFileSync(md, "utf8");
      assert.ok(text.includes(`| ⚠ replace | \`h1.publish.${names.web1}.tcp.8081\` | NatRule | hostPort: 8080 → 8081 |`), text);
      assert.ok(text.includes(`- **replace** \`h1.publish.${names.web1}.tcp.8081\` (NatRule): hostPort: 8080 → 8081`), text);
      assert.ok(shown.includes(`Changes:\n  ⚠ replace h1.publish.${names.web1}.tcp.8081 (NatRule): hostPort: 8080 → 8081\n`), shown);
      await cli("up", spec, "--yes");
      assert.equal(await hosts[0].exec(["timeout", "5", "busybox", "wget", "-q", "-O", "-", `http://${hosts[0].address}:8081/`]), "hello from hostnet\n", "the page on the new port");
      assert.notEqual((await tryRun(["ip", "netns", "exec", hosts[0].netns, "timeout", "3", "busybox", "wget", "-q", "-O", "-", `http://${hosts[0].address}:8080/`])).exitCode, 0, "nothing on the old port");
    } finally {
      writeSpec("172.22.0.5/16");
      await cli("up", spec, "--yes");
    }
  });

  it("hostnet inspect reports exactly an address changed by hand and a rule deleted by hand (table and JSON), and a link carrying our mark that no resource claims", async () => {
    const clean = await cliRaw("inspect", spec, "--expect-no-changes");
    assert.equal(clean.exitCode, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /\nstack s6\/s6: 10 in sync\n$/, clean.stdout);
    // By hand: cli1's address changes (its default route put back), web2's published port loses its DNAT rule, and h1 gets a stray link with this stack's mark.
    const pid = String(await containerPid(names.cli1));
    await sh(["nsenter", "-t", pid, "-n", "ip", "addr", "del", "172.21.0.3/16", "dev", "eth0"]);
    await sh(["nsenter", "-t", pid, "-n", "ip", "addr", "add", "172.21.0.9/16", "dev", "eth0"]);
    await sh(["nsenter", "-t", pid, "-n", "ip", "route", "replace", "default", "via", "172.21.0.1", "dev", "eth0"]);
    const dnat = (await hosts[1].exec(["iptables-nft-save", "-t", "nat"])).split("\n").filter((l) => l.startsWith("-A HOSTNET-PREROUTING ") && l.includes("--dport 8080"));
    assert.equal(dnat.length, 1, dnat.join("\n"));
    await hosts[1].exec(["iptables-nft", "-t", "nat", "-D", ...saveLineWords(dnat[0]).slice(1)]);
    const mark = `hostnet:${ownerOf("s6/s6").hash}:bridge/hnorphan0 s6/s6`;
    await hosts[0].exec(["ip", "link", "add", "hnorphan0", "type", "bridge"]);
    try {
      await hosts[0].exec(["ip", "link", "set", "hnorphan0", "alias", mark]);
      const table = await cliRaw("inspect", spec, "--expect-no-changes");
      assert.equal(table.exitCode, 3, table.stdout + table.stderr);
      const lines = table.stdout.split("\n");
      const notInSync = lines.filter((l) => /^ {2}(bridge|attachment|nat|veth) /.test(l) && !l.endsWith("  in sync"));
      assert.equal(notInSync.length, 2, table.stdout);
      assert.match(notInSync[0], new RegExp(`^  attachment +${names.cli1}:eth0 .* drifted \\(addresses: 172\\.21\\.0\\.3/16 → 172\\.21\\.0\\.9/16\\)$`));
      assert.match(notInSync[1], new RegExp(`^  nat +publish tcp 8080 -> 172\\.22\\.0\\.\\d+:80 .* drifted \\(rules: 3 → 2\\)$`));
      assert.ok(lines.includes(`    link hnorphan0: ${mark}`), table.stdout);
      assert.ok(lines.includes("stack s6/s6: 8 in sync, 2 drifted, 1 orphan(s)"), table.stdout);
      const json = JSON.parse(await cli("inspect", spec, "--format", "json")) as { inSync: boolean; objects: { host: string; resource: string; status: string; drift: unknown[] }[]; orphans: unknown[] };
      assert.equal(json.inSync, false);
      assert.deepEqual(
        json.objects.filter((o) => o.status !== "in sync").map((o) => ({ host: o.host, resource: o.resource, status: o.status, drift: o.drift })),
        [
          { host: "h1", resource: `h1.${names.cli1}.eth0`, status: "drifted", drift: [{ field: "addresses", want: "172.21.0.3/16", have: "172.21.0.9/16" }] },
          { host: "h2", resource: `h2.publish.${names.web2}.tcp.8080`, status: "drifted", drift: [{ field: "rules", want: "3", have: "2" }] },
        ],
      );
      assert.deepEqual(json.orphans, [{ host: "h1", where: "link hnorphan0", mark }]);
      const h2 = JSON.parse(await cli("inspect", spec, "--host", "h2", "--json")) as typeof json;
      assert.deepEqual([...new Set(h2.objects.map((o) => o.host))], ["h2"], "--host h2 reads h2 alone");
      assert.deepEqual(h2.objects.filter((o) => o.status !== "in sync").map((o) => o.resource), [`h2.publish.${names.web2}.tcp.8080`]);
      assert.deepEqual(h2.orphans, []);
    } finally {
      await hosts[0].exec(["ip", "link", "del", "hnorphan0"]);
    }
    // One up puts both back (refresh first, so the engine sees the drift); inspect agrees.
    await cli("refresh", spec);
    await cli("up", spec, "--yes");
    const again = await cliRaw("inspect", spec, "--expect-no-changes");
    assert.equal(again.exitCode, 0, again.stdout + again.stderr);
  });

  it("hostnet destroy cleans both hosts", async () => {
    await cli("destroy", spec, "--yes");
    for (const [i, h] of hosts.entries()) {
      assert.deepEqual(await linkAndAddrSnapshot(h), beforeLinks[i], `${h.netns}: links and addresses as before`);
      assert.deepEqual(await natRules(h), beforeIpt[i], `${h.netns}: nat rules and chains as before (ours gone)`);
      assert.equal((await h.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), beforeForward[i], `${h.netns}: ip_forward restored`);
      const inode = await h.netnsInode();
      assert.equal(fs.existsSync(forwardMarkPath(inode)), false, `${h.netns}: the recorded ip_forward value is forgotten`);
    }
  });

  it("a failure on one host does not leave the other half-done: up carries on with the independent host", async () => {
    const partial = path.join(dir, "partial.yaml");
    fs.writeFileSync(partial, fs.readFileSync(spec, "utf8").replace(`{ host: h1, container: ${names.web1}, hostPort: 8080, port: 80 }`, `{ host: h1, container: ${names.web1}, hostPort: 8081, port: 80 }`));
    // A failure that preview cannot know (what preview can know, such as a missing container, is refused there, before any host changes):
    // every address added inside a container on h1 fails (one by one, or in the `ip -batch` that configures a new interface).
    const faults = JSON.stringify([{ host: `${hosts[0].address}:22`, match: "^nsenter --net=\\S+ -- ip (addr add|-batch)" }]);
    const r = await spawnCollect(["sh", "-c", 'cd "$1" && f="$2" && shift 2 && exec env HOSTNET_TEST_FAULTS="$f" node "$@"', "sh", dir, faults, CLI, "up", partial, "--yes", "--stack", "partial"], { timeoutMs: 600_000 });
    try {
      assert.notEqual(r.exitCode, 0, "up reports the failure");
      assert.match(r.stdout + r.stderr, /injected fault \(HOSTNET_TEST_FAULTS\)/);
      // One clean message: each failed resource once, with the failed command; no stack trace, no second copy of the engine's output.
      assert.match(r.stderr, /^hostnet: up failed:\n {2}h1\./m, r.stderr);
      assert.match(r.stderr, /^ {2}h1\.\S+: attachment of eth0 .*step \d+\/\d+ \(.*\) failed on .*:22 with exit code 1: injected fault \(HOSTNET_TEST_FAULTS\)/m, "each failed resource with its step, command, host and stderr");
      assert.doesNotMatch(r.stderr, /^\s+at \S+ \(/m, "no stack trace");
      assert.doesNotMatch(r.stderr, /Diagnostics:|Updating \(/, "the engine's output is not repeated on stderr");
      const said = r.stderr.split("\n").filter((l) => l.includes("injected fault"));
      assert.equal(new Set(said).size, said.length, "no error said twice");
      assert.doesNotMatch(r.stdout, /injected fault/, "the engine's streamed output leaves each error to the summary (its lines say 'see below')");
      assert.match(r.stdout, /error: see below/);
      assert.deepEqual(globalAddrs((await containerLinks(names.web2)).find((l) => l.ifname === "eth0")), ["172.22.0.5/16"], "h2 is complete");
      assert.equal((await dockerExec(names.cli2, ["ping", "-c", "1", "-W", "2", "172.22.0.5"])).exitCode, 0, "h2 works");
      assert.equal(await hosts[1].exec(["timeout", "5", "busybox", "wget", "-q", "-O", "-", `http://${hosts[1].address}:8080/`]), "hello from hostnet\n", "h2's published port works");
    } finally {
      await spawnCollect(["sh", "-c", 'cd "$1" && shift && exec node "$@"', "sh", dir, CLI, "destroy", partial, "--yes", "--stack", "partial"], { timeoutMs: 600_000 });
    }
  });

  it("a wrong host key stops preview and up before the engine runs: at most 10 lines, both fingerprints, how to pin the right one, no login", async () => {
    const wrong = path.join(dir, "wrong-key.yaml");
    // h1's entry pinned to h2's key: the host offers another.
    fs.writeFileSync(wrong, fs.readFileSync(spec, "utf8").replace(`hostKey: "${hosts[0].hostKey}"`, `hostKey: "${hosts[1].hostKey}"`));
    const accepted = hosts.map((h) => h.acceptedConnections());
    for (const cmd of ["preview", "up"]) {
      const r = await cliRaw(cmd, wrong, "--project", "wrong-key", ...(cmd === "up" ? ["--yes"] : []));
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      const all = `${r.stdout}${r.stderr}`.trimEnd();
      assert.match(r.stderr, new RegExp(`hostnet: ${cmd} stopped before running anything: 1 host\\(s\\) of .* did not offer the pinned key`));
      assert.match(r.stderr, /host key mismatch: .* Offered: ssh-ed25519 SHA256:\S+; pinned: SHA256:\S+\. .*ssh-keyscan -p 22 /);
      assert.doesNotMatch(all, /^\s+at /m, "no stack trace");
      assert.ok(all.split("\n").length <= 10, `${all.split("\n").length} lines:\n${all}`);
    }
    assert.deepEqual(hosts.map((h) => h.acceptedConnections()), accepted, "no login on either host");
  });

  it("an invalid spec is refused by validate, preview and up with file:line:column, without any SSH connection", async () => {
    const bad = path.join(dir, "bad.yaml");
    fs.writeFileSync(bad, fs.readFileSync(spec, "utf8").replace("hnbr-s6b, addresses: [172.22.0.1/16]", "hnbr-s6b, mtu: 9, addresses: [172.22.0.1/16]"));
    const accepted = hosts.map((h) => h.acceptedConnections());
    for (const cmd of ["validate", "preview", "up"]) {
      const r = await spawnCollect(["sh", "-c", 'cd "$1" && shift && exec node "$@"', "sh", dir, CLI, cmd, bad, ...(cmd === "up" ? ["--yes"] : [])], { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 1, `${cmd} exits non-zero`);
      assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:8:\\d+: bridges\\[1\\]\\.mtu: expected a number >= 68, got 9`));
    }
    assert.deepEqual(hosts.map((h) => h.acceptedConnections()), accepted, "no SSH connection was opened");
  });
});
