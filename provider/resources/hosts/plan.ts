/** Pure logic of the `HostsEntries` resource: validation and the block's mark. */
import * as ipaddr from "ipaddr.js";
import { ValidationError } from "../../host/errors";
import { ConnectionSpec, checkConnection, isHostName } from "../../host/connection";
import { checkContainerName } from "../../linux/names";
import { Owner, markOf, ownerFromInput } from "../common/owner";
import { HostsInputs } from "./args";

/** Validates raw inputs and returns them normalised (addresses in canonical form). */
export function normalizeHosts(raw: Record<string, unknown>): HostsInputs {
  const connection = checkConnection(raw.connection) as ConnectionSpec;
  const c = raw.container as Record<string, unknown> | undefined;
  if (!c || typeof c !== "object" || typeof c.docker !== "string" || Object.keys(c).length !== 1) {
    throw new ValidationError("container", "expected { docker: NAME }: HostsEntries writes the hosts file that Docker mounts into a container");
  }
  const docker = checkContainerName(c.docker, "container.docker");
  if (!Array.isArray(raw.entries)) throw new ValidationError("entries", "expected a list of { address, names }");
  const entries = raw.entries.map((e: unknown, i) => {
    const r = (e ?? {}) as Record<string, unknown>;
    if (typeof r.address !== "string" || !ipaddr.isValid(r.address)) throw new ValidationError(`entries[${i}].address`, `expected an IPv4 or IPv6 address, got ${JSON.stringify(r.address)}`);
    if (!Array.isArray(r.names) || r.names.length === 0) throw new ValidationError(`entries[${i}].names`, "expected at least one host name");
    const names = r.names.map((n: unknown, j) => {
      if (!isHostName(n) || ipaddr.isValid(n as string)) throw new ValidationError(`entries[${i}].names[${j}]`, `expected a host name (letters, digits, '-', '_', '.'), got ${JSON.stringify(n)}`);
      return n as string;
    });
    return { address: ipaddr.parse(r.address).toString(), names };
  });
  const out: HostsInputs = { connection, container: { docker }, entries };
  if (raw.owner !== undefined) out.owner = ownerFromInput(raw.owner).label;
  return out;
}

/** The mark on our block in one container's hosts file. */
export function hostsMark(owner: Owner, container: string): string {
  return markOf(owner, `hosts/${container}`, 200);
}
