/** Maps a data path in a YAML document to line and column, through the parser's node ranges. */
import { Document, LineCounter, isMap, isPair, isScalar, isSeq } from "yaml";

/** A path into the data: keys and indexes. */
export type DataPath = readonly (string | number)[];

/** `bridges[0].mtu` style text of a path. */
export function pathText(path: DataPath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** Line and column (1-based) of the node at `path` (or of its key with `atKey`); the deepest existing node when the path runs out. */
export function locate(doc: Document, lines: LineCounter, path: DataPath, atKey = false): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
  for (const [i, seg] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      // A problem with a whole block (a map or list value) is shown at its key, where a reader looks for it.
      const block = isMap(pair.value) || isSeq(pair.value);
      const target = last && (atKey || block) ? pair.key : (pair.value ?? pair.key);
      node = target;
      const r = (target as { range?: [number, number, number] } | null)?.range;
      if (r) offset = r[0];
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (!item) break;
      node = item;
      const r = (item as { range?: [number, number, number] }).range;
      if (r) offset = r[0];
    } else break;
  }
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}
