/**
 * The package as a user gets it: `npm pack` of this checkout, `npm install`
 * of the tarball into an empty directory outside the checkout, and the
 * installed `hostnet` run there against an SSH test host through a Pulumi
 * CLI found on `PATH` (a copy of the built engine, without the dynamic
 * provider shim beside it, as some installs have it), with the engine that
 * scripts/setup.sh builds hidden.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { linkAndAddrSnapshot } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/paths";
import { sh } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";
import { execFile } from "node:child_process";
import { enginePrefix } from "../../provider/automation/engine";

/** Runs argv in `cwd` with exactly `env`; resolves to its exit code and output. */
function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { cwd, env, timeout: 600_000, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      const code = e ? (typeof (e as { code?: unknown }).code === "number" ? ((e as { code: number }).code) : 1) : 0;
      resolve({ exitCode: code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe("integration: the packed package, installed into an empty directory, run with a Pulumi CLI from PATH", function () {
  this.timeout(900_000);
  let dir = "";
  let bin = "";
  let host: TestHost;
  const containers: string[] = [];
  let linksBefore: unknown;

  /** The environment of a user's shell: node and the `pulumi` in `bin` on PATH, nothing of this checkout. */
  const userEnv = (withPulumi = true): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith("HOSTNET_") || k.startsWith("PULUMI_") || k === "NODE_PATH") delete env[k];
    env.HOSTNET_PULUMI_PREFIX = path.join(dir, "no-setup-sh-engine");
    env.PATH = [...(withPulumi ? [bin] : []), path.dirname(process.execPath), "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":");
    return env;
  };
  /** Runs the installed CLI in the install directory. */
  const hostnet = (args: string[], withPulumi = true) => run([path.join(dir, "node_modules", ".bin", "hostnet"), ...args], dir, userEnv(withPulumi));
  const ok = async (args: string[]) => {
    const r = await hostnet(args);
    if (r.exitCode !== 0) assert.fail(`hostnet ${args.join(" ")} failed (${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    requireRoot();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostnet-installed-"));
    assert.ok(!path.resolve(dir).startsWith(REPO_ROOT + path.sep), "the install directory is outside the checkout");
    assert.ok(fs.existsSync(path.join(REPO_ROOT, "dist", "bin", "hostnet.js")), "dist/ is built (npm test builds it first)");
    // dist/ is already built here; `npm pack` would otherwise build it (prepack).
    const packed = (await sh(["sh", "-c", 'cd "$1" && npm pack --ignore-scripts --silent --pack-destination "$2"', "sh", REPO_ROOT, dir])).trim().split("\n").at(-1) ?? "";
    assert.match(packed, /^pulumi-hostnet-.*\.tgz$/);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "my-network", private: true }));
    await sh(["sh", "-c", 'cd "$1" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "./$2"', "sh", dir, packed]);
    // A Pulumi CLI on PATH with nothing beside it: the dynamic provider shim then comes from the package's @pulumi/pulumi.
    bin = path.join(dir, "pulumi-bin");
    fs.mkdirSync(bin);
    fs.copyFileSync(path.join(enginePrefix(), "bin", "pulumi"), path.join(bin, "pulumi"));
    fs.chmodSync(path.join(bin, "pulumi"), 0o755);
    host = await TestHost.create("pkg");
    const web = await runContainer("pkgweb");
    containers.push(web);
    linksBefore = await linkAndAddrSnapshot(host);
    fs.writeFileSync(
      path.join(dir, "network.yaml"),
      `# yaml-language-server: $schema=node_modules/pulumi-hostnet/schema/hostnet.schema.json
name: installed
hosts:
  h1: { host: "${host.address}", hostKey: "${host.hostKey}", privateKeyFile: "${path.join(host.dir, "id_ed25519")}" }
bridges:
  - { host: h1, name: hnbr-pkg, addresses: [172.23.0.1/16] }
containers:
  - { host: h1, name: ${web}, interfaces: [{ bridge: hnbr-pkg, addresses: [172.23.0.2/16], gateway: 172.23.0.1 }] }
nat:
  masquerade:
    - { host: h1, bridge: hnbr-pkg }
`,
    );
  });
  after(async () => {
    if (dir && fs.existsSync(path.join(dir, ".hostnet"))) await hostnet(["destroy", "network.yaml", "--yes"]).catch(() => undefined);
    await removeContainers(containers);
    await host?.destroy();
    if (dir) {
      // The folder hostnet made to give this test's pulumi the <root>/bin/pulumi layout (engine.ts).
      for (const e of fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("hostnet-pulumi-"))) {
        const link = path.join(os.tmpdir(), e, "bin", "pulumi");
        if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() && fs.readlinkSync(link).startsWith(dir + path.sep)) fs.rmSync(path.join(os.tmpdir(), e), { recursive: true, force: true });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--help, --version, validate and graph answer from the installed package", async () => {
    assert.match(await ok(["--help"]), /^usage: hostnet <command> FILE/);
    assert.match(await ok(["--version"]), /^hostnet \d+\.\d+\.\d+/);
    assert.match(await ok(["validate", "network.yaml"]), /network\.yaml: valid — 1 host\(s\), 1 bridge\(s\), 1 container\(s\)/);
    assert.match(await ok(["graph", "network.yaml"]), /hnbr-pkg/);
  });

  it("the library and the schema resolve by package name", async () => {
    const r = await run([process.execPath, "-e", 'const h = require("pulumi-hostnet"); console.log(["Bridge", "VethPair", "ContainerAttachment", "NatRule", "Topology"].filter((k) => typeof h[k] === "function").join(",")); console.log(require("pulumi-hostnet/schema").title ?? "schema")'], dir, userEnv());
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.split("\n")[0], "Bridge,VethPair,ContainerAttachment,NatRule,Topology");
  });

  it("preview, up and destroy run through the Pulumi CLI on PATH, and leave the host as it was", async () => {
    const preview = await ok(["preview", "network.yaml"]);
    assert.match(preview, /\+ 5 to create/, preview);
    assert.doesNotMatch(preview, /warning/i, "no warning about where the engine found its plugins");
    const up = await ok(["up", "network.yaml", "--yes"]);
    assert.match(up, /\+ 5 created/, up);
    assert.equal((await dockerExec(containers[0], ["ping", "-c", "1", "-W", "2", "172.23.0.1"])).exitCode, 0, "the container pings its gateway");
    // inspect reads the host from the installed package: every object in sync, and the inventory printed by up came from the resources.
    const inspected = JSON.parse(await ok(["inspect", "network.yaml", "--format", "json"])) as { inSync: boolean; objects: { kind: string; object: string; status: string }[]; orphans: unknown[] };
    assert.deepEqual(inspected.objects.map((o) => `${o.kind} ${o.object}: ${o.status}`).sort(), ["attachment " + containers[0] + ":eth0: in sync", "bridge hnbr-pkg: in sync", "nat masquerade 172.23.0.0/16 !-o hnbr-pkg: in sync"]);
    assert.deepEqual(inspected.orphans, []);
    assert.equal(inspected.inSync, true);
    assert.ok(up.includes(`"${containers[0]}": {\n        "eth0": [\n          "172.23.0.2/16"`), up);
    // Another spec run from the same directory has its own project and stack (its name): it plans nothing for the first one's objects.
    const hostsBlock = fs.readFileSync(path.join(dir, "network.yaml"), "utf8").split("\n").filter((l) => l.startsWith("hosts:") || l.startsWith("  h1:"));
    fs.writeFileSync(path.join(dir, "other.yaml"), ["name: other", ...hostsBlock, "bridges:", "  - { host: h1, name: hnbr-pkg2, addresses: [172.24.0.1/16] }", ""].join("\n"));
    const other = await hostnet(["preview", "other.yaml", "--json"]);
    assert.equal(other.exitCode, 0, other.stderr);
    assert.deepEqual((JSON.parse(other.stdout) as { changes: { op: string; name: string }[] }).changes.map((c) => `${c.op} ${c.name}`), ["create h1.bridge.hnbr-pkg2"]);
    assert.match(await ok(["destroy", "network.yaml", "--yes"]), /- 5 deleted/);
    assert.deepEqual(await linkAndAddrSnapshot(host), linksBefore, "links and addresses as before");
  });

  it("a TypeScript program in that directory applies the spec through the Automation API (workspaceOptions) and destroys it", async () => {
    fs.writeFileSync(
      path.join(dir, "program.ts"),
      `// Run by Node's type stripping: node program.ts up|destroy
const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
const hostnet = require("pulumi-hostnet") as typeof import("pulumi-hostnet");

async function main(action: string): Promise<void> {
  const loaded = hostnet.loadSpec("network.yaml");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "ts", projectName: loaded.spec.name, program: async () => ({ inventory: new hostnet.Topology("topology", { spec: loaded }).inventory }) },
    await hostnet.workspaceOptions({ project: loaded.spec.name, dir: ".hostnet-ts" }),
  );
  const res = action === "up" ? await stack.up() : await stack.destroy();
  console.log(JSON.stringify(res.summary.resourceChanges));
}
main(process.argv[2] ?? "up").catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
`,
    );
    const up = await run([process.execPath, "program.ts", "up"], dir, userEnv());
    assert.equal(up.exitCode, 0, up.stdout + up.stderr);
    assert.deepEqual(JSON.parse(up.stdout.trim().split("\n").at(-1) ?? "{}"), { create: 5 });
    assert.equal((await dockerExec(containers[0], ["ping", "-c", "1", "-W", "2", "172.23.0.1"])).exitCode, 0, "the container pings its gateway");
    const down = await run([process.execPath, "program.ts", "destroy"], dir, userEnv());
    assert.equal(down.exitCode, 0, down.stdout + down.stderr);
    assert.deepEqual(JSON.parse(down.stdout.trim().split("\n").at(-1) ?? "{}"), { delete: 5 });
    assert.deepEqual(await linkAndAddrSnapshot(host), linksBefore, "links and addresses as before");
  });

  it("each TypeScript example builds with its own tsconfig.json against the installed package (remote-command's remote.Command connection included)", async () => {
    // What a user adds to build TypeScript; the example's other dependencies come with pulumi-hostnet (@pulumi/pulumi, @pulumi/command).
    await sh(["sh", "-c", 'cd "$1" && npm install --no-audit --no-fund --prefer-offline --loglevel=error @types/node@24.19.4 typescript@5.9.3', "sh", dir]);
    for (const ex of ["s1-bridge-by-hand", "s3-nat", "s5-point-to-point", "remote-command"]) {
      const from = path.join(REPO_ROOT, "examples", ex);
      const to = path.join(dir, "examples", ex);
      fs.mkdirSync(to, { recursive: true });
      for (const f of fs.readdirSync(from).filter((n) => n.endsWith(".ts") || n === "tsconfig.json")) fs.copyFileSync(path.join(from, f), path.join(to, f));
      const r = await run([process.execPath, path.join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(to, "tsconfig.json")], to, userEnv());
      assert.equal(r.exitCode, 0, `${ex}:\n${r.stdout}${r.stderr}`);
      assert.ok(fs.existsSync(path.join(to, "bin", "index.js")), `${ex} built bin/index.js`);
    }
  });

  it("state that hostnet 0.1 left under the file's name is not silently replaced: the error says which options keep it", async () => {
    const legacy = path.join(dir, ".hostnet", "state", ".pulumi", "stacks", "hostnet-lab");
    fs.mkdirSync(legacy, { recursive: true });
    fs.writeFileSync(path.join(legacy, "dev.json"), "{}");
    fs.writeFileSync(path.join(dir, "lab.yaml"), fs.readFileSync(path.join(dir, "network.yaml"), "utf8").replace("name: installed", "name: lab1"));
    try {
      const r = await hostnet(["preview", "lab.yaml"]);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /the stack hostnet-lab\/dev, which hostnet 0\.1 made from lab\.yaml .* run with --project hostnet-lab --stack dev/);
    } finally {
      fs.rmSync(legacy, { recursive: true, force: true });
    }
  });

  it("without any Pulumi CLI, preview says where it looked and what to do, in a few lines, exit 1", async () => {
    const r = await hostnet(["preview", "network.yaml"], false);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /no Pulumi CLI v\d+\.\d+\.\d+ or newer found; tried:/);
    assert.match(r.stderr, /no-setup-sh-engine\/bin\/pulumi \(scripts\/setup\.sh\): not there/);
    assert.match(r.stderr, /Install the Pulumi CLI/);
    assert.ok(r.stderr.split("\n").length <= 12, r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  });
});
