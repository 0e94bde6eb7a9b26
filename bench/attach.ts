/**
 * The attach benchmark (issue 10): a bridge, N `--net=none` containers each
 * attached by a ContainerAttachment that makes its own pair (as Topology
 * declares a container interface), a masquerade and 5
 * published ports, on a hard SSH test host through the real engine, as the
 * sudo user `deploy` — once with an empty `~/.bashrc`, once with one that
 * sleeps 100 ms. For each N: wall time, SSH exec channels (sshd's
 * `Starting session` lines) and commands (= remote round trips, from the
 * provider's trace) of `up`, a no-op `up`, `preview`, `refresh` and
 * `destroy`; and the same end state made by plain iproute2/iptables on the
 * same test host in the same run, one process per step and batched.
 *
 *   npm run bench -- attach 10 50 200      (root, after scripts/setup.sh)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Bridge, ContainerAttachment, NatRule } from "../provider";
import { closeAllSsh } from "../provider/host/ssh";
import { ConnectionSpec, hostIdOf } from "../provider/host/connection";
import { PREFLIGHT_ENV } from "../provider/resources/common/preflight";
import { refreshWithoutCheckpoints } from "../provider/automation/engine";
import { containerPid, removeContainers, runContainer } from "../tests/helpers/docker";
import { newStack } from "../tests/helpers/engine";
import { sh } from "../tests/helpers/procs";
import { HARD_HOST_USERS, TestHost } from "../tests/helpers/testhost";

const PORTS = 5;
const BRIDGE = "hnbr-bn";
const addr = (i: number) => `10.88.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 1}`;

/** Elapsed milliseconds of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** One measured operation. */
interface Figure {
  readonly ms: number;
  readonly channels: number;
  readonly commands: number;
  readonly trips: number;
}
type Counts = Omit<Figure, "ms">;

/** Counts of what the host saw: exec channels in sshd's log, commands in the provider's trace. */
function counters(host: TestHost, trace: string): () => Counts {
  return () => {
    const lines = fs.existsSync(trace) ? fs.readFileSync(trace, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t")[1] ?? "") : [];
    return {
      channels: fs.existsSync(host.sshdLog) ? fs.readFileSync(host.sshdLog, "utf8").split("\n").filter((l) => l.includes("Starting session: command")).length : 0,
      commands: lines.filter((l) => l.startsWith("[")).length,
      trips: lines.filter((l) => l.startsWith("#round-trip")).length,
    };
  };
}

async function measure(count: () => Counts, fn: () => Promise<unknown>): Promise<Figure> {
  const before = count();
  const ms = await timed(fn);
  const after = count();
  return { ms, channels: after.channels - before.channels, commands: after.commands - before.commands, trips: after.trips - before.trips };
}

/** The plain-tools script making the same end state, one process per step. */
function perStepScript(pids: number[]): string {
  const lines = [`ip link add ${BRIDGE} type bridge`, `ip addr add 10.88.0.1/16 dev ${BRIDGE}`, `ip link set ${BRIDGE} up`];
  pids.forEach((pid, i) => {
    lines.push(
      `ip link add hnv-bn${i} type veth peer name hnv-bn${i}c`,
      `ip link set hnv-bn${i} master ${BRIDGE}`,
      `ip link set hnv-bn${i} up`,
      `ip link set hnv-bn${i}c netns ${pid}`,
      `nsenter -t ${pid} -n ip link set hnv-bn${i}c name eth0`,
      `nsenter -t ${pid} -n ip addr add ${addr(i)}/16 dev eth0`,
      `nsenter -t ${pid} -n ip link set eth0 up`,
      `nsenter -t ${pid} -n ip route add default via 10.88.0.1`,
    );
  });
  lines.push(...firewall("-A"));
  return lines.join("\n") + "\n";
}

/** The batched floor: every host-side link in one `ip -batch` (container end made inside its namespace), one `ip -batch` per namespace. */
function batchedScript(pids: number[]): string {
  const host = [`link add ${BRIDGE} type bridge`, `addr add 10.88.0.1/16 dev ${BRIDGE}`, `link set ${BRIDGE} up`];
  pids.forEach((pid, i) => host.push(`link add hnv-bn${i} master ${BRIDGE} up type veth peer name eth0 netns ${pid}`));
  const lines = [`ip -batch - <<'EOF'\n${host.join("\n")}\nEOF`];
  pids.forEach((pid, i) => lines.push(`nsenter -t ${pid} -n ip -batch - <<'EOF'\naddr add ${addr(i)}/16 dev eth0\nlink set eth0 up\nroute add default via 10.88.0.1\nEOF`));
  lines.push(...firewall("-A"));
  return lines.join("\n") + "\n";
}

/** The masquerade, the published ports and the forward accepts (the hard host's FORWARD policy is DROP). */
function firewall(op: "-A" | "-D"): string[] {
  const out = [`iptables -t nat ${op} POSTROUTING -s 10.88.0.0/16 ! -o ${BRIDGE} -j MASQUERADE`, `iptables ${op} FORWARD -i ${BRIDGE} -j ACCEPT`, `iptables ${op} FORWARD -o ${BRIDGE} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`];
  for (let k = 0; k < PORTS; k++) out.push(`iptables -t nat ${op} PREROUTING -p tcp --dport ${8080 + k} -j DNAT --to-destination ${addr(k)}:80`);
  return out;
}

/** Runs a script inside the test host's namespace; returns its wall time, then takes its end state down (untimed). */
async function plainRun(host: TestHost, script: string): Promise<number> {
  const file = path.join(os.tmpdir(), `hostnet-bench-${process.pid}.sh`);
  fs.writeFileSync(file, `set -e\n${script}`);
  try {
    const ms = await timed(() => sh(["ip", "netns", "exec", host.netns, "sh", file]));
    fs.writeFileSync(file, `${firewall("-D").join("\n")}\nip link del ${BRIDGE}\nfor l in $(ip -o link show type veth | awk -F'[:@]' '/hnv-bn/ {print $2}'); do ip link del $l; done\n`);
    await sh(["ip", "netns", "exec", host.netns, "sh", file]);
    return ms;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The engine's fixed cost: `up`, a no-op `up` and `destroy` of a program that declares nothing. */
async function emptyStack(): Promise<string> {
  const t = await newStack("bench-empty", async () => undefined);
  try {
    const up = await timed(() => t.stack.up({ color: "never" }));
    const noop = await timed(() => t.stack.up({ color: "never" }));
    const destroy = await timed(() => t.stack.destroy({ color: "never" }));
    return `the engine's fixed cost (a program with no resources): up ${s(up)}, no-op up ${s(noop)}, destroy ${s(destroy)}`;
  } finally {
    await t.cleanup().catch(() => undefined);
  }
}

/**
 * Destroy of 10 attachments on a host that holds only their containers, then
 * on the same host with 50 more containers that the stack does not name
 * (each in a namespace of its own): wall time of each, and how many commands
 * the provider sent that name a foreign container or its namespace (must be 0).
 */
async function foreignDestroy(conn: ConnectionSpec, own: string[], trace: string, count: () => Counts): Promise<string> {
  const run = async (label: string): Promise<Figure> => {
    process.env[PREFLIGHT_ENV] = JSON.stringify({ [hostIdOf(conn)]: own });
    const t = await newStack(`bench-foreign-${label}`, async () => {
      const br = new Bridge("br", { connection: conn, name: BRIDGE, addresses: ["10.88.0.1/16"] });
      own.forEach((c, i) => new ContainerAttachment(`a${i}`, { connection: conn, container: { docker: c }, interface: `hnv-bn${i}`, bridge: br.name, addresses: [`${addr(i)}/16`], gateway: "10.88.0.1" }));
    });
    try {
      await t.stack.up({ color: "never" });
      return await measure(count, () => t.stack.destroy({ color: "never" }));
    } finally {
      await t.cleanup().catch(() => undefined);
    }
  };
  const empty = await run("empty");
  const foreign: string[] = [];
  try {
    for (let i = 0; i < 50; i++) foreign.push(await runContainer(`fx${i}`));
    const pids = await Promise.all(foreign.map((c) => containerPid(c)));
    const mark = fs.existsSync(trace) ? fs.readFileSync(trace, "utf8").length : 0;
    const busy = await run("busy");
    const sent = fs.readFileSync(trace, "utf8").slice(mark);
    const touched = sent.split("\n").filter((l) => foreign.some((c) => l.includes(`"${c}"`)) || pids.some((p) => l.includes(`/proc/${p}/`))).length;
    return `destroy of ${own.length} attachments: ${cell(empty)} on a host with only their containers; ${cell(busy)} with 50 foreign containers (${(busy.ms / empty.ms).toFixed(2)}×); commands naming a foreign container or its namespace: ${touched}`;
  } finally {
    await removeContainers(foreign);
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const cell = (f: Figure) => `${s(f.ms)} · ${f.channels} ch · ${f.trips} rt · ${f.commands} cmd`;

/** Runs the benchmark for the sizes given; prints a Markdown table. */
export async function attachBench(sizes: number[]): Promise<void> {
  const max = Math.max(...sizes);
  const containers: string[] = [];
  const rows: string[] = [];
  let foreignLine = "";
  const trace = path.join(os.tmpdir(), `hostnet-bench-trace-${process.pid}`);
  process.env.HOSTNET_TEST_TRACE = trace;
  try {
    for (let i = 0; i < 10; i++) containers.push(await runContainer(`bn${i}`));
    for (const [shell, bashrc] of [["empty .bashrc", ""], [".bashrc sleeping 100 ms", "sleep 0.1\n"]] as const) {
      const host = await TestHost.create("bench", { hard: true });
      try {
        fs.writeFileSync(path.join(host.dir, `home-${HARD_HOST_USERS.sudo}`, ".bashrc"), bashrc);
        const count = counters(host, trace);
        if (!foreignLine) {
          // Before the other containers exist: the stack's 10 are all the host holds.
          foreignLine = `${await emptyStack()}\n\n${await foreignDestroy(host.connection({ user: HARD_HOST_USERS.sudo, sudo: true }), containers.slice(0, 10), trace, count)}`;
          console.error(foreignLine);
          for (let i = containers.length; i < max; i++) containers.push(await runContainer(`bn${i}`));
        }
        const pids = await Promise.all(containers.map((c) => containerPid(c)));
        for (const n of sizes) {
          const conn = host.connection({ user: HARD_HOST_USERS.sudo, sudo: true });
          // As `hostnet up` does: tell the provider which containers the spec names on the host, so checks read them in one go.
          process.env[PREFLIGHT_ENV] = JSON.stringify({ [hostIdOf(conn)]: containers.slice(0, n) });
          const t = await newStack(`bench-attach-${n}`, async () => {
            const br = new Bridge("br", { connection: conn, name: BRIDGE, addresses: ["10.88.0.1/16"] });
            for (let i = 0; i < n; i++) {
              new ContainerAttachment(`a${i}`, { connection: conn, container: { docker: containers[i] }, interface: `hnv-bn${i}`, bridge: br.name, addresses: [`${addr(i)}/16`], gateway: "10.88.0.1" });
            }
            new NatRule("out", { connection: conn, kind: "masquerade", source: "10.88.0.0/16", notOutInterface: br.name });
            for (let k = 0; k < Math.min(PORTS, n); k++) new NatRule(`p${k}`, { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080 + k, to: `${addr(k)}:80` });
          });
          try {
            const up = await measure(count, () => t.stack.up({ color: "never" }));
            // Engine overhead that is ours: the checkpoint's size per resource (inputs and outputs, the connection secret-wrapped in each).
            const state = await t.stack.exportStack();
            const resources = (state.deployment as { resources?: unknown[] }).resources ?? [];
            const perResource = JSON.stringify(state.deployment).length / Math.max(1, resources.length);
            const noop = await measure(count, () => t.stack.up({ color: "never" }));
            const preview = await measure(count, () => t.stack.preview({ color: "never" }));
            // As `hostnet refresh` runs it: the engine writes the state once, at the end (engine.ts).
            const refresh = await measure(count, () => refreshWithoutCheckpoints(t.stack, () => t.stack.refresh({ color: "never" })));
            const destroy = await measure(count, () => t.stack.destroy({ color: "never" }));
            closeAllSsh();
            const perStep = await plainRun(host, perStepScript(pids.slice(0, n)));
            const batched = await plainRun(host, batchedScript(pids.slice(0, n)));
            rows.push(`| ${shell} | ${n} | ${cell(up)} | ${cell(noop)} | ${cell(preview)} | ${cell(refresh)} | ${cell(destroy)} | ${s(perStep)} | ${s(batched)} | ${(up.ms / perStep).toFixed(1)}× | ${(up.trips / n).toFixed(1)} / ${(destroy.trips / n).toFixed(1)} | ${resources.length} · ${(perResource / 1024).toFixed(1)} KiB |`);
            console.error(rows[rows.length - 1]);
          } finally {
            await t.cleanup().catch(() => undefined);
          }
        }
      } finally {
        closeAllSsh();
        await host.destroy();
      }
    }
  } finally {
    await removeContainers(containers);
    fs.rmSync(trace, { force: true });
  }
  console.log(
    [
      `attach benchmark: bridge + N containers (a ContainerAttachment making its own pair each) + masquerade + ${PORTS} published ports, over SSH as a sudo user on a hard test host; ${os.cpus().length} cores; each cell: wall time · SSH exec channels (sshd's log) · remote round trips · commands (the provider's trace)`,
      "",
      "| login shell | N | up | no-op up | preview | refresh | destroy | plain, one process per step | plain, batched | up ÷ per-step | round trips per attachment, up / destroy | resources in state · state per resource |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      foreignLine,
    ].join("\n"),
  );
}
