/**
 * Runs an example program on the sandbox host through the real engine:
 *
 *   node dist/scripts/example.js <example> up       # sandbox + containers + pulumi up
 *   node dist/scripts/example.js <example> check    # the example's traffic checks
 *   node dist/scripts/example.js <example> destroy  # pulumi destroy + remove its containers
 */
import { ConnectionSpec } from "../provider/host/connection";
import { closeAllSsh } from "../provider/host/ssh";
import { s1, s1Checks } from "../examples/s1-bridge-by-hand/program";
import { s5, s5Checks } from "../examples/s5-point-to-point/program";
import { ensureTestImage, TEST_IMAGE } from "../tests/helpers/docker";
import { sh, tryRun } from "../tests/helpers/procs";
import { sandbox, sandboxStack } from "./sandbox";

interface Example {
  /** Role → container name (all `--net=none`). */
  containers: Record<string, string>;
  program(conn: ConnectionSpec): Record<string, unknown>;
  checks: [string, string[]][];
}

const s1Names = { base: "hostnet-ex-base", other: "hostnet-ex-other" };
const s5Names = { test1: "hostnet-ex-test1", test2: "hostnet-ex-test2" };
export const EXAMPLES: Record<string, Example> = {
  "s1-bridge-by-hand": { containers: s1Names, program: (c) => s1(c, s1Names), checks: s1Checks(s1Names) },
  "s5-point-to-point": { containers: s5Names, program: (c) => s5(c, s5Names), checks: s5Checks(s5Names) },
};

async function ensureContainers(ex: Example): Promise<void> {
  await ensureTestImage();
  for (const name of Object.values(ex.containers)) {
    const state = await tryRun(["docker", "inspect", "-f", "{{.State.Running}}", name]);
    if (state.exitCode === 0 && state.stdout.trim() === "true") continue;
    await tryRun(["docker", "rm", "-f", name]);
    console.log(`==> docker run -d --name ${name} --net=none ${TEST_IMAGE} sleep 1d`);
    await sh(["docker", "run", "-d", "--name", name, "--net=none", TEST_IMAGE, "sleep", "86400"]);
  }
}

async function main(name: string, action: string): Promise<number> {
  const ex = EXAMPLES[name];
  if (!ex) throw new Error(`unknown example ${name}; known: ${Object.keys(EXAMPLES).join(", ")}`);
  if (action === "check") {
    let failed = 0;
    for (const [container, argv] of ex.checks) {
      const r = await tryRun(["docker", "exec", container, ...argv]);
      console.log(`${r.exitCode === 0 ? "ok  " : "FAIL"} docker exec ${container} ${argv.join(" ")}`);
      if (r.exitCode !== 0) failed++;
    }
    return failed === 0 ? 0 : 1;
  }
  const host = await sandbox(action === "up");
  if (!host) {
    console.log("==> no sandbox host is running; nothing to do");
    return action === "destroy" ? 0 : 1;
  }
  const conn = host.connection();
  const stack = await sandboxStack(name, async () => ex.program(conn));
  if (action === "up") {
    await ensureContainers(ex);
    await stack.up({ onOutput: (s) => process.stdout.write(s), color: "never" });
    console.log(`\nCheck it: node dist/scripts/example.js ${name} check`);
    return 0;
  }
  if (action === "destroy") {
    await stack.destroy({ onOutput: (s) => process.stdout.write(s), color: "never" });
    await stack.workspace.removeStack("sandbox");
    for (const c of Object.values(ex.containers)) await tryRun(["docker", "rm", "-f", c]);
    console.log("==> containers removed (the sandbox host stays; `bash scripts/demo.sh destroy` removes it)");
    return 0;
  }
  throw new Error(`unknown action ${action}; expected up, check or destroy`);
}

if (require.main === module) {
  main(process.argv[2] ?? "", process.argv[3] ?? "up").then(
    (code) => {
      closeAllSsh();
      process.exitCode = code;
    },
    (e: unknown) => {
      closeAllSsh();
      console.error(`example failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
