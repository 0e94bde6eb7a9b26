/**
 * Benchmarks on a real SSH test host through the real engine:
 *  - exec: round trip of one command over the pooled SSH connection (median of 200);
 *  - up-N: wall time of `up` creating N bridges, of a no-op `up`, and of `destroy`.
 *
 *   npm run bench -- up [N…]      (default 1 20 100; root, after scripts/setup.sh)
 */
import * as pulumi from "@pulumi/pulumi";
import { Bridge } from "../provider";
import { SshRunner, closeAllSsh } from "../provider/host/ssh";
import { newStack } from "../tests/helpers/engine";
import { TestHost } from "../tests/helpers/testhost";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

/** Runs the exec and up-N benchmarks; prints a Markdown table. */
export async function upBench(sizes: number[]): Promise<void> {
  const host = await TestHost.create("bench");
  const rows: string[] = [];
  try {
    const runner = new SshRunner(host.connection());
    await runner.run(["true"]);
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) samples.push((await timed(() => runner.run(["true"])))[0]);
    rows.push(`| exec round trip over the pooled SSH connection (median of 200) | ${median(samples).toFixed(1)} ms |`);
    closeAllSsh();
    for (const n of sizes.length ? sizes : [1, 20, 100]) {
      const conn = host.connection();
      const t = await newStack(`bench-${n}`, async () => {
        const out: Record<string, pulumi.Output<number>> = {};
        for (let i = 0; i < n; i++) out[`b${i}`] = new Bridge(`b${i}`, { connection: conn, name: `hnbb${i}`, addresses: [`10.${100 + Math.floor(i / 250)}.${i % 250}.1/24`] }).ifindex;
        return out;
      });
      try {
        const before = host.acceptedConnections();
        const [up] = await timed(() => t.stack.up({ color: "never" }));
        const conns = host.acceptedConnections() - before;
        const [noop] = await timed(() => t.stack.up({ color: "never" }));
        const [down] = await timed(() => t.stack.destroy({ color: "never" }));
        rows.push(`| up of ${n} bridge(s): create / no-op up / destroy | ${(up / 1000).toFixed(2)} s / ${(noop / 1000).toFixed(2)} s / ${(down / 1000).toFixed(2)} s (${conns} SSH connection(s)) |`);
      } finally {
        await t.cleanup().catch(() => undefined);
      }
    }
  } finally {
    closeAllSsh();
    await host.destroy();
  }
  console.log(["| benchmark | result |", "|---|---|", ...rows].join("\n"));
}
