/** Transactional apply: run planned steps in order and undo the completed ones in reverse when one fails. */
import { CommandError, HostnetError } from "../../host/errors";
import { Runner } from "../../host/runner";

/** One planned change: a command and the command(s) that take it back. */
export interface Step {
  /** What the step does, for messages and previews ("set mtu 1400"). */
  readonly description: string;
  readonly argv: readonly string[];
  /** Commands that revert this step, run in order when a later step fails. */
  readonly undo: readonly (readonly string[])[];
}

/** A step failed; the completed steps were undone (see {@link undoErrors}). */
export class StepError extends HostnetError {
  readonly step: number;
  readonly total: number;
  override readonly cause: CommandError;
  /** Undo commands that failed themselves (the host may need a look). */
  readonly undoErrors: readonly CommandError[];
  constructor(subject: string, step: number, total: number, cause: CommandError, undone: number, undoErrors: CommandError[]) {
    const undoText = undoErrors.length === 0 ? `undid ${undone} completed step(s)` : `undo left ${undoErrors.length} problem(s): ${undoErrors.map((e) => e.message).join("; ")}`;
    super(`${subject}: step ${step}/${total} (${cause.argv.join(" ")}) failed on ${cause.host} with exit code ${cause.exitCode}: ${cause.stderr.trim() || "(no stderr)"}; ${undoText}`, { cause });
    this.step = step;
    this.total = total;
    this.cause = cause;
    this.undoErrors = undoErrors;
  }
}

/** Runs the steps; on the first failure replays the undos of the completed steps in reverse order, then throws {@link StepError}. */
export async function runSteps(runner: Runner, subject: string, steps: readonly Step[]): Promise<void> {
  const done: Step[] = [];
  for (const [i, step] of steps.entries()) {
    const res = await runner.run(step.argv);
    if (res.exitCode === 0) {
      done.push(step);
      continue;
    }
    const cause = new CommandError({ host: runner.hostId, argv: step.argv, exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr });
    const undoErrors: CommandError[] = [];
    for (const prev of [...done].reverse()) {
      for (const argv of prev.undo) {
        const u = await runner.run(argv);
        if (u.exitCode !== 0) undoErrors.push(new CommandError({ host: runner.hostId, argv, exitCode: u.exitCode, stdout: u.stdout, stderr: u.stderr, context: "undo" }));
      }
    }
    throw new StepError(subject, i + 1, steps.length, cause, done.length, undoErrors);
  }
}
