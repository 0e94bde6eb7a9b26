/**
 * Ownership marks, per stack. Every object we make carries a mark naming the
 * owning stack and the object:
 *
 *     hostnet:<owner hash>:<object> <stack label>
 *
 * e.g. `hostnet:3f2a9c1d:bridge/mybr0 demo/dev` as a link alias (≤ 64 chars)
 * or as an iptables/nft comment (≤ 256). The hash (8 hex digits of sha256 of
 * `project/stack`) decides ownership; the label is only there so an error can
 * name the other stack. Marks of 0.1 (`hostnet:<hostId>/<kind>/<name>`, no
 * owner) are still recognised: they count as this stack's own and are
 * rewritten to the new form on the next update. Pure.
 */
import { createHash } from "node:crypto";
import { ValidationError } from "../../host/errors";

/** Prefix of every mark we set. */
export const OWNER_PREFIX = "hostnet:";

/** Longest link alias we write (the kernel takes 255; `ip link` users expect short ones). */
export const MAX_ALIAS = 64;

/** The stack that owns what a resource makes. */
export interface Owner {
  /** 8 hex digits: sha256 of the label. */
  readonly hash: string;
  /** `project/stack`, for messages. */
  readonly label: string;
}

const LABEL = /^[A-Za-z0-9_.@/-]{1,200}$/;

/** Checks an owner label (`project/stack`) as the resource classes pass it. */
export function checkOwnerLabel(raw: unknown, field = "owner"): string {
  if (typeof raw !== "string" || !LABEL.test(raw)) throw new ValidationError(field, `expected project/stack of [A-Za-z0-9_.@/-], got ${JSON.stringify(raw)}`);
  return raw;
}

/** The owner for a `project/stack` label. */
export function ownerOf(label: string): Owner {
  return { hash: createHash("sha256").update(label).digest("hex").slice(0, 8), label };
}

/** Owner used when a provider is called without one (direct provider use and tests): never equal to a stack's. */
export const NO_OWNER: Owner = { hash: "00000000", label: "unknown" };

/** A mark for `object` (`bridge/mybr0`), with the label cut so the whole stays within `max` characters. */
export function markOf(owner: Owner, object: string, max = MAX_ALIAS): string {
  const head = `${OWNER_PREFIX}${owner.hash}:${object}`;
  const room = max - head.length - 1;
  return room >= 3 ? `${head} ${owner.label.slice(0, room)}` : head.slice(0, max);
}

/** The mark of a link (`bridge`, `veth`, `veth/peer` …). */
export function linkMark(owner: Owner, kind: string, name: string): string {
  return markOf(owner, `${kind}/${name}`);
}

/** The 0.1 mark of a link: `hostnet:<hostId>/<kind>/<name>`. */
export function legacyLinkMark(hostId: string, kind: string, name: string): string {
  return `${OWNER_PREFIX}${hostId}/${kind}/${name}`;
}

/** The ID of a link resource: host identity plus kind and name (unchanged since 0.1). */
export function linkId(hostId: string, kind: string, name: string): string {
  return `${hostId}/${kind}/${name}`;
}

/** A mark taken apart. `hash` is undefined for 0.1 marks. */
export interface ParsedMark {
  readonly hash?: string;
  readonly object: string;
  readonly label?: string;
}

const MARK = /^hostnet:([0-9a-f]{8}):(\S+)(?: (.*))?$/;

/** Parses a mark; undefined when the text is not one of ours at all. */
export function parseMark(text: string | undefined): ParsedMark | undefined {
  if (!text || !text.startsWith(OWNER_PREFIX)) return undefined;
  const m = MARK.exec(text);
  if (m) return { hash: m[1], object: m[2], ...(m[3] ? { label: m[3] } : {}) };
  return { object: text.slice(OWNER_PREFIX.length) };
}

/** True when `text` is a mark of this owner, or exactly one of `legacy` (0.1 marks of this object). */
export function isMine(text: string | undefined, owner: Owner, legacy: readonly string[] = []): boolean {
  if (!text) return false;
  if (legacy.includes(text)) return true;
  const p = parseMark(text);
  return p?.hash === owner.hash;
}

/** When `text` is another stack's mark, that stack's label (or hash); else undefined. */
export function otherOwner(text: string | undefined, owner: Owner): string | undefined {
  const p = parseMark(text);
  if (!p || !p.hash || p.hash === owner.hash) return undefined;
  return p.label ? `stack ${p.label}` : `stack ${p.hash}`;
}

/** The owner named by a resource's `owner` input (`project/stack`), or {@link NO_OWNER} when absent. */
export function ownerFromInput(raw: unknown): Owner {
  return raw === undefined || raw === null || raw === "" ? NO_OWNER : ownerOf(checkOwnerLabel(raw));
}
