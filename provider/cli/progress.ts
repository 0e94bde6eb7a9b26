/**
 * The engine's progress as `hostnet` streams it. The engine says each
 * resource's error twice (on the resource's live line and again under
 * `Diagnostics:`), and `hostnet` ends a failed run with its own summary of
 * the same errors (failure.ts), so a failure would be read three times. This
 * filter keeps the live line (shortened to "error: see below") and drops the
 * `error:` entries of the Diagnostics section; warnings and other
 * diagnostics pass unchanged. Pure apart from the `write` it is given.
 */

/** A resource's live line with its error: `    <type> <name> [creating (0s) | **creating failed** …] error: <message>`. */
const LIVE_ERROR = /^(\s*[+~-]?\s*\S+:\S+ \S+ .*?)error: .*$/;
/** A Diagnostics entry's header: `  <type> (<name>):`. */
const DIAG_HEADER = /^ {2}\S.* \(.+\):$/;
/** An error of a Diagnostics entry, and how its continuation lines are indented. */
const DIAG_ERROR = /^ {4}error: /;
const CONTINUATION = /^ {5,}\S/;

/** What the summary says instead of a live line's error. */
export const SEE_BELOW = "error: see below";

/**
 * A stream filter: give it the engine's output in chunks of any size; it
 * writes whole lines, filtered, to `write`. `end()` writes what is left.
 */
export function engineOutputFilter(write: (text: string) => void): { push(chunk: string): void; end(): void } {
  let partial = "";
  let inDiagnostics = false;
  let heldTitle = false;
  let heldHeader: string | undefined;
  let skipping = false;
  let shown = false;
  const emit = (line: string) => write(line + "\n");
  const line = (l: string) => {
    if (inDiagnostics) {
      if (skipping && CONTINUATION.test(l)) return;
      skipping = false;
      if (l.trim() === "") return;
      if (!l.startsWith("  ")) {
        inDiagnostics = false;
        if (shown) emit("");
      } else if (DIAG_HEADER.test(l)) {
        heldHeader = l;
        return;
      } else if (DIAG_ERROR.test(l)) {
        skipping = true;
        return;
      } else {
        if (heldTitle) emit("Diagnostics:");
        if (heldHeader !== undefined) emit(heldHeader);
        heldTitle = false;
        heldHeader = undefined;
        shown = true;
        emit(l);
        return;
      }
    }
    if (l.trim() === "Diagnostics:") {
      inDiagnostics = true;
      heldTitle = true;
      heldHeader = undefined;
      shown = false;
      return;
    }
    const live = LIVE_ERROR.exec(l);
    emit(live ? `${live[1]}${SEE_BELOW}` : l);
  };
  return {
    push(chunk: string) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const p of parts) line(p);
    },
    end() {
      if (partial !== "") line(partial);
      partial = "";
    },
  };
}
