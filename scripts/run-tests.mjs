// Runs the test tiers with mocha (unit, provider, transport, integration, or the
// ones named as arguments) from the compiled dist/, and ends with one plain line
// "tests: N passed, N failed, N skipped". Exit status is non-zero on any failure.
import Mocha from "mocha";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const tiers = process.argv.slice(2).length ? process.argv.slice(2) : ["unit", "provider", "transport", "integration"];
const mocha = new Mocha({ timeout: 600_000, slow: 5_000, reporter: "spec", color: false, rootHooks: (await import("../dist/tests/helpers/hooks.js")).mochaHooks });
// engine-link.test.js breaks the link between the inline program and the engine on purpose (gRPC
// interceptors, the SDK's terminate path); a suite run after it in the same process was seen to hang
// (faults-ops: an `up` that never returned; cause not found yet). It runs last until that is understood.
const LAST = "engine-link.test.js";
const last = [];
for (const tier of tiers) {
  const dir = join("dist", "tests", tier);
  if (!existsSync(dir)) throw new Error(`no compiled tests in ${dir}; run npm run build`);
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".test.js")).sort()) {
    if (tier === "integration" && f === LAST) last.push(join(dir, f));
    else mocha.addFile(join(dir, f));
  }
}
for (const f of last) mocha.addFile(f);
await mocha.loadFilesAsync();
const runner = mocha.run((failures) => {
  const s = runner.stats ?? {};
  console.log(`tests: ${s.passes ?? 0} passed, ${s.failures ?? failures} failed, ${s.pending ?? 0} skipped`);
  // Like mocha --exit: a handle leaked by a failed test must not keep CI waiting.
  process.exit(failures > 0 || (s.pending ?? 0) > 0 || (s.passes ?? 0) === 0 ? 1 : 0);
});
