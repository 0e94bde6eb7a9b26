import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { REPO_ROOT } from "../helpers/paths";
import { CLI, cliIn } from "../helpers/cli";
import { eventually, sh, tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";


describe("integration: S4 — linked containers resolve each other by name (hosts:), through the CLI and the real engine", function () {
  let host: TestHost | undefined;
  const names = { app: "", db: "" };
  let dir = "";
  let spec = "";
  const hostsFile = async (c: string) => fs.readFileSync((await sh(["docker", "inspect", "-f", "{{.HostsPath}}", c])).trim(), "utf8");
  const original: Record<string, string> = {};
  const cli = cliIn(() => dir);
  const resolves = async (from: string, name: string) => (await dockerExec(from, ["ping", "-c", "1", "-W", "2", name])).exitCode === 0;

  before(async () => {
    requireRoot();
    host = await TestHost.create("s4");
    names.app = await runContainer("s4app");
    names.db = await runContainer("s4db");
    for (const c of Object.values(names)) original[c] = await hostsFile(c);
    fs.mkdirSync(path.join(REPO_ROOT, ".test-work"), { recursive: true });
    dir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-work", "s4-"));
    spec = path.join(dir, "network.yaml");
    fs.writeFileSync(
      spec,
      `name: s4names
hosts:
  h1: { host: "${host.address}", hostKey: "${host.hostKey}", privateKeyFile: "${path.join(host.dir, "id_ed25519")}" }
bridges:
  - { host: h1, name: hnbr-s4, addresses: [172.24.0.1/16] }
containers:
  - host: h1
    name: app
    docker: ${names.app}
    interfaces: [{ bridge: hnbr-s4, addresses: [172.24.0.2/16], gateway: 172.24.0.1 }]
    hosts: [db, { name: database, address: 172.24.0.3 }]
  - host: h1
    name: db
    docker: ${names.db}
    interfaces: [{ bridge: hnbr-s4, addresses: [172.24.0.3/16], gateway: 172.24.0.1 }]
    hosts: [app]
`,
    );
  });
  after(async () => {
    if (dir && fs.existsSync(path.join(dir, ".hostnet"))) await tryRun(["sh", "-c", 'cd "$1" && exec node "$2" destroy "$3" --yes', "sh", dir, CLI, spec]);
    await removeContainers(Object.values(names).filter((n) => n !== ""));
    await host?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("up writes one block per container; app pings db and its alias and fetches http://db/, db pings app; the rest of each file is untouched", async () => {
    assert.match(await cli("up", spec, "--yes"), /\+ 7 created/);
    for (const c of Object.values(names)) assert.ok((await hostsFile(c)).startsWith(original[c]), `${c}: Docker's lines stay as they were`);
    assert.ok(await resolves(names.app, "db"), "app pings db");
    assert.ok(await resolves(names.app, "database"), "app pings the alias database");
    assert.ok(await resolves(names.db, "app"), "db pings app");
    await sh(["docker", "exec", "-d", names.db, "httpd", "-f", "-p", "80", "-h", "/www"]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await dockerExec(names.app, ["timeout", "5", "wget", "-q", "-O", "-", "http://db/"])).stdout, "hello from hostnet\n");
    const inspected = JSON.parse(await cli("inspect", spec, "--format", "json")) as { inSync: boolean; objects: { kind: string; object: string; status: string; details: string }[] };
    assert.deepEqual(inspected.objects.filter((o) => o.kind === "hosts").map((o) => `${o.object} ${o.details}: ${o.status}`), [`${names.app}:/etc/hosts db database=172.24.0.3: in sync`, `${names.db}:/etc/hosts app=172.24.0.2: in sync`]);
  });

  it("after docker restart, one up (it reads the hosts first) writes the names again and re-plumbs the interface; the names resolve", async () => {
    await sh(["docker", "restart", "-t", "1", names.app]);
    assert.equal(await resolves(names.app, "db"), false, "the restarted container has no network");
    await cli("up", spec, "--yes");
    assert.ok(await resolves(names.app, "db"), "app pings db after its restart");
    assert.ok(await resolves(names.db, "app"), "db pings app after app's restart");
  });

  it("under hostnet watch, a docker restart is re-plumbed (interface and names) within 10 s with no other command; Ctrl-C stops it cleanly", async () => {
    const followers = async () => (await tryRun(["pgrep", "-f", "docker events --format"])).stdout.split("\n").filter(Boolean).length;
    const before = await followers();
    const child = spawn("node", [CLI, "watch", spec, "--debounce", "300"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    try {
      await eventually("watch is following docker events", async () => /watching 2 container\(s\) on h1/.test(out), 150);
      assert.equal(await followers(), before + 1, "one docker events follower on the host");
      await sh(["docker", "restart", "-t", "1", names.app]);
      const restarted = Date.now();
      await eventually("app pings db again", () => resolves(names.app, "db"), 100);
      const took = Date.now() - restarted;
      assert.ok(took <= 10_000, `re-plumbed ${took} ms after the restart (at most 10 s):\n${out}`);
      assert.ok(await resolves(names.db, "app"), "db pings app");
      assert.match(out, new RegExp(`h1: container ${names.app} started`));
      assert.match(out, /re-applying h1\.app\.eth0, h1\.app\.hosts/);
      await eventually("watch logs the apply", async () => /re-applied in [\d.]+ s \(/.test(out), 50).catch(() => assert.fail(out));
      assert.match(out, /re-applied in [\d.]+ s \((same \d+, )?update 2/);
      console.log(`      (watch re-plumbed the restarted container in ${took} ms)`);
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0, out);
    assert.match(out, /stopped/);
    await eventually("the follower on the host ended", async () => (await followers()) === before);
  });

  it("destroy leaves each container's /etc/hosts byte for byte as it was", async () => {
    assert.match(await cli("destroy", spec, "--yes"), /- 7 deleted/);
    for (const c of Object.values(names)) assert.equal(await hostsFile(c), original[c], `${c}'s hosts file as before`);
  });
});
