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
import { s3 } from "../examples/s3-nat/program";
import { ensureNamedContainers } from "../tests/helpers/docker";
import { sh, tryRun } from "../tests/helpers/procs";
import { sandbox, sandboxStack } from "./sandbox";
import { TestHost } from "../tests/helpers/testhost";

interface Example {
  /** Role → container name (all `--net=none`). */
  containers: Record<string, string>;
  program(conn: ConnectionSpec): Record<string, unknown>;
  /** Commands (run on this machine) that prove it works, given the sandbox host. */
  checks(host: TestHost): string[][];
  /** Commands to run after `up` (e.g. start a server in a container). */
  start?: string[][];
}

const inContainers = (list: [string, string[]][]) => list.map(([c, argv]) => ["docker", "exec", c, ...argv]);

const s1Names = { base: "hostnet-ex-base", other: "hostnet-ex-other" };
const s5Names = { test1: "hostnet-ex-test1", test2: "hostnet-ex-test2" };
const s3Names = { web: "hostnet-ex-web" };
export const EXAMPLES: Record<string, Example> = {
  "s1-bridge-by-hand": { containers: s1Names, program: (c) => s1(c, s1Names), checks: () => inContainers(s1Checks(s1Names)) },
  "s5-point-to-point": { containers: s5Names, program: (c) => s5(c, s5Names), checks: () => inContainers(s5Checks(s5Names)) },
  "s3-nat": {
    containers: s3Names,
    program: (c) => s3(c, s3Names),
    start: [["docker", "exec", "-d", s3Names.web, "httpd", "-f", "-p", "80", "-h", "/www"]],
    // The sandbox host fetches the page through its own published port (busybox-static's wget crashes with -T: timeout bounds it).
    checks: (host) => [["ip", "netns", "exec", host.netns, "timeout", "5", "busybox", "wget", "-q", "-O", "-", `http://${host.address}:8080/`]],
  },
};

async function main(name: string, action: string): Promise<number> {
  const ex = EXAMPLES[name];
  if (!ex) throw new Error(`unknown example ${name}; known: ${Object.keys(EXAMPLES).join(", ")}`);
  const host = await sandbox(action === "up");
  if (action === "check") {
    if (!host) throw new Error("no sandbox host is running; run up first");
    let failed = 0;
    for (const argv of ex.checks(host)) {
      const r = await tryRun(argv);
      const last = r.stdout.trim().split("\n").at(-1) ?? "";
      console.log(`${r.exitCode === 0 ? "ok  " : "FAIL"} ${argv.join(" ")}${last ? `  ->  ${last}` : ""}`);
      if (r.exitCode !== 0) failed++;
    }
    return failed === 0 ? 0 : 1;
  }
  if (!host) {
    console.log("==> no sandbox host is running; nothing to do");
    return action === "destroy" ? 0 : 1;
  }
  const conn = host.connection();
  const stack = await sandboxStack(name, async () => ex.program(conn));
  if (action === "up") {
    await ensureNamedContainers(Object.values(ex.containers));
    await stack.up({ onOutput: (s) => process.stdout.write(s), color: "never" });
    for (const argv of ex.start ?? []) await sh(argv);
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
