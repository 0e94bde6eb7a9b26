/** A recording runner for provider tests: records every argv and answers from a script. */
import { RunOptions, RunResult, Runner } from "../../provider/host/runner";

/** Answers one command: return a result, or undefined to fall through to the next handler. */
export type Handler = (argv: readonly string[]) => RunResult | undefined;

/** Records calls; answers with the first handler that matches, else exit 0 with no output. */
export class RecordingRunner implements Runner {
  readonly calls: string[][] = [];
  private handlers: Handler[] = [];
  constructor(readonly hostId = "node1:22") {}

  /** Adds a handler (checked in the order added). */
  on(handler: Handler): this {
    this.handlers.push(handler);
    return this;
  }

  async run(argv: readonly string[], _opts?: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    for (const h of this.handlers) {
      const r = h(argv);
      if (r) return r;
    }
    return { stdout: "", stderr: "", exitCode: 0 };
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
