/**
 * The main job for a fresh machine: a sandbox test host (a network namespace
 * with its own sshd), a stack that creates the bridge `mybr0` on it over SSH
 * through the real engine, and the bridge as the host sees it. `destroy`
 * tears down the stack and the sandbox.
 *
 *   node dist/scripts/demo.js up | destroy
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { Bridge } from "../provider";
import { engineEnv, pulumiCommand } from "../provider/automation/engine";
import { runnerFor } from "../provider/host";
import { closeAllSsh } from "../provider/host/ssh";
import { SavedHost, TestHost } from "../tests/helpers/testhost";

const REPO = path.resolve(__dirname, "..", "..");
const STATE = path.join(process.env.HOSTNET_CACHE ?? path.join(os.homedir(), ".cache", "pulumi-hostnet"), "demo");
const SANDBOX_FILE = path.join(STATE, "sandbox.json");
const WORK = path.join(REPO, ".demo-work");

async function sandbox(create: boolean): Promise<TestHost | undefined> {
  if (fs.existsSync(SANDBOX_FILE)) {
    const h = await TestHost.load(JSON.parse(fs.readFileSync(SANDBOX_FILE, "utf8")) as SavedHost);
    if (h) return h;
  }
  if (!create) return undefined;
  console.log("==> creating the sandbox host (network namespace + sshd)");
  const h = await TestHost.create("demo", { detached: true });
  fs.mkdirSync(STATE, { recursive: true });
  fs.writeFileSync(SANDBOX_FILE, JSON.stringify(h.save(), null, 2), { mode: 0o600 });
  return h;
}

async function stackFor(host: TestHost): Promise<Stack> {
  fs.mkdirSync(WORK, { recursive: true });
  const connection = host.connection();
  return LocalWorkspace.createOrSelectStack(
    {
      stackName: "demo",
      projectName: "hostnet-demo",
      program: async () => {
        const br = new Bridge("mybr0", { connection, name: "mybr0", addresses: ["192.168.1.1/24", "fd00:1::1/64"], mtu: 1500 });
        return { bridge: br.name, addresses: br.addresses, ifindex: br.ifindex };
      },
    },
    { workDir: WORK, pulumiCommand: await pulumiCommand(), envVars: engineEnv(STATE, "hostnet-demo"), projectSettings: { name: "hostnet-demo", runtime: "nodejs" } },
  );
}

async function up(): Promise<void> {
  const host = await sandbox(true);
  if (!host) throw new Error("no sandbox host");
  console.log(`==> sandbox host ${host.address} (namespace ${host.netns}), SSH host key pinned: ${host.hostKey.slice(0, 40)}…`);
  const stack = await stackFor(host);
  console.log("==> pulumi up");
  const res = await stack.up({ onOutput: (s) => process.stdout.write(s), color: "never" });
  console.log(`==> ${JSON.stringify(res.summary.resourceChanges)}`);
  console.log(`==> ip -d addr show mybr0, run on the sandbox host over SSH:`);
  const out = await runnerFor(host.connection()).run(["ip", "-d", "addr", "show", "mybr0"]);
  process.stdout.write(out.stdout + out.stderr);
  closeAllSsh();
  console.log("\nTo tear it all down: bash scripts/demo.sh destroy");
}

async function destroy(): Promise<void> {
  const host = await sandbox(false);
  if (host) {
    const stack = await stackFor(host);
    console.log("==> pulumi destroy");
    await stack.destroy({ onOutput: (s) => process.stdout.write(s), color: "never" });
    await stack.workspace.removeStack("demo");
    closeAllSsh();
    await host.destroy();
    console.log("==> sandbox host removed");
  } else {
    console.log("==> no sandbox host is running");
  }
  fs.rmSync(STATE, { recursive: true, force: true });
  fs.rmSync(WORK, { recursive: true, force: true });
}

const cmd = process.argv[2] ?? "up";
(cmd === "up" ? up() : cmd === "destroy" ? destroy() : Promise.reject(new Error(`usage: demo.js up|destroy (got ${cmd})`))).catch((e: unknown) => {
  closeAllSsh();
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
