/**
 * Our block of entries in a container's `/etc/hosts` (Docker's `HostsPath`):
 *
 *     # >>> hostnet:3f2a9c1d:hosts/app demo/demo
 *     172.24.0.3	db
 *     # <<< hostnet:3f2a9c1d:hosts/app demo/demo
 *
 * appended at the end, one per owner and container; every other line is left
 * as it is, so removing the block gives back the file byte for byte (when
 * the file did not end with a newline, the block's first line says so and
 * the newline goes with it). Pure.
 */

/** One line of the block: an address and the names it answers to. */
export interface HostsEntry {
  readonly address: string;
  readonly names: readonly string[];
}

const BEGIN = "# >>> ";
const END = "# <<< ";
const ADDED_NEWLINE = " (+newline)";

/** The block for `mark` holding `entries` (each line ends with a newline). */
export function hostsBlock(mark: string, entries: readonly HostsEntry[], addedNewline = false): string {
  return [`${BEGIN}${mark}${addedNewline ? ADDED_NEWLINE : ""}`, ...entries.map((e) => `${e.address}\t${e.names.join(" ")}`), `${END}${mark}`].join("\n") + "\n";
}

/** Where the block of `mark` is in `text`: its start and end offsets and whether it added a newline; undefined when absent. */
function findBlock(text: string, mark: string): { start: number; end: number; addedNewline: boolean } | undefined {
  const lines = text.split("\n");
  let offset = 0;
  let start = -1;
  let addedNewline = false;
  for (const line of lines) {
    const next = offset + line.length + 1;
    if (start < 0 && (line === `${BEGIN}${mark}` || line === `${BEGIN}${mark}${ADDED_NEWLINE}`)) {
      start = offset;
      addedNewline = line.endsWith(ADDED_NEWLINE);
    } else if (start >= 0 && line === `${END}${mark}`) {
      return { start, end: Math.min(next, text.length), addedNewline };
    }
    offset = next;
  }
  return undefined;
}

/** The entries of our block in `text`, or undefined when there is none. */
export function entriesIn(text: string, mark: string): { address: string; names: string[] }[] | undefined {
  const b = findBlock(text, mark);
  if (!b) return undefined;
  const body = text.slice(b.start, b.end).split("\n").slice(1, -2);
  return body.filter((l) => l.trim() !== "").map((l) => {
    const [address, ...names] = l.trim().split(/\s+/);
    return { address, names };
  });
}

/** `text` without our block (byte-identical to the file before it was added). */
export function withoutBlock(text: string, mark: string): string {
  const b = findBlock(text, mark);
  if (!b) return text;
  const head = text.slice(0, b.start);
  const rest = text.slice(b.end);
  return (b.addedNewline && head.endsWith("\n") && rest === "" ? head.slice(0, -1) : head) + rest;
}

/** `text` with our block holding exactly `entries` (replacing an earlier one; appended at the end). */
export function withBlock(text: string, mark: string, entries: readonly HostsEntry[]): string {
  const base = withoutBlock(text, mark);
  const addedNewline = base !== "" && !base.endsWith("\n");
  return `${base}${addedNewline ? "\n" : ""}${hostsBlock(mark, entries, addedNewline)}`;
}
