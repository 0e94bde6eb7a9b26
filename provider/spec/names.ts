/** Stable generated names: veth names within the 15-character limit and Pulumi resource names derived from the spec. Pure. */
import { createHash } from "node:crypto";

const hash = (parts: readonly string[], n: number) => createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, n);

/** Host-side and container-side veth names of a container interface: `hn` + 7 hex (+ `c`), stable for (host, container, ifname). */
export function vethNames(host: string, container: string, ifname: string): { name: string; peerName: string } {
  const h = hash([host, container, ifname], 7);
  return { name: `hn${h}`, peerName: `hn${h}c` };
}

/** Veth names of a point-to-point link, stable for its two ends. */
export function linkVethNames(host: string, a: string, aIf: string, b: string, bIf: string): { name: string; peerName: string } {
  const h = hash([host, "link", a, aIf, b, bIf], 7);
  return { name: `hl${h}a`, peerName: `hl${h}b` };
}
