/**
 * The sandbox host shared by the demo and the examples: a network namespace
 * with its own sshd (a test host that outlives the process), and stacks of
 * inline programs run against it through the real engine, with their state
 * under ~/.cache/pulumi-hostnet/demo.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { engineEnv, pulumiCommand } from "../provider/automation/engine";
import { SavedHost, TestHost } from "../tests/helpers/testhost";

const REPO = path.resolve(__dirname, "..", "..");
export const STATE = path.join(process.env.HOSTNET_CACHE ?? path.join(os.homedir(), ".cache", "pulumi-hostnet"), "demo");
const SANDBOX_FILE = path.join(STATE, "sandbox.json");
const WORK = path.join(REPO, ".demo-work");

/** The running sandbox host; created when `create` and there is none. */
export async function sandbox(create: boolean): Promise<TestHost | undefined> {
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

/** A stack of an inline program, state in the sandbox's backend. */
export async function sandboxStack(project: string, program: PulumiFn): Promise<Stack> {
  const workDir = path.join(WORK, project);
  fs.mkdirSync(workDir, { recursive: true });
  return LocalWorkspace.createOrSelectStack(
    { stackName: "sandbox", projectName: project, program },
    { workDir, pulumiCommand: await pulumiCommand(), envVars: engineEnv(STATE, "hostnet-demo"), projectSettings: { name: project, runtime: "nodejs" } },
  );
}

/** Removes the sandbox host and all state (after the stacks on it were destroyed). */
export async function removeSandbox(): Promise<void> {
  const host = await sandbox(false);
  if (host) {
    await host.destroy();
    console.log("==> sandbox host removed");
  }
  fs.rmSync(STATE, { recursive: true, force: true });
  fs.rmSync(WORK, { recursive: true, force: true });
}
