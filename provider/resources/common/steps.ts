/** Planned steps (a command and its undo) and the error of a failed one. */
import { CommandError, HostnetError } from "../../host/errors";

/** A command with optional standard input (e.g. an iptables-restore script). */
export interface CommandWithInput {
  readonly argv: readonly string[];
  readonly stdin: string;
}

/** An undo command: an argv, or an argv with standard input. */
export type UndoCommand = readonly string[] | CommandWithInput;

/** One planned change: a command and the command(s) that take it back. */
export interface Step {
  /** What the step does, for messages and previews ("set mtu 1400"). */
  readonly description: string;
  readonly argv: readonly string[];
  /** Standard input of the command. */
  readonly stdin?: string;
  /** Commands that revert this step, run in order when a later step fails. */
  readonly undo: readonly UndoCommand[];
}

/** Splits an undo command into argv and stdin. */
export function asCommand(u: UndoCommand): { argv: readonly string[]; stdin?: string } {
  return "argv" in u && !Array.isArray(u) ? (u as CommandWithInput) : { argv: u as readonly string[] };
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
