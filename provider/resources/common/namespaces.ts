/** Finding our links when they have left the host's namespace (moved into containers or named namespaces). */
import { Runner } from "../../host/runner";
import { netnsPathOfName, netnsPathOfPid } from "../../linux/netns";
import { LinkState } from "../../linux/parse";
import { readLinks } from "./links";

/** Paths of the other network namespaces on the host: named ones and those of running Docker containers. */
export async function otherNamespaces(runner: Runner): Promise<string[]> {
  const paths: string[] = [];
  const named = await runner.run(["ip", "-j", "netns", "list"]);
  if (named.exitCode === 0 && named.stdout.trim()) {
    for (const n of JSON.parse(named.stdout) as { name: string }[]) paths.push(netnsPathOfName(n.name));
  }
  const ids = await runner.run(["docker", "ps", "-q", "--no-trunc"]);
  const list = ids.exitCode === 0 ? ids.stdout.split(/\s+/).filter(Boolean) : [];
  if (list.length > 0) {
    const pids = await runner.run(["docker", "inspect", "--type", "container", "-f", "{{.State.Pid}}", ...list]);
    if (pids.exitCode === 0) for (const p of pids.stdout.split(/\s+/).filter((x) => /^[1-9][0-9]*$/.test(x))) paths.push(netnsPathOfPid(Number(p)));
  }
  return paths;
}

/** Looks for a link carrying one of `aliases` in the other namespaces; the first found wins. */
export async function findLinkElsewhere(runner: Runner, aliases: readonly string[]): Promise<{ nsPath: string; link: LinkState } | undefined> {
  for (const nsPath of await otherNamespaces(runner)) {
    const links = await readLinks(runner, nsPath).catch(() => [] as LinkState[]);
    const link = links.find((l) => aliases.includes(l.alias));
    if (link) return { nsPath, link };
  }
  return undefined;
}
