/** Reading links and routes of a host or of a namespace on it (query apart from parse). */
import { CommandError } from "../../host/errors";
import { Command, RunResult, Runner, runInOrder } from "../../host/runner";
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
async function reads(runner: Runner, commands: readonly Command[]): Promise<RunResult[]> {
  const seq = await runInOrder(runner, commands, { all: true });
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

/** The routes of a namespace's main table: IPv4 only, or both families (`table all` lists every table, each route naming its own). */
const routeLine = (ipv6: boolean) => ["route", "show", "table", ipv6 ? "all" : "main"];

/** IPv4 and IPv6 routes of the main table (of the namespace at `nsPath`), in one `ip` process. */
export async function readRoutes(runner: Runner, nsPath?: string): Promise<RouteState[]> {
  const b = ip.ipJsonBatch([routeLine(true)]);
  const argv = wrap(nsPath, b.argv);
  const res = await runner.run(argv, { stdin: b.stdin });
  if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv, ...res, context: "read routes" });
  return parseRoutes(res.stdout);
}

/** What {@link linkAndRoutesReads} reads: one link inside (undefined when absent), the namespace's routes, and one host link when asked. */
export interface LinkAndRoutes {
  readonly link: LinkState | undefined;
  readonly routes: RouteState[];
  readonly hostLink?: LinkState;
}

/**
 * Reads inside a namespace in one `ip` process: the routes of the main table
 * (IPv4 only, or both families with `ipv6`), then `links` (one link by name,
 * or all), as one `ip -j -d -batch`.
 */
function insideBatch(nsPath: string, links: string | "all", ipv6: boolean): { command: Command; parse(runner: Runner, res: RunResult): { routes: RouteState[]; links: LinkState[] | undefined } } {
  const b = ip.ipJsonBatch([routeLine(ipv6), links === "all" ? ["addr", "show"] : ["addr", "show", "dev", links]]);
  const command = { argv: inNetns(nsPath, b.argv), stdin: b.stdin };
  return {
    command,
    parse: (runner, res) => {
      const fail = (what: string) => new CommandError({ host: runner.hostId, argv: command.argv, ...res, context: what });
      let values: unknown[];
      try {
        values = ip.jsonLines(res.stdout);
      } catch {
        throw fail("read links and routes (unreadable output)");
      }
      if (values.length === 0) throw fail("read routes");
      const routes = parseRoutes(JSON.stringify(values[0]));
      if (res.exitCode === 0 && values.length === 2) return { routes, links: parseLinks(JSON.stringify(values[1])) };
      // The batch stopped at the link: absent (a name that does not exist), or a failure to report.
      if (links !== "all" && /does not exist|Cannot find device/i.test(res.stderr)) return { routes, links: undefined };
      throw fail(`read ${links === "all" ? "links" : links}`);
    },
  };
}

/**
 * The reads of one link by name and the routes of the namespace at `nsPath`
 * (plus one host link by name), and how to parse their results: to run on
 * their own, or after a transaction's steps in the same round trip. Without
 * `ipv6` the IPv6 routes are not read (a check of a link just made with no
 * IPv6 configuration, which cannot have any of ours).
 */
export function linkAndRoutesReads(runner: Runner, name: string, nsPath: string, hostLink?: string, ipv6 = true): { commands: Command[]; parse(results: readonly RunResult[]): LinkAndRoutes } {
  const inside = insideBatch(nsPath, name, ipv6);
  const hostArgv = hostLink ? [ip.ipAddrShowDev(hostLink)] : [];
  return {
    commands: [inside.command, ...hostArgv.map((argv) => ({ argv }))],
    parse: (results) => {
      const [b, ...rest] = results;
      const read = inside.parse(runner, b);
      const out = { link: read.links?.[0], routes: read.routes };
      const host = hostLink ? linkOf(runner, hostArgv[0], rest[0], hostLink) : undefined;
      return host ? { ...out, hostLink: host } : out;
    },
  };
}

/** One link by name (undefined when absent) and the routes of the namespace at `nsPath` (and one host link), in one round trip. */
export async function readLinkAndRoutes(runner: Runner, name: string, nsPath: string, hostLink?: string): Promise<LinkAndRoutes> {
  const r = linkAndRoutesReads(runner, name, nsPath, hostLink);
  return r.parse(await reads(runner, r.commands));
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
export function namespaceAndHostLinkReads(runner: Runner, nsPath: string, hostLink: string): { commands: Command[]; parse(results: readonly RunResult[]): NamespaceAndHostLink } {
  const inside = namespaceReads(runner, nsPath);
  const hostArgv = ip.ipAddrShowDev(hostLink);
  return {
    commands: [...inside.commands, { argv: hostArgv }],
    parse: (results) => ({ ...inside.parse(results.slice(0, inside.commands.length)), hostLink: linkOf(runner, hostArgv, results[inside.commands.length], hostLink) }),
  };
}

/** The reads of every link and the routes (both families) of the namespace at `nsPath` (one command), and how to parse their results. */
export function namespaceReads(runner: Runner, nsPath: string): { commands: Command[]; parse(results: readonly RunResult[]): { links: LinkState[]; routes: RouteState[] } } {
  const inside = insideBatch(nsPath, "all", true);
  return {
    commands: [inside.command],
    parse: ([b]) => {
      const read = inside.parse(runner, b);
      return { links: read.links ?? [], routes: read.routes };
    },
  };
}

/** Every link and the routes of the namespace at `nsPath`, and one link of the host by name (undefined when absent), in one round trip. */
export async function readNamespaceAndHostLink(runner: Runner, nsPath: string, hostLink: string): Promise<NamespaceAndHostLink> {
  const r = namespaceAndHostLinkReads(runner, nsPath, hostLink);
  return r.parse(await reads(runner, r.commands));
}
