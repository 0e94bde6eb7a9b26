/** A container's `hosts:` list resolved to `/etc/hosts` lines (shared by the semantic checks and the plan). Pure. */
import * as ipaddr from "ipaddr.js";
import { Spec } from "./types";

/** The first address (without prefix) the spec gives container `name` of `host`: its first interface's, else its first link end's. */
export function firstAddressOf(spec: Spec, host: string, name: string): string | undefined {
  const c = (spec.containers ?? []).find((x) => x.host === host && x.name === name);
  const fromInterfaces = (c?.interfaces ?? []).flatMap((i) => i.addresses ?? []);
  const fromLinks = (spec.links ?? []).filter((l) => l.host === host).flatMap((l) => [l.a, l.b]).filter((e) => e.container === name).flatMap((e) => e.addresses ?? []);
  const first = [...fromInterfaces, ...fromLinks][0];
  return first === undefined ? undefined : first.split("/")[0];
}

/** One resolved line: the address and its names. */
export interface ResolvedHostsEntry {
  readonly address: string;
  readonly names: string[];
}

/**
 * The lines for a `hosts:` list: a peer container by its spec name (its
 * first address), an alias by its address; names for the same address share
 * a line, in the order given. Entries that do not resolve are left out (the
 * semantic checks report them).
 */
export function hostsEntriesOf(spec: Spec, host: string, list: readonly (string | { name: string; address: string })[]): ResolvedHostsEntry[] {
  const out: ResolvedHostsEntry[] = [];
  for (const e of list) {
    const name = typeof e === "string" ? e : e.name;
    const raw = typeof e === "string" ? firstAddressOf(spec, host, e) : e.address;
    if (raw === undefined || !ipaddr.isValid(raw)) continue;
    const address = ipaddr.parse(raw).toString();
    const line = out.find((l) => l.address === address);
    if (line) line.names.push(name);
    else out.push({ address, names: [name] });
  }
  return out;
}
