/**
 * Fault injection for tests: with `HOSTNET_TEST_FAULTS` set (a JSON list of
 * `{ "host"?: hostId, "match": regex }`), any command whose argv, joined with
 * spaces, matches is not run and fails as a command would (exit 1, stderr
 * "injected fault"). Only the test suites set it; without it runners are
 * returned unwrapped.
 */
import { HostnetError } from "./errors";
import { Held, NoteListener, RunOptions, RunResult, Runner } from "./runner";

/** One fault: commands on `host` (any when absent) matching `match` fail. */
export interface Fault {
  readonly host?: string;
  readonly match: string;
}

/** The faults configured in the environment (none when unset). */
export function faultsFromEnv(env: NodeJS.ProcessEnv = process.env): Fault[] {
  const raw = env.HOSTNET_TEST_FAULTS;
  if (!raw) return [];
  const parsed = JSON.parse(raw) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((f) => f && typeof f.match === "string")) throw new HostnetError("HOSTNET_TEST_FAULTS: expected a JSON list of { host?, match }");
  return parsed as Fault[];
}

/** A runner that fails the commands the faults match, and runs the rest. */
export class FaultRunner implements Runner {
  private readonly patterns: RegExp[];
  constructor(private readonly inner: Runner, faults: readonly Fault[]) {
    this.patterns = faults.filter((f) => !f.host || f.host === inner.hostId).map((f) => new RegExp(f.match));
  }
  get hostId(): string {
    return this.inner.hostId;
  }
  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const line = argv.join(" ");
    if (this.patterns.some((p) => p.test(line))) return { stdout: "", stderr: `injected fault (HOSTNET_TEST_FAULTS) for: ${line}`, exitCode: 1 };
    return this.inner.run(argv, opts);
  }
  hold(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held> {
    if (!this.inner.hold) throw new Error("the underlying runner cannot hold a command");
    return this.inner.hold(argv, timeoutMs, onNote);
  }
}
