/**
 * Where our links went when they left the host's namespace. A
 * ContainerAttachment that moves a veth end into a namespace records it on
 * the host (`/run/hostnet/moved/<hash of the link's mark>`: mark, namespace
 * path, namespace inode); a VethPair whose ends are not on the host looks
 * only there — never in namespaces that hold nothing of ours, never by
 * listing the host's containers. `/run` is emptied at boot, when every such
 * namespace is gone too.
 */
import { createHash } from "node:crypto";
import { Runner } from "../../host/runner";
import { LinkState } from "../../linux/parse";
import { readLinks } from "./links";
import { Step } from "./steps";

/** The directory of the records. */
export const MOVED_DIR = "/run/hostnet/moved";

/** The record file of the link carrying `alias`. */
export function movedRecordPath(alias: string): string {
  return `${MOVED_DIR}/${createHash("sha256").update(alias).digest("hex").slice(0, 32)}`;
}

/** One record: a link's mark, the namespace it was moved into, and that namespace's inode. */
export interface MovedRecord {
  readonly alias: string;
  readonly nsPath: string;
  readonly inode: string;
}

/** The record's text (one tab-separated line; none of the three can hold a tab or newline: marks and paths are validated, inodes are digits). */
export function recordText(r: MovedRecord): string {
  for (const v of [r.alias, r.nsPath, r.inode]) if (/[\t\n]/.test(v)) throw new Error(`a moved-link record cannot hold ${JSON.stringify(v)}`);
  if (!/^[0-9]+$/.test(r.inode)) throw new Error(`not a namespace inode: ${JSON.stringify(r.inode)}`);
  return `${r.alias}\t${r.nsPath}\t${r.inode}\n`;
}

/** Parses the concatenated records (`cat` of several files); malformed lines are skipped. */
export function parseRecords(text: string): MovedRecord[] {
  const out: MovedRecord[] = [];
  for (const line of text.split("\n")) {
    const [alias, nsPath, inode, extra] = line.split("\t");
    if (extra === undefined && alias && nsPath?.startsWith("/") && /^[0-9]+$/.test(inode ?? "")) out.push({ alias, nsPath, inode });
  }
  return out;
}

/**
 * The script that writes a record from stdin: a pair's delete running at the
 * same time may remove the directory once it is empty, between our `mkdir`
 * and the file's creation, so it tries again (a failed redirection reads
 * nothing of stdin).
 */
export const WRITE_RECORD_SCRIPT = 'for _ in 1 2 3 4 5; do mkdir -p -m 0700 "$1" && cat > "$2" 2>/dev/null && exit 0; done; mkdir -p -m 0700 "$1" && cat > "$2"';

/** argv that writes a record (its text on stdin). */
export function writeRecordArgv(alias: string): string[] {
  return ["sh", "-c", WRITE_RECORD_SCRIPT, "sh", MOVED_DIR, movedRecordPath(alias)];
}

/** argv that removes the records of `aliases` (and the directories once empty). */
export function removeRecordsArgv(aliases: readonly string[]): string[] {
  return ["sh", "-c", 'rm -f -- "$@"; rmdir "$0" /run/hostnet 2>/dev/null; true', MOVED_DIR, ...aliases.map(movedRecordPath)];
}

/** The transaction step that records a move (undo: remove the record). */
export function recordMoveStep(r: MovedRecord): Step {
  return { description: `record that ${r.alias.split(" ")[0]} is in ${r.nsPath}`, argv: writeRecordArgv(r.alias), stdin: recordText(r), undo: [removeRecordsArgv([r.alias])] };
}

/** The records of `aliases` present on the host (one `cat`). */
export async function readRecords(runner: Runner, aliases: readonly string[]): Promise<MovedRecord[]> {
  if (aliases.length === 0) return [];
  const res = await runner.run(["cat", ...aliases.map(movedRecordPath)]);
  return parseRecords(res.stdout).filter((r) => aliases.includes(r.alias));
}

/** The inodes of the namespaces at `paths` that still exist (one `stat`; paths hold no spaces or newlines). */
async function inodesOf(runner: Runner, paths: readonly string[]): Promise<Map<string, string>> {
  if (paths.length === 0) return new Map();
  const res = await runner.run(["stat", "-L", "-c", "%i %n", ...paths]);
  return new Map(res.stdout.split("\n").filter(Boolean).map((l) => [l.slice(l.indexOf(" ") + 1), l.slice(0, l.indexOf(" "))]));
}

/** The records of `aliases` and the inodes their namespaces have now (one `cat`, one `stat`). */
async function recordedNamespaces(runner: Runner, aliases: readonly string[]): Promise<{ records: MovedRecord[]; inodes: Map<string, string> }> {
  const records = await readRecords(runner, aliases);
  return { records, inodes: await inodesOf(runner, records.map((r) => r.nsPath)) };
}

/** Whether every recorded namespace is gone (its path missing or now another namespace); false when there is no record. Pure. */
export function allRecordedGone(records: readonly MovedRecord[], inodes: ReadonlyMap<string, string>): boolean {
  return records.length > 0 && records.every((r) => inodes.get(r.nsPath) !== r.inode);
}

/**
 * Whether the link carrying one of `aliases` was moved (by our records) only
 * into namespaces that no longer exist — a restarted or removed container's:
 * the link went, or is going, with that namespace (the kernel tears a dead
 * namespace down asynchronously, so its veth's host end can outlive it for
 * seconds). One `cat` and one `stat`; no namespace is entered.
 */
export async function movedIntoGoneNamespace(runner: Runner, aliases: readonly string[]): Promise<boolean> {
  const { records, inodes } = await recordedNamespaces(runner, aliases);
  return allRecordedGone(records, inodes);
}

/**
 * A link carrying one of `aliases` in a namespace our records name, entered
 * only when that path is still the recorded namespace (same inode: a reused
 * pid of someone else's container is not entered).
 */
export async function findMovedLink(runner: Runner, aliases: readonly string[]): Promise<{ nsPath: string; link: LinkState } | undefined> {
  const { records, inodes } = await recordedNamespaces(runner, aliases);
  for (const r of records) {
    if (inodes.get(r.nsPath) !== r.inode) continue;
    const link = (await readLinks(runner, r.nsPath).catch(() => [] as LinkState[])).find((l) => aliases.includes(l.alias));
    if (link) return { nsPath: r.nsPath, link };
  }
  return undefined;
}
