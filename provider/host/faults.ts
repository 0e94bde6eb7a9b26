/**
 * Fault injection and tracing for tests, off unless the environment asks.
 *
 * `HOSTNET_TEST_FAULTS`: a JSON list of faults. A command counts for a fault
 * when it runs on the fault's `host` (any when absent), matches `match` (a
 * regex over the argv joined with spaces; any when absent) and, with
 * `mutating: true`, changes the host (see readonly.ts). Without `nth` every
 * counted command fails; with `nth: k` only the k-th one in this process (one
 * engine operation) does. A failed command is not run and fails as a command
 * would (exit 1, stderr "injected fault"); when `cut` is set the runner
 * instead throws a lost-connection error, as when sshd dies mid-command.
 *
 * `HOSTNET_TEST_TRACE`: a file that gets one line per command, `host<TAB>argv
 * as JSON`, before it runs (how tests prove that a preview only reads), and
 * one line `host<TAB>#fault<TAB>index<TAB>command` per fault injected (how a
 * test tells a run that recovered from a fault from one that never met it).
 *
 * Without either variable runners are returned unwrapped.
 */
import * as fs from "node:fs";
import { ConnectionLostError, HostnetError } from "./errors";
import { isReadOnlyCommand } from "./readonly";
import { Command, Held, NoteListener, RunOptions, RunResult, Runner, SequenceOptions, SequenceResult, runInOrder } from "./runner";

/** One fault. */
export interface Fault {
  readonly host?: string;
  readonly match?: string;
  readonly mutating?: boolean;
  readonly nth?: number;
  readonly cut?: boolean;
}

/** The faults configured in the environment (none when unset). */
export function faultsFromEnv(env: NodeJS.ProcessEnv = process.env): Fault[] {
  const raw = env.HOSTNET_TEST_FAULTS;
  if (!raw) return [];
  const parsed = JSON.parse(raw) as unknown;
  const ok = (f: unknown): f is Fault =>
    typeof f === "object" && f !== null && ["match", "host"].every((k) => (f as Record<string, unknown>)[k] === undefined || typeof (f as Record<string, unknown>)[k] === "string") &&
    ((f as Fault).nth === undefined || (Number.isInteger((f as Fault).nth) && ((f as Fault).nth as number) > 0));
  if (!Array.isArray(parsed) || !parsed.every(ok)) throw new HostnetError("HOSTNET_TEST_FAULTS: expected a JSON list of { host?, match?, mutating?, nth?, cut? }");
  return parsed;
}

/** Commands counted per fault (index) and host, for the life of the process. */
const counted = new Map<string, number>();

/** A runner that fails the commands the faults pick, and runs the rest. */
export class FaultRunner implements Runner {
  constructor(private readonly inner: Runner, private readonly faults: readonly Fault[], private readonly trace?: string) {}
  get hostId(): string {
    return this.inner.hostId;
  }
  /** Whether fault `i` picks this command (counting it). */
  private picks(i: number, argv: readonly string[]): boolean {
    const f = this.faults[i];
    if (f.host && f.host !== this.hostId) return false;
    if (f.match && !new RegExp(f.match).test(argv.join(" "))) return false;
    if (f.mutating && isReadOnlyCommand(argv)) return false;
    if (f.nth === undefined) return true;
    const key = `${i}\n${this.hostId}`;
    const n = (counted.get(key) ?? 0) + 1;
    counted.set(key, n);
    return n === f.nth;
  }
  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    if (this.trace) fs.appendFileSync(this.trace, `${this.hostId}\t${JSON.stringify(argv)}\t${process.pid}\n`);
    for (let i = 0; i < this.faults.length; i++) {
      if (!this.picks(i, argv)) continue;
      const line = argv.join(" ");
      if (this.trace) fs.appendFileSync(this.trace, `${this.hostId}\t#fault\t${i}\t${line.replace(/[\t\n]/g, " ")}\n`);
      if (this.faults[i].cut) throw new ConnectionLostError(this.hostId, "injected cut (HOSTNET_TEST_FAULTS)", argv);
      return { stdout: "", stderr: `injected fault (HOSTNET_TEST_FAULTS) for: ${line}`, exitCode: 1 };
    }
    return this.inner.run(argv, opts);
  }
  hold(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held> {
    if (!this.inner.hold) throw new Error("the underlying runner cannot hold a command");
    return this.inner.hold(argv, timeoutMs, onNote);
  }
  /** With faults, one command at a time (each counted and maybe failed as above); with a trace only, the inner runner's sequence, each command traced. */
  async runSequence(commands: readonly Command[], opts?: SequenceOptions): Promise<SequenceResult> {
    const inner = this.inner;
    if (this.faults.length > 0 || !inner.runSequence) return runInOrder({ hostId: this.hostId, run: (a, o) => this.run(a, o) }, commands, opts);
    if (this.trace) for (const c of commands) fs.appendFileSync(this.trace, `${this.hostId}\t${JSON.stringify(c.argv)}\t${process.pid}\n`);
    return inner.runSequence(commands, opts);
  }
}

/** Wraps `runner` when the environment asks for faults or a trace. */
export function withTestHooks(runner: Runner, env: NodeJS.ProcessEnv = process.env): Runner {
  const faults = faultsFromEnv(env);
  const trace = env.HOSTNET_TEST_TRACE;
  return faults.length > 0 || trace ? new FaultRunner(runner, faults, trace) : runner;
}
