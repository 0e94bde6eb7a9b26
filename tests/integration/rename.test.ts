import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/paths";
import { CLI, cliIn } from "../helpers/cli";
import { eventually, tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";


/**
 * Issue 9's first report: on one host of a three-host spec, renaming a bridge
 * while keeping its subnet made the new bridge fail the overlap check (the old
 * one, ours, still had the subnet), and the engine then deleted that host's
 * working resources. The same stack's own links no longer count as overlap.
 */
describe("integration: renaming a bridge that keeps its subnet, on one host of a three-host spec", function () {
  const hosts: TestHost[] = [];
  const containers: Record<string, string[]> = {};
  let dir = "";
  let spec = "";
  const snapshots: unknown[] = [];

  const cli = cliIn(() => dir);
  const bridgeOf = (i: number, renamed: boolean) => (i === 1 && renamed ? "hnbr-rn2new" : `hnbr-rn${i}`);

  function writeSpec(renamed: boolean): void {
    const host = (h: TestHost) => `{ host: "${h.address}", hostKey: "${h.hostKey}", privateKeyFile: "${path.join(h.dir, "id_ed25519")}" }`;
    const lines = ["name: rename", "hosts:", ...hosts.map((h, i) => `  h${i}: ${host(h)}`), "bridges:"];
    hosts.forEach((_, i) => lines.push(`  - { host: h${i}, name: ${bridgeOf(i, renamed)}, addresses: [172.23.${i}.1/24] }`));
    lines.push("containers:");
    hosts.forEach((_, i) => containers[i].forEach((c, j) => lines.push(`  - { host: h${i}, name: ${c}, interfaces: [{ bridge: ${bridgeOf(i, renamed)}, addresses: [172.23.${i}.${j + 2}/24], gateway: 172.23.${i}.1 }] }`)));
    lines.push("nat:", "  masquerade:");
    hosts.forEach((_, i) => lines.push(`    - { host: h${i}, bridge: ${bridgeOf(i, renamed)} }`));
    fs.writeFileSync(spec, lines.join("\n") + "\n");
  }

  const traffic = async () => {
    for (const [i, [a, b]] of Object.entries(containers)) {
      await eventually(`h${i}: ${a} pings its gateway`, async () => (await dockerExec(a, ["ping", "-c", "1", "-W", "1", `172.23.${i}.1`])).exitCode === 0);
      await eventually(`h${i}: ${a} pings ${b}`, async () => (await dockerExec(a, ["ping", "-c", "1", "-W", "1", `172.23.${i}.3`])).exitCode === 0);
    }
  };

  before(async () => {
    requireRoot();
    for (let i = 0; i < 3; i++) {
      hosts.push(await TestHost.create(`rn${i}`));
      containers[i] = [await runContainer(`rn${i}a`), await runContainer(`rn${i}b`)];
    }
    fs.mkdirSync(path.join(REPO_ROOT, ".test-work"), { recursive: true });
    dir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-work", "rename-"));
    spec = path.join(dir, "network.yaml");
    for (const h of hosts) snapshots.push(await linkAndAddrSnapshot(h));
  });
  after(async () => {
    if (dir && fs.existsSync(path.join(dir, ".hostnet"))) await tryRun(["sh", "-c", 'cd "$1" && exec node "$2" destroy "$3" --yes', "sh", dir, CLI, spec]);
    await removeContainers(Object.values(containers).flat());
    for (const h of hosts) await h.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("up of the three hosts; then the rename applies, nothing working is deleted, traffic works on every host; destroy cleans up", async () => {
    writeSpec(false);
    await cli("up", spec, "--yes");
    await traffic();
    const untouched = [await linkOf(hosts[0], "hnbr-rn0"), await linkOf(hosts[2], "hnbr-rn2")].map((l) => l?.ifindex);

    writeSpec(true);
    const out = await cli("up", spec, "--yes");
    assert.doesNotMatch(out, /overlap/);
    assert.equal(await linkOf(hosts[1], "hnbr-rn1"), undefined, "the old bridge is gone");
    const renamed = await linkOf(hosts[1], "hnbr-rn2new");
    assert.ok(renamed, "the new bridge exists");
    const veths = (JSON.parse(await hosts[1].exec(["ip", "-j", "link", "show", "type", "veth"])) as { ifname: string; master?: string }[]).filter((v) => v.ifname.startsWith("hn"));
    assert.equal(veths.length, 2);
    for (const v of veths) assert.equal(v.master, "hnbr-rn2new", `${v.ifname} is on the new bridge`);
    assert.deepEqual([await linkOf(hosts[0], "hnbr-rn0"), await linkOf(hosts[2], "hnbr-rn2")].map((l) => l?.ifindex), untouched, "the other hosts are untouched");
    await traffic();
    assert.match(await hosts[1].exec(["iptables-nft-save", "-t", "nat"]), /! -o hnbr-rn2new .*-j MASQUERADE/);

    await cli("destroy", spec, "--yes");
    for (const [i, h] of hosts.entries()) assert.deepEqual(await linkAndAddrSnapshot(h), snapshots[i], `h${i}: links and addresses as before`);
  });
});
