/** Ownership marks: the link alias `hostnet:<id>` on every link we create or adopt. */

/** Prefix of every alias we set. */
export const OWNER_PREFIX = "hostnet:";

/** The alias that marks a link as owned by the resource with this ID. */
export function ownerAlias(id: string): string {
  return `${OWNER_PREFIX}${id}`;
}

/** The ID of a bridge: host identity plus name. */
export function linkId(hostId: string, kind: string, name: string): string {
  return `${hostId}/${kind}/${name}`;
}
