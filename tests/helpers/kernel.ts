/** Kernel state snapshots of a test host, for "left as it was" assertions. */
import { TestHost } from "./testhost";

/**
 * `ip -j link` and `ip -j addr` of a host, for equality checks. Only the
 * `tentative` mark of IPv6 addresses (duplicate address detection still
 * running, a matter of timing) is dropped; ip prints no counters without -s.
 */
export async function linkAndAddrSnapshot(host: TestHost): Promise<{ link: unknown; addr: unknown }> {
  const link = JSON.parse(await host.exec(["ip", "-j", "link", "show"]));
  const addr = JSON.parse(await host.exec(["ip", "-j", "addr", "show"])) as { addr_info?: Record<string, unknown>[] }[];
  for (const l of addr) for (const a of l.addr_info ?? []) delete a.tentative;
  return { link, addr };
}

/** One link of a host via `ip -j -d addr show dev NAME`, or undefined when absent. */
export async function linkOf(host: TestHost, name: string): Promise<Record<string, unknown> | undefined> {
  const links = JSON.parse(await host.exec(["ip", "-j", "-d", "addr", "show"])) as Record<string, unknown>[];
  return links.find((l) => l.ifname === name);
}

/** Global addresses of a link as `a/len`, sorted. */
export function globalAddrs(link: Record<string, unknown> | undefined): string[] {
  const info = (link?.addr_info ?? []) as { local: string; prefixlen: number; scope: string }[];
  return info.filter((a) => a.scope === "global").map((a) => `${a.local}/${a.prefixlen}`).sort();
}
