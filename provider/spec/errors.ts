/** Errors of a spec file, each placed at file:line:column. */
import { HostnetError } from "../host/errors";

/** One problem in a spec file. */
export interface SpecProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Where in the data, e.g. `bridges[0].mtu`. */
  readonly path: string;
  readonly message: string;
}

/** Formats a problem as `file:line:column: path: message`. */
export function formatProblem(p: SpecProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path || "(top)"}: ${p.message}`;
}

/** All problems of a spec file, found before any host is contacted. */
export class SpecError extends HostnetError {
  readonly problems: readonly SpecProblem[];
  constructor(problems: SpecProblem[]) {
    super(`${problems.length} problem(s) in the spec:\n${problems.map(formatProblem).join("\n")}`);
    this.problems = problems;
  }
}
