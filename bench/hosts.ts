/**
 * The hosts benchmark (issue 10): one program with H test hosts (each a
 * network namespace with its own sshd) × 5 attachments each (a bridge, and 5
 * ContainerAttachments making their own pairs into named namespaces), in one
 * `up` through the real engine, over SSH as each host's sudo user. For each H: wall time of `up` and `destroy`,
 * peak memory (the sum of the resident sets of this process and every
 * process under it — the engine, the language host, the dynamic provider —
 * but not the test hosts' sshd and their sessions, sampled every 250 ms), and SSH connections (sshd's "Accepted publickey"
 * lines on every host).
 *
 *   npm run bench -- hosts 1 10 50      (root, after scripts/setup.sh)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { Bridge, ContainerAttachment } from "../provider";
import { closeAllSsh } from "../provider/host/ssh";
import { newStack } from "../tests/helpers/engine";
import { processTree, sh, tryRun } from "../tests/helpers/procs";
import { HARD_HOST_USERS, TestHost } from "../tests/helpers/testhost";

const PER_HOST = 5;

/** The resident set (kB) of `root` and every process under it, leaving out the subtrees of `except` (the test hosts' sshd and their sessions). */
function treeRssKb(root: number, except: ReadonlySet<number>): number {
  let total = 0;
  for (const pid of processTree(root, except)) {
    try {
      total += Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

/** Runs `fn`, sampling the memory of this process tree every 250 ms (one pass over /proc each); returns wall time and the peak. */
async function sampled(fn: () => Promise<unknown>, hosts: readonly TestHost[]): Promise<{ ms: number; peakMb: number }> {
  const sshd = new Set(hosts.map((h) => h.sshdProcess).filter((p): p is number => p !== undefined));
  const rss = () => treeRssKb(process.pid, sshd);
  let peak = rss();
  const timer = setInterval(() => (peak = Math.max(peak, rss())), 250);
  const t = process.hrtime.bigint();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, peakMb: Math.max(peak, rss()) / 1024 };
}

/** Runs the benchmark for the host counts given; prints a Markdown table. */
export async function hostsBench(counts: number[]): Promise<void> {
  const rows: string[] = [];
  let base = 0;
  for (const h of counts) {
    const hosts: TestHost[] = [];
    const targets: string[] = [];
    try {
// The targets first: a hard host's sshd runs in a mount namespace of its own, which sees only the named namespaces made before it.
      for (let i = 0; i < h; i++) {
        for (let k = 0; k < PER_HOST; k++) {
          const name = `hnt-bht${process.pid % 1000}-${i}-${k}`;
          await sh(["ip", "netns", "add", name]);
          targets.push(name);
        }
      }
      // Hard hosts, logged in to as their sudo user (whose home is the test host's own): root logins would run this
      // machine's real ~/.bashrc, whose `pyenv rehash` takes a lock that concurrent logins wait on for up to 60 s.
      for (let i = 0; i < h; i++) hosts.push(await TestHost.create(`bh${i}`, { hard: true }));
      const t = await newStack(`bench-hosts-${h}`, async () => {
        hosts.forEach((host, i) => {
          const conn = host.connection({ user: HARD_HOST_USERS.sudo, sudo: true });
          const br = new Bridge(`h${i}.br`, { connection: conn, name: "hnbr-bh", addresses: ["10.89.0.1/24"] });
          for (let k = 0; k < PER_HOST; k++) {
            new ContainerAttachment(`h${i}.a${k}`, { connection: conn, container: { netns: targets[i * PER_HOST + k] }, interface: `hnv-bh${k}`, bridge: br.name, addresses: [`10.89.0.${k + 2}/24`], gateway: "10.89.0.1" });
          }
        });
      });
      try {
        const accepted = hosts.map((x) => x.acceptedConnections());
        // As `hostnet up` runs a spec of H hosts (engineParallel): 8 operations per host, at most 64.
        const parallel = Math.min(64, Math.max(8, 8 * h));
        const up = await sampled(() => t.stack.up({ color: "never", parallel }), hosts);
        const connections = hosts.reduce((n, x, i) => n + x.acceptedConnections() - accepted[i], 0);
        closeAllSsh();
        const destroy = await sampled(() => t.stack.destroy({ color: "never", parallel }), hosts);
        if (h === counts[0]) base = up.ms;
        rows.push(`| ${h} | ${h * PER_HOST} | ${(up.ms / 1000).toFixed(2)} s | ${base ? (up.ms / base).toFixed(2) : "-"}× | ${(destroy.ms / 1000).toFixed(2)} s | ${Math.round(Math.max(up.peakMb, destroy.peakMb))} MiB | ${connections} |`);
        console.error(rows[rows.length - 1]);
      } finally {
        closeAllSsh();
        await t.cleanup().catch(() => undefined);
      }
    } finally {
      for (const n of targets) await tryRun(["ip", "netns", "del", n]);
      for (const x of hosts) await x.destroy();
    }
  }
  console.log(
    [
      `hosts benchmark: one up of H SSH test hosts × ${PER_HOST} attachments (a bridge and ${PER_HOST} ContainerAttachments making their own pairs into named namespaces), through the real engine; ${os.cpus().length} cores; memory: peak of the summed resident sets of this process and every process under it (engine, language host, dynamic provider; not the test hosts' sshd)`,
      "",
      `| hosts | attachments | up | up ÷ ${counts[0]} host(s) | destroy | peak memory | SSH connections during up |`,
      "|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n"),
  );
}
