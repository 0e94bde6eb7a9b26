/** A recording runner for provider tests: records every argv and answers from a script. */
import { RunOptions, RunResult, Runner } from "../../provider/host/runner";

/** Answers one command: return a result, or undefined to fall through to the next handler. */
export type Handler = (argv: readonly string[]) => RunResult | undefined;

/** Records calls; answers with the first handler that matches, else exit 0 with no output. */
export class RecordingRunner implements Runner {
  readonly calls: string[][] = [];
  /** The stdin of each call (undefined when none), index for index with {@link calls}. */
  readonly stdins: (string | undefined)[] = [];
  private handlers: Handler[] = [];
  constructor(readonly hostId = "node1:22") {}

  /** Adds a handler (checked in the order added). */
  on(handler: Handler): this {
    this.handlers.push(handler);
    return this;
  }

  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    this.stdins.push(opts?.stdin);
    const batch = readBatch(argv, opts?.stdin);
    if (batch) return this.answerBatch(batch.prefix, batch.lines);
    return this.answer(argv);
  }

  private answer(argv: readonly string[]): RunResult {
    for (const h of this.handlers) {
      const r = h(argv);
      if (r) return r;
    }
    return { stdout: "", stderr: "", exitCode: 0 };
  }

  /**
   * A read batch (`ip -j -d -batch -`) answered as `ip` does: each line as the
   * command it stands for (`route show …` as `ip -j -4 route show …`;
   * `route show table all` as the main table's routes of both families, each
   * named `table: main`, from `ip -j -4|-6 route show table main`; the rest as
   * `ip -j -d …`), one JSON value per line, stopping at the first that fails
   * ("Command failed -:N").
   */
  private answerBatch(prefix: readonly string[], lines: readonly string[][]): RunResult {
    const out: string[] = [];
    for (const [i, line] of lines.entries()) {
      const r = line.join(" ") === "route show table all" ? this.bothFamilies(prefix) : this.answer([...prefix, "ip", "-j", ...(line[0] === "route" ? ["-4"] : ["-d"]), ...line]);
      if (r.exitCode !== 0) return { stdout: out.map((l) => l + "\n").join(""), stderr: `${r.stderr}\nCommand failed -:${i + 1}`, exitCode: 1 };
      out.push(r.stdout.trim() === "" ? "[]" : r.stdout.trim());
    }
    return { stdout: out.map((l) => l + "\n").join(""), stderr: "", exitCode: 0 };
  }

  /** The routes of both families' main tables as `ip -j route show table all` lists them. */
  private bothFamilies(prefix: readonly string[]): RunResult {
    const routes: unknown[] = [];
    for (const family of ["-4", "-6"]) {
      const r = this.answer([...prefix, "ip", "-j", family, "route", "show", "table", "main"]);
      if (r.exitCode !== 0) return r;
      if (r.stdout.trim() !== "") routes.push(...(JSON.parse(r.stdout) as object[]).map((x) => ({ ...x, table: "main" })));
    }
    return { stdout: JSON.stringify(routes), stderr: "", exitCode: 0 };
  }

  /** The recorded calls, each joined with spaces (for readable assertions). */
  lines(): string[] {
    return this.calls.map((c) => c.join(" "));
  }
}

/** Matches an argv exactly. */
export function when(argv: readonly string[], result: Partial<RunResult>): Handler {
  return (a) => (a.length === argv.length && a.every((x, i) => x === argv[i]) ? { stdout: "", stderr: "", exitCode: 0, ...result } : undefined);
}

/** The wrapper before `ip -j -d -batch -` (e.g. `nsenter …`) and the batch's lines, when `argv` is such a read batch. */
function readBatch(argv: readonly string[], stdin: string | undefined): { prefix: string[]; lines: string[][] } | undefined {
  const tail = ["ip", "-j", "-d", "-batch", "-"];
  const at = argv.length - tail.length;
  if (stdin === undefined || at < 0 || !tail.every((t, i) => argv[at + i] === t)) return undefined;
  const lines = stdin
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => (l.match(/"[^"]*"|\S+/g) ?? []).map((t) => t.replace(/^"(.*)"$/, "$1")));
  return { prefix: argv.slice(0, at), lines };
}
