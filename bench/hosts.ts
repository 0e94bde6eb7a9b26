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

/**
 * CPU seconds used by `root` and every process under it (leaving out the
 * subtrees of `except`): each live process's user and system time plus that
 * of the children it has reaped (`/proc/PID/stat` fields 14–17, in clock
 * ticks of 1/100 s), so a process that ended counts once its parent reaped it.
 */
function treeCpuSeconds(root: number, except: ReadonlySet<number> = new Set()): number {
  let ticks = 0;
  for (const pid of processTree(root, except)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // f[0] is field 3 (state): utime, stime, cutime, cstime are fields 14–17.
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // The process ended while being read.
    }
  }
  return ticks / 100;
}

/** CPU seconds of this process tree (engine, language host, provider) and of the test hosts' sshd trees (their sessions and every remote command). */
function cpuSplit(hosts: readonly TestHost[]): { controller: number; hosts: number } {
  const sshd = hosts.map((h) => h.sshdProcess).filter((p): p is number => p !== undefined);
  return { controller: treeCpuSeconds(process.pid, new Set(sshd)), hosts: sshd.reduce((n, p) => n + treeCpuSeconds(p), 0) };
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
        const cpu0 = cpuSplit(hosts);
        // When the engine issued each step (it checks and diffs one resource at a time, then hands the step to its executor) and when each ended.
        const issued: number[] = [];
        const ended: number[] = [];
        const t0 = Date.now();
        const up = await sampled(
          () =>
            t.stack.up({
              color: "never",
              parallel,
              onEvent: (e) => {
                if (e.resourcePreEvent && e.resourcePreEvent.metadata.type.includes("hostnet:")) issued.push(Date.now() - t0);
                if (e.resOutputsEvent && e.resOutputsEvent.metadata.type.includes("hostnet:")) ended.push(Date.now() - t0);
              },
            }),
          hosts,
        );
        const steps = `${issued.length} steps issued from ${(Math.min(...issued) / 1000).toFixed(1)} s to ${(Math.max(...issued) / 1000).toFixed(1)} s, the last ended at ${(Math.max(...ended) / 1000).toFixed(1)} s`;
        const connections = hosts.reduce((n, x, i) => n + x.acceptedConnections() - accepted[i], 0);
        closeAllSsh();
        // The connections' sshd processes end and are reaped, their sessions' CPU with them.
        await new Promise((r) => setTimeout(r, 1000));
        const cpu1 = cpuSplit(hosts);
        const destroy = await sampled(() => t.stack.destroy({ color: "never", parallel }), hosts);
        if (h === counts[0]) base = up.ms;
        const cpu = `${(cpu1.controller - cpu0.controller).toFixed(1)} s / ${(cpu1.hosts - cpu0.hosts).toFixed(1)} s`;
        rows.push(`| ${h} | ${h * PER_HOST} | ${(up.ms / 1000).toFixed(2)} s | ${base ? (up.ms / base).toFixed(2) : "-"}× | ${cpu} | ${steps} | ${(destroy.ms / 1000).toFixed(2)} s | ${Math.round(Math.max(up.peakMb, destroy.peakMb))} MiB | ${connections} |`);
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
      `CPU of up: seconds used by this process tree (engine, language host, dynamic provider) / by the test hosts' sshd trees (sessions, remote commands); ${os.cpus().length} cores give ${os.cpus().length} s per second of wall time to share`,
      "",
      `| hosts | attachments | up | up ÷ ${counts[0]} host(s) | CPU of up, controller / hosts | the engine's steps during up | destroy | peak memory | SSH connections during up |`,
      "|---|---|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n"),
  );
}
