import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { isReadOnlyCommand } from "../../provider/host/readonly";
import { spawnCollect } from "../../provider/host/local";
import { vethNames } from "../../provider/spec/names";
import { removeContainers, runContainer } from "../helpers/docker";
import { firewallSnapshot } from "../helpers/firewall";
import { linkAndAddrSnapshot } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/paths";
import { sh } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";

const CLI = path.join(REPO_ROOT, "dist", "bin", "hostnet.js");

/**
 * Issue 9: what can be known at preview is refused at preview, by reading the
 * host only (every command the runner sent is traced and must be a read), and
 * with one read of the host's links and one `docker inspect` for all of its
 * containers, whatever the spec's size.
 */
describe("integration: refusals at preview (read-only, one batched read per host)", function () {
  let host: TestHost;
  let dir = "";
  let trace = "";
  const names: string[] = [];
  let ok: string[] = [];
  let baseline = "";

  const hostLine = () => `  h0: { host: "${host.address}", hostKey: "${host.hostKey}", privateKeyFile: "${path.join(host.dir, "id_ed25519")}" }`;
  const containerLine = (name: string, octet: number) => `  - { host: h0, name: ${name}, interfaces: [{ bridge: hnbr-pv, addresses: [172.25.0.${octet}/24], gateway: 172.25.0.1 }] }`;

  /** Runs `hostnet preview` of a spec made of `bridge` and `containers`; returns its output, asserting it only read the host and changed nothing. */
  async function preview(containers: string[], bridge = "  - { host: h0, name: hnbr-pv, addresses: [172.25.0.1/24] }"): Promise<{ code: number; out: string; commands: string[][] }> {
    const spec = path.join(dir, "network.yaml");
    fs.writeFileSync(spec, ["name: preview", "hosts:", hostLine(), "bridges:", bridge, ...(containers.length ? ["containers:"] : []), ...containers.map((c, i) => containerLine(c, i + 2))].join("\n") + "\n");
    fs.writeFileSync(trace, "");
    const r = await spawnCollect(["sh", "-c", 'cd "$1" && shift && exec env HOSTNET_TEST_TRACE="$1" node "$2" preview "$3"', "sh", dir, trace, CLI, spec], { timeoutMs: 300_000 });
    const commands = fs.readFileSync(trace, "utf8").split("\n").filter((l) => l.split("\t")[1]?.startsWith("[")).map((l) => JSON.parse(l.split("\t")[1]) as string[]);
    const writes = commands.filter((c) => !isReadOnlyCommand(c));
    assert.deepEqual(writes, [], "preview sent only read commands to the host");
    assert.ok(commands.length > 0, "preview read the host");
    assert.equal(await snapshot(), baseline, "nothing on the host changed");
    return { code: r.exitCode, out: r.stdout + r.stderr, commands };
  }
  const snapshot = async () => `${JSON.stringify(await linkAndAddrSnapshot(host))}\n${await firewallSnapshot(host)}`;

  before(async () => {
    requireRoot();
    host = await TestHost.create("pv");
    fs.mkdirSync(path.join(REPO_ROOT, ".test-work"), { recursive: true });
    dir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-work", "preview-"));
    trace = path.join(dir, "trace");
    ok = [await runContainer("pva"), await runContainer("pvb")];
    names.push(...ok);
    baseline = await snapshot();
  });
  after(async () => {
    await removeContainers(names);
    await host?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a valid spec previews with one read of the host's links and one docker inspect for all its containers", async () => {
    const r = await preview(ok);
    assert.equal(r.code, 0, r.out);
    const linkReads = r.commands.filter((c) => c.join(" ").endsWith("ip -j -d addr show"));
    const inspects = r.commands.filter((c) => c.includes("docker") && c.includes("inspect"));
    assert.equal(linkReads.length, 1, `one read of the host's links: ${JSON.stringify(r.commands)}`);
    assert.equal(inspects.length, 1, `one docker inspect: ${JSON.stringify(inspects)}`);
    assert.deepEqual(inspects[0].slice(-2).sort(), [...ok].sort());
  });

  it("a host-mode container is refused at preview, naming it; only reads reached the host; nothing was created", async () => {
    const hostMode = await runContainer("pvhost", { net: "host" });
    names.push(hostMode);
    const r = await preview([ok[0], hostMode]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, new RegExp(`container ${hostMode} on \\S+ runs in host network mode.*refusing`));
  });

  it("a container that does not exist, and one that is stopped, are refused at preview", async () => {
    const stopped = await runContainer("pvstop");
    names.push(stopped);
    await sh(["docker", "stop", "-t", "0", stopped]);
    const r = await preview([ok[0], "hnt-no-such-container"]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /container hnt-no-such-container does not exist on \S+/);
    const s = await preview([ok[0], stopped]);
    assert.notEqual(s.code, 0);
    assert.match(s.out, new RegExp(`container ${stopped} on \\S+ is not running`));
  });

  it("a bridge name taken by a link that is not ours, and a subnet overlapping one, are refused at preview", async () => {
    await host.exec(["ip", "link", "add", "hnbr-pv", "type", "bridge"]);
    await host.exec(["ip", "link", "add", "hnpv-dum", "type", "bridge"]);
    await host.exec(["ip", "addr", "add", "172.26.0.9/16", "dev", "hnpv-dum"]);
    baseline = await snapshot();
    try {
      const r = await preview(ok);
      assert.notEqual(r.code, 0);
      assert.match(r.out, /a bridge named hnbr-pv already exists on \S+ and is not managed by this resource/);
      const s = await preview([], "  - { host: h0, name: hnbr-pv2, addresses: [172.26.5.1/24] }");
      assert.notEqual(s.code, 0);
      assert.match(s.out, /refusing addresses that overlap another link's subnet .*172\.26\.5\.1\/24 overlaps 172\.26\.0\.9\/16 on hnpv-dum/);
    } finally {
      await host.exec(["ip", "link", "del", "hnbr-pv"]);
      await host.exec(["ip", "link", "del", "hnpv-dum"]);
      baseline = await snapshot();
    }
  });

  it("a veth name taken by a link that is not ours is refused at preview", async () => {
    const { name } = vethNames("h0", ok[0], "eth0");
    await host.exec(["ip", "link", "add", name, "type", "bridge"]);
    baseline = await snapshot();
    try {
      const r = await preview(ok);
      assert.notEqual(r.code, 0);
      assert.match(r.out, new RegExp(`a link named ${name} already exists on \\S+ \\(a bridge\\) and is not managed by hostnet`));
    } finally {
      await host.exec(["ip", "link", "del", name]);
      baseline = await snapshot();
    }
  });
});
