/** Reading links and routes of a host or of a namespace on it (query apart from parse). */
import { CommandError } from "../../host/errors";
import { Runner } from "../../host/runner";
import * as ip from "../../linux/ip";
import { inNetns } from "../../linux/netns";
import { LinkState, RouteState, parseLinks, parseRoutes } from "../../linux/parse";

const wrap = (nsPath: string | undefined, argv: string[]) => (nsPath ? inNetns(nsPath, argv) : argv);

/** One link by name (in the namespace at `nsPath`, default the host's), or undefined when absent. */
export async function readLink(runner: Runner, name: string, nsPath?: string): Promise<LinkState | undefined> {
  const argv = wrap(nsPath, ip.ipAddrShowDev(name));
  const res = await runner.run(argv);
  if (res.exitCode !== 0) {
    if (/does not exist|Cannot find device/i.test(res.stderr)) return undefined;
    throw new CommandError({ host: runner.hostId, argv, ...res, context: `read ${name}` });
  }
  return parseLinks(res.stdout)[0];
}

/** Every link of the host (or of the namespace at `nsPath`). */
export async function readLinks(runner: Runner, nsPath?: string): Promise<LinkState[]> {
  const argv = wrap(nsPath, ip.ipAddrShowAll());
  const res = await runner.run(argv);
  if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv, ...res, context: "read links" });
  return parseLinks(res.stdout);
}

/** IPv4 and IPv6 routes of the main table (of the namespace at `nsPath`). */
export async function readRoutes(runner: Runner, nsPath?: string): Promise<RouteState[]> {
  const out: RouteState[] = [];
  for (const family of [4, 6] as const) {
    const argv = wrap(nsPath, ip.ipRouteShow(family));
    const res = await runner.run(argv);
    if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv, ...res, context: "read routes" });
    out.push(...parseRoutes(res.stdout));
  }
  return out;
}
