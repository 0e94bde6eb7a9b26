/** Which resources of a stack's state a spec no longer declares: what an `up` would delete. */

/** The type prefix of every pulumi-hostnet resource in a state file (`pulumi-nodejs:dynamic/hostnet:Bridge`, …). */
export const HOSTNET_TYPE_PREFIX = "pulumi-nodejs:dynamic/hostnet:";

/** A resource as exported in a stack's deployment (the fields used here). */
export interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly custom?: boolean;
}

/** The name part of a URN (`urn:pulumi:dev::proj::a$b::h0.bridge.br0` → `h0.bridge.br0`). */
export function urnName(urn: string): string {
  return urn.split("::").at(-1) ?? urn;
}

/**
 * The URNs of hostnet resources in `state` whose names are not in `declared`:
 * they left the spec (removed or renamed), so the engine deletes them at the
 * end of an `up`. `hostnet up` applies everything else first and deletes
 * these only when that succeeded, so a failed successor never costs the
 * working predecessor.
 */
export function removedFromSpec(state: readonly StateResource[], declared: ReadonlySet<string>): string[] {
  return state.filter((r) => r.custom === true && r.type.startsWith(HOSTNET_TYPE_PREFIX) && !declared.has(urnName(r.urn))).map((r) => r.urn);
}
