/**
 * Benchmarks (root, after scripts/setup.sh):
 *
 *   npm run bench -- attach 10 50 200   containers attached over SSH vs plain iproute2 (bench/attach.ts)
 *   npm run bench -- up 1 20 100        exec round trip and up of N bridges (bench/up.ts)
 *   npm run bench -- hosts 1 10 50      one up across H SSH test hosts × 5 attachments (bench/hosts.ts)
 */
import { attachBench } from "./attach";
import { hostsBench } from "./hosts";
import { upBench } from "./up";

async function main(): Promise<void> {
  const [kind = "up", ...rest] = process.argv.slice(2);
  const sizes = rest.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  if (kind === "attach") await attachBench(sizes.length ? sizes : [10, 50, 200]);
  else if (kind === "up") await upBench(sizes);
  else if (kind === "hosts") await hostsBench(sizes.length ? sizes : [1, 10, 50]);
  else throw new Error(`unknown benchmark ${JSON.stringify(kind)}: expected attach, up or hosts`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
