import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { globalAddrs, linkOf } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/paths";
import { tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";
import { spawnCollect } from "../../provider/host/local";

const CLI = path.join(REPO_ROOT, "dist", "bin", "hostnet.js");

describe("integration: a spec written in YAML reaches a host through a jump host (proxy:) and adopts a bridge an admin made (adopt:)", function () {
  let jump: TestHost | undefined;
  let inner: TestHost | undefined;
  let dir = "";
  let spec = "";
  const cliRaw = (...args: string[]) => spawnCollect(["sh", "-c", 'cd "$1" && shift && exec node "$@"', "sh", dir, CLI, ...args], { timeoutMs: 600_000 });
  const cli = async (...args: string[]) => {
    const r = await cliRaw(...args);
    if (r.exitCode !== 0) assert.fail(`hostnet ${args.join(" ")} failed (${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    requireRoot();
    fs.mkdirSync(path.join(REPO_ROOT, ".test-work"), { recursive: true });
    dir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-work", "proxy-"));
    jump = await TestHost.create("jump");
    inner = await TestHost.create("inner", { behind: jump });
    // The admin's bridge, with an alias of its own.
    await inner.exec(["ip", "link", "add", "hnadm0", "type", "bridge"]);
    await inner.exec(["ip", "link", "set", "hnadm0", "alias", "admin: lab uplink"]);
    spec = path.join(dir, "network.yaml");
    fs.writeFileSync(
      spec,
      `name: viajump
hosts:
  inner:
    host: "${inner.address}"
    hostKey: "${inner.hostKey}"
    privateKeyFile: "${path.join(inner.dir, "id_ed25519")}"
    proxy:
      host: "${jump.address}"
      hostKey: "${jump.hostKey}"
      privateKeyFile: "${path.join(jump.dir, "id_ed25519")}"
bridges:
  - { host: inner, name: hnadm0, adopt: true, addresses: [172.25.0.1/24] }
  - { host: inner, name: hnnew0, addresses: [172.26.0.1/24] }
`,
    );
  });
  after(async () => {
    if (dir && fs.existsSync(path.join(dir, ".hostnet"))) await tryRun(["sh", "-c", 'cd "$1" && exec node "$2" destroy "$3" --yes', "sh", dir, CLI, spec]);
    await inner?.destroy();
    await jump?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("validate, up, inspect and destroy through the jump host; the adopted bridge is released with its alias, the new one deleted", async () => {
    if (!inner) throw new Error("no inner host");
    // The inner host is reachable only through the jump host (the transport test proves the routing); nothing else is configured for it.
    assert.match(await cli("validate", spec), /valid — 1 host\(s\), 2 bridge\(s\)/);
    assert.match(await cli("up", spec, "--yes"), /\+ 4 created/);
    const adopted = await linkOf(inner, "hnadm0");
    assert.match(String(adopted?.ifalias ?? ""), /^hostnet:[0-9a-f]{8}:bridge\/hnadm0 viajump\/viajump$/, "the adopted bridge carries our mark");
    assert.deepEqual(globalAddrs(adopted), ["172.25.0.1/24"]);
    assert.ok(await linkOf(inner, "hnnew0"), "the new bridge exists");
    const inspected = JSON.parse(await cli("inspect", spec, "--format", "json")) as { inSync: boolean; objects: { object: string; status: string }[] };
    assert.deepEqual(inspected.objects.map((o) => `${o.object}: ${o.status}`), ["hnadm0: in sync", "hnnew0: in sync"]);
    assert.equal(inspected.inSync, true);
    assert.match(await cli("destroy", spec, "--yes"), /- 4 deleted/);
    const released = await linkOf(inner, "hnadm0");
    assert.equal(released?.ifalias, "admin: lab uplink", "the adopted bridge stays, with the admin's alias back");
    assert.equal(await linkOf(inner, "hnnew0"), undefined, "the bridge we made is gone");
  });
});
