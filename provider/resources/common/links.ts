/** Reading links and routes of a host or of a namespace on it (query apart from parse). */
import { CommandError } from "../../host/errors";
import { RunResult, Runner, runInOrder } from "../../host/runner";
import * as ip from "../../linux/ip";
import { inNetns } from "../../linux/netns";
import { LinkState, RouteState, parseLinks, parseRoutes } from "../../linux/parse";

const wrap = (nsPath: string | undefined, argv: string[]) => (nsPath ? inNetns(nsPath, argv) : argv);

/** The link in a `ip -j -d addr show dev` result, undefined when the device does not exist. */
function linkOf(runner: Runner, argv: readonly string[], res: RunResult, name: string): LinkState | undefined {
  if (res.exitCode !== 0) {
    if (/does not exist|Cannot find device/i.test(res.stderr)) return undefined;
    throw new CommandError({ host: runner.hostId, argv, ...res, context: `read ${name}` });
  }
  return parseLinks(res.stdout)[0];
}

/** Runs reads in one round trip (each runs whatever the others return); a lost connection throws. */
async function reads(runner: Runner, argvs: readonly (readonly string[])[]): Promise<RunResult[]> {
  const seq = await runInOrder(runner, argvs.map((argv) => ({ argv })), { all: true });
  if (seq.error) throw seq.error;
  return seq.results;
}

/** One link by name (in the namespace at `nsPath`, default the host's), or undefined when absent. */
export async function readLink(runner: Runner, name: string, nsPath?: string): Promise<LinkState | undefined> {
  const argv = wrap(nsPath, ip.ipAddrShowDev(name));
  return linkOf(runner, argv, await runner.run(argv), name);
}

/** Every link of the host (or of the namespace at `nsPath`). */
export async function readLinks(runner: Runner, nsPath?: string): Promise<LinkState[]> {
  const argv = wrap(nsPath, ip.ipAddrShowAll());
  const res = await runner.run(argv);
  if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv, ...res, context: "read links" });
  return parseLinks(res.stdout);
}

const routeArgvs = (nsPath: string | undefined) => ([4, 6] as const).map((family) => wrap(nsPath, ip.ipRouteShow(family)));

function routesOf(runner: Runner, argvs: readonly (readonly string[])[], results: readonly RunResult[]): RouteState[] {
  const out: RouteState[] = [];
  results.forEach((res, i) => {
    if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv: argvs[i], ...res, context: "read routes" });
    out.push(...parseRoutes(res.stdout));
  });
  return out;
}

/** IPv4 and IPv6 routes of the main table (of the namespace at `nsPath`), in one round trip. */
export async function readRoutes(runner: Runner, nsPath?: string): Promise<RouteState[]> {
  const argvs = routeArgvs(nsPath);
  return routesOf(runner, argvs, await reads(runner, argvs));
}

/** What {@link linkAndRoutesReads} reads: one link inside (undefined when absent), the namespace's routes, and one host link when asked. */
export interface LinkAndRoutes {
  readonly link: LinkState | undefined;
  readonly routes: RouteState[];
  readonly hostLink?: LinkState;
}

/**
 * The reads of one link by name and the routes of the namespace at `nsPath`
 * (plus one host link by name), and how to parse their results: to run on
 * their own, or after a transaction's steps in the same round trip.
 */
export function linkAndRoutesReads(runner: Runner, name: string, nsPath: string, hostLink?: string): { argvs: string[][]; parse(results: readonly RunResult[]): LinkAndRoutes } {
  const linkArgv = wrap(nsPath, ip.ipAddrShowDev(name));
  const routeCmds = routeArgvs(nsPath);
  const hostArgv = hostLink ? [ip.ipAddrShowDev(hostLink)] : [];
  return {
    argvs: [linkArgv, ...routeCmds, ...hostArgv],
    parse: ([l, r4, r6, h]) => {
      const out = { link: linkOf(runner, linkArgv, l, name), routes: routesOf(runner, routeCmds, [r4, r6]) };
      const host = hostLink ? linkOf(runner, hostArgv[0], h, hostLink) : undefined;
      return host ? { ...out, hostLink: host } : out;
    },
  };
}

/** One link by name (undefined when absent) and the routes of the namespace at `nsPath` (and one host link), in one round trip. */
export async function readLinkAndRoutes(runner: Runner, name: string, nsPath: string, hostLink?: string): Promise<LinkAndRoutes> {
  const r = linkAndRoutesReads(runner, name, nsPath, hostLink);
  return r.parse(await reads(runner, r.argvs));
}

/** What {@link namespaceAndHostLinkReads} reads: every link and the routes of a namespace, and one host link (undefined when absent). */
export interface NamespaceAndHostLink {
  readonly links: LinkState[];
  readonly routes: RouteState[];
  readonly hostLink: LinkState | undefined;
}

/**
 * The reads of every link and the routes of the namespace at `nsPath` and of
 * one host link by name, and how to parse their results: to run on their
 * own, or along with other commands in the same round trip.
 */
export function namespaceAndHostLinkReads(runner: Runner, nsPath: string, hostLink: string): { argvs: string[][]; parse(results: readonly RunResult[]): NamespaceAndHostLink } {
  const allArgv = wrap(nsPath, ip.ipAddrShowAll());
  const hostArgv = ip.ipAddrShowDev(hostLink);
  const routeCmds = routeArgvs(nsPath);
  return {
    argvs: [allArgv, hostArgv, ...routeCmds],
    parse: ([a, h, ...r]) => {
      if (a.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv: allArgv, ...a, context: "read links" });
      return { links: parseLinks(a.stdout), routes: routesOf(runner, routeCmds, r), hostLink: linkOf(runner, hostArgv, h, hostLink) };
    },
  };
}

/** Every link and the routes of the namespace at `nsPath`, and one link of the host by name (undefined when absent), in one round trip. */
export async function readNamespaceAndHostLink(runner: Runner, nsPath: string, hostLink: string): Promise<NamespaceAndHostLink> {
  const r = namespaceAndHostLinkReads(runner, nsPath, hostLink);
  return r.parse(await reads(runner, r.argvs));
}
