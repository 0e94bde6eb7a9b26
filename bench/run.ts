/**
 * Benchmarks (root, after scripts/setup.sh):
 *
 *   npm run bench -- attach 10 50 200   containers attached over SSH vs plain iproute2 (bench/attach.ts)
 *   npm run bench -- up 1 20 100        exec round trip and up of N bridges (bench/up.ts)
 *   npm run bench -- hosts 1 10 50      one up across H SSH test hosts × 5 attachments (bench/hosts.ts)
 *   npm run bench -- spec 1 5           hostnet validate of generated specs of 1 and 5 MB (bench/spec.ts)
 */
import { attachBench } from "./attach";
import { hostsBench } from "./hosts";
import { specBench } from "./spec";
import { upBench } from "./up";

async function main(): Promise<void> {
  const [kind = "up", ...rest] = process.argv.slice(2);
  const sizes = rest.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  if (kind === "attach") await attachBench(sizes.length ? sizes : [10, 50, 200]);
  else if (kind === "up") await upBench(sizes);
  else if (kind === "hosts") await hostsBench(sizes.length ? sizes : [1, 10, 50]);
  else if (kind === "spec") await specBench(sizes.length ? sizes : [1, 5]);
  else throw new Error(`unknown benchmark ${JSON.stringify(kind)}: expected attach, up, hosts or spec`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
