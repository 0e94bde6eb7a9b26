/**
 * The main job for a fresh machine: a sandbox test host (a network namespace
 * with its own sshd), a stack that creates the bridge `mybr0` on it over SSH
 * through the real engine, and the bridge as the host sees it. `destroy`
 * tears down the stack and the sandbox.
 *
 *   node dist/scripts/demo.js up | destroy
 */
import { Stack } from "@pulumi/pulumi/automation";
import { Bridge } from "../provider";
import { runnerFor } from "../provider/host";
import { closeAllSsh } from "../provider/host/ssh";
import { tryRun } from "../tests/helpers/procs";
import { TestHost } from "../tests/helpers/testhost";
import { EXAMPLES } from "./example";
import { removeSandbox, sandbox, sandboxStack } from "./sandbox";

async function stackFor(host: TestHost): Promise<Stack> {
  const connection = host.connection();
  return sandboxStack("hostnet-demo", async () => {
    const br = new Bridge("mybr0", { connection, name: "mybr0", addresses: ["192.168.1.1/24", "fd00:1::1/64"], mtu: 1500 });
    return { bridge: br.name, addresses: br.addresses, ifindex: br.ifindex };
  });
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
    await stack.workspace.removeStack("sandbox");
    for (const [name, ex] of Object.entries(EXAMPLES)) {
      const s = await sandboxStack(name, async () => ex.program(host.connection()));
      if ((await s.workspace.listStacks()).some((st) => st.name === "sandbox" && (st.resourceCount ?? 0) > 0)) {
        console.log(`==> pulumi destroy of example ${name}`);
        await s.destroy({ color: "never" });
      }
      for (const c of Object.values(ex.containers)) await tryRun(["docker", "rm", "-f", c]);
    }
    closeAllSsh();
  } else {
    console.log("==> no sandbox host is running");
  }
  await removeSandbox();
}

const cmd = process.argv[2] ?? "up";
(cmd === "up" ? up() : cmd === "destroy" ? destroy() : Promise.reject(new Error(`usage: demo.js up|destroy (got ${cmd})`))).catch((e: unknown) => {
  closeAllSsh();
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
