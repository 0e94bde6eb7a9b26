/**
 * What a failed engine run reported, for one clean message: the automation
 * API's error carries the engine's whole output (already streamed to the
 * terminal), so the CLI prints only the `error:` diagnostics, one per
 * resource, once. Pure.
 */

/** One resource's error from the engine's Diagnostics section. */
export interface EngineError {
  /** The resource's name (`h1.web.eth0`), or the stack's. */
  readonly resource: string;
  readonly message: string;
}

/** Errors that only say that others happened. */
const GENERIC = /^(update|preview|refresh|destroy) failed$|^an unhandled error occurred: program failed/i;

/**
 * The `error:` diagnostics in `text` (a failed run's output or error
 * message), in order, each once; the stack's own "update failed" and the like
 * are left out when a resource said why.
 */
export function engineErrors(text: string): EngineError[] {
  const out: EngineError[] = [];
  const seen = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "Diagnostics:") continue;
    let resource = "";
    for (i++; i < lines.length; i++) {
      const line = lines[i];
      if (line.trim() === "") continue;
      if (!line.startsWith("  ")) break;
      const header = /^ {2}(\S+) \((.+)\):$/.exec(line);
      if (header) {
        resource = header[2];
        continue;
      }
      const err = /^ {4}error: (.*)$/.exec(line);
      if (!err) continue;
      // A failed check reads "<type> resource '<name>': property <p> value {<v>} has a problem: <why>": the resource is named already.
      let message = err[1].replace(/^\S+ resource '[^']*': property (\S+) value \{.*?\} has a problem: /, "$1: ");
      // A message continues on lines indented deeper than its `error:`.
      while (i + 1 < lines.length && /^ {5,}\S/.test(lines[i + 1])) message += "\n" + lines[++i].trim();
      const key = `${resource}\n${message}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ resource, message: message.trim() });
      }
    }
  }
  const specific = out.filter((e) => !GENERIC.test(e.message));
  return specific.length > 0 ? specific : out;
}

/** The CLI's message for a failed engine run from its {@link engineErrors}: one line per resource error, or undefined when there are none. */
export function failureMessage(command: string, errors: readonly EngineError[]): string | undefined {
  if (errors.length === 0) return undefined;
  return [`${command} failed:`, ...errors.map((e) => `  ${e.resource}: ${e.message.replace(/\n/g, "\n    ")}`), "(each error once: the engine's lines above say \"see below\"; --debug adds stack traces)"].join("\n");
}
