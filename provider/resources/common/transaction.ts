/** A transaction across several planned phases: a failure in any phase undoes every step done so far, newest first. */
import { CommandError, ConnectionLostError, HostnetError } from "../../host/errors";
import { Command, RunResult, Runner, runInOrder } from "../../host/runner";
import { Step, StepError, asCommand } from "./steps";

/** What became of the `undone` steps done before a failure. */
function undoneText(undone: number, undoErrors: readonly CommandError[]): string {
  return undoErrors.length === 0 ? `the ${undone} earlier step(s) were undone` : `undoing the ${undone} earlier step(s) failed too (${undoErrors.length} undo command(s) could not run)`;
}

/** Runs phases of steps; keeps what was done so a later failure can undo it all. */
export class Transaction {
  private readonly done: Step[] = [];
  private count = 0;
  constructor(private readonly runner: Runner, private readonly subject: string) {}

  /**
   * Runs the steps in order, in one round trip where the runner can (a
   * sequence stops at the first failure); on failure undoes everything this
   * transaction did and throws {@link StepError}.
   */
  async run(steps: readonly Step[]): Promise<void> {
    await this.runAndRead(steps, []);
  }

  /**
   * Runs the steps as {@link run} does and, when they all succeeded, the
   * read-only `reads` after them in the same round trip (the verifying
   * re-read). Returns the reads' results, or undefined when they did not all
   * run and succeed (the caller reads again on its own).
   */
  async runAndRead(steps: readonly Step[], reads: readonly Command[]): Promise<RunResult[] | undefined> {
    const r = await this.probeRunAndRead(steps, 0, reads);
    return r === "refused" ? undefined : r;
  }

  /**
   * As {@link runAndRead}, where the first `probes` steps are ones that
   * change nothing when they fail (a guard, or a create the kernel refuses
   * whole because the name is taken): the failure of one of them is no error,
   * it undoes what the steps before it did and returns `refused`, for the
   * caller to read the host and plan from what is there.
   */
  async probeRunAndRead(steps: readonly Step[], probes: number, reads: readonly Command[]): Promise<RunResult[] | undefined | "refused"> {
    const base = this.count;
    this.count += steps.length;
    let seq;
    const commands = [...steps.map((st) => (st.stdin !== undefined ? { argv: st.argv, stdin: st.stdin } : { argv: st.argv })), ...reads];
    try {
      seq = await runInOrder(this.runner, commands);
    } catch (e) {
      seq = { results: [], error: e as Error };
    }
    const readResults = seq.results.slice(steps.length);
    // Once every step has a result, a lost connection only cost the reads.
    if (seq.results.length >= steps.length) seq = { results: seq.results.slice(0, steps.length) };
    for (const [i, res] of seq.results.entries()) {
      if (res.exitCode === 0) {
        this.done.push(steps[i]);
        continue;
      }
      const cause = new CommandError({ host: this.runner.hostId, argv: steps[i].argv, exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr });
      const undone = this.done.length;
      const undoErrors = await this.rollback();
      if (i < probes && undoErrors.length === 0) {
        this.count = base;
        return "refused";
      }
      throw new StepError(this.subject, base + i + 1, base + steps.length, cause, undone, undoErrors);
    }
    if (seq.error) {
      // Not a failed command but a failure to run one (lost lock, lost connection): take back what was done, then report it.
      const e = seq.error;
      const i = seq.results.length;
      const undone = this.done.length;
      const undoErrors = await this.rollback();
      if (e instanceof HostnetError) {
        // Name the resource and the step, and say what became of the steps before it.
        const undo = undone === 0 ? "no earlier step to undo" : undoneText(undone, undoErrors);
        const how = e instanceof ConnectionLostError ? "was cut off" : "did not run";
        throw new HostnetError(`${this.subject}: step ${base + i + 1} of ${base + steps.length} (${steps[i]?.description ?? "?"}) ${how}: ${e.message}; ${undo}`, { cause: e });
      }
      throw e;
    }
    return readResults.length === reads.length && readResults.every((r) => r.exitCode === 0) ? readResults : undefined;
  }

  /**
   * A read between two phases (the routes after the addresses changed): when
   * it fails, everything this transaction did is undone before the error
   * goes on, as for a failed step.
   */
  async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const undone = this.done.length;
      const undoErrors = await this.rollback();
      if (undone === 0) throw e;
      throw new HostnetError(`${this.subject}: ${what} failed: ${e instanceof Error ? e.message : String(e)}; ${undoneText(undone, undoErrors)}`, { cause: e });
    }
  }

  /** Undoes every completed step, newest first; returns the undo commands that failed. */
  async rollback(): Promise<CommandError[]> {
    const errors: CommandError[] = [];
    const runner = this.runner.forUndo?.() ?? this.runner;
    for (const prev of this.done.reverse()) {
      for (const undo of prev.undo) {
        const { argv, stdin } = asCommand(undo);
        const u = await runner.run(argv, stdin !== undefined ? { stdin } : undefined).catch((e: Error) => ({ exitCode: -1, stdout: "", stderr: e.message }));
        if (u.exitCode !== 0) errors.push(new CommandError({ host: this.runner.hostId, argv, exitCode: u.exitCode, stdout: u.stdout, stderr: u.stderr, context: "undo" }));
      }
    }
    this.done.length = 0;
    return errors;
  }
}

/** Runs one phase of steps as a transaction. */
export async function runSteps(runner: Runner, subject: string, steps: readonly Step[]): Promise<void> {
  await new Transaction(runner, subject).run(steps);
}
