/**
 * The main job for a fresh machine: a sandbox SSH host (a network namespace
 * with its own sshd), two `--net=none` containers, and `hostnet up` of the
 * S1+S3 spec (examples/demo/network.yaml) on it through the real engine; then
 * proof: the page fetched through the published port, and pings.
 *
 *   node dist/scripts/demo.js up | destroy
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { main as hostnet } from "../bin/hostnet";
import { ensureNamedContainers } from "../tests/helpers/docker";
import { tryRun } from "../tests/helpers/procs";
import { TestHost } from "../tests/helpers/testhost";
import { EXAMPLES } from "./example";
import { STATE, removeSandbox, sandbox, sandboxStack } from "./sandbox";

const REPO = path.resolve(__dirname, "..", "..");
const TEMPLATE = path.join(REPO, "examples", "demo", "network.yaml");
const SPEC = path.join(STATE, "network.yaml");
const CONTAINERS = ["hostnet-demo-web", "hostnet-demo-client"];
const cliOptions = ["--stack", "demo", "--backend", `file://${path.join(STATE, "backend")}`, "--work-dir", path.join(REPO, ".demo-work", "cli")];

/** Writes the demo spec with the sandbox host's address, host key and client key. */
function writeSpec(host: TestHost): void {
  const doc = parseDocument(fs.readFileSync(TEMPLATE, "utf8"));
  doc.setIn(["hosts", "sandbox"], doc.createNode({ host: host.address, hostKey: host.hostKey, privateKeyFile: path.join(host.dir, "id_ed25519") }));
  fs.mkdirSync(STATE, { recursive: true });
  fs.writeFileSync(SPEC, doc.toString());
}

async function step(what: string, argv: string[]): Promise<boolean> {
  const r = await tryRun(argv);
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  console.log(`${r.exitCode === 0 ? "ok  " : "FAIL"} ${what}${last ? `: ${last}` : ""}`);
  return r.exitCode === 0;
}

async function up(): Promise<number> {
  const host = await sandbox(true);
  if (!host) throw new Error("no sandbox host");
  console.log(`==> sandbox host ${host.address} (namespace ${host.netns}), SSH host key pinned`);
  await ensureNamedContainers(CONTAINERS);
  writeSpec(host);
  console.log(`==> hostnet validate ${SPEC}`);
  if ((await hostnet(["validate", SPEC])) !== 0) return 1;
  console.log(`==> hostnet up ${SPEC} --yes`);
  if ((await hostnet(["up", SPEC, "--yes", ...cliOptions])) !== 0) return 1;
  await tryRun(["docker", "exec", "-d", CONTAINERS[0], "httpd", "-f", "-p", "80", "-h", "/www"]);
  await new Promise((r) => setTimeout(r, 300));
  console.log(`\nSpec: ${SPEC}\nTo tear it all down later: bash scripts/demo.sh destroy`);
  console.log("\n==> proof");
  let ok = true;
  ok = (await step("hostnet-demo-client pings its gateway 172.30.0.1", ["docker", "exec", CONTAINERS[1], "ping", "-c", "1", "-W", "2", "172.30.0.1"])) && ok;
  ok = (await step("hostnet-demo-client pings hostnet-demo-web 172.30.0.2", ["docker", "exec", CONTAINERS[1], "ping", "-c", "1", "-W", "2", "172.30.0.2"])) && ok;
  ok = (await step(`hostnet-demo-client fetches http://${host.address}:8080/ (hairpin through the published port)`, ["docker", "exec", CONTAINERS[1], "timeout", "5", "wget", "-q", "-O", "-", `http://${host.address}:8080/`])) && ok;
  ok = (await step(`the sandbox host fetches the page through the published port http://${host.address}:8080/`, ["ip", "netns", "exec", host.netns, "timeout", "5", "busybox", "wget", "-q", "-O", "-", `http://${host.address}:8080/`])) && ok;
  return ok ? 0 : 1;
}

async function destroy(): Promise<number> {
  const host = await sandbox(false);
  if (host) {
    if (fs.existsSync(SPEC)) {
      console.log(`==> hostnet destroy ${SPEC} --yes`);
      await hostnet(["destroy", SPEC, "--yes", ...cliOptions]);
    }
    for (const [name, ex] of Object.entries(EXAMPLES)) {
      const s = await sandboxStack(name, async () => ex.program(host.connection()));
      if ((await s.workspace.listStacks()).some((st) => st.name === "sandbox" && (st.resourceCount ?? 0) > 0)) {
        console.log(`==> pulumi destroy of example ${name}`);
        await s.destroy({ color: "never" });
      }
      for (const c of Object.values(ex.containers)) await tryRun(["docker", "rm", "-f", c]);
    }
  } else {
    console.log("==> no sandbox host is running");
  }
  for (const c of CONTAINERS) await tryRun(["docker", "rm", "-f", c]);
  await removeSandbox();
  return 0;
}

const cmd = process.argv[2] ?? "up";
(cmd === "up" ? up() : cmd === "destroy" ? destroy() : Promise.reject(new Error(`usage: demo.js up|destroy (got ${cmd})`))).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
