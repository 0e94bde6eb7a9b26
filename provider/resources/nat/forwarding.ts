/**
 * Forwarding (`net.ipv4.ip_forward`, and `net.ipv6.conf.all.forwarding` for
 * IPv6 rules): turned on when a NAT rule of that family needs it, with the
 * original value kept on the host so the last rule of the family can restore it.
 */
import { Runner } from "../../host/runner";
import { IpFamily } from "../../linux/iptables";
import { Step } from "../common/steps";
import { hostNetnsInode } from "../common/netns-id";
import { NatCensus } from "./census";

/**
 * Where the original value is kept: a file directly in /run (tmpfs), named for
 * the network namespace (its inode), so namespaces sharing one filesystem keep
 * theirs apart. No directory of our own: namespaces sharing /run would race to
 * create and remove it (seen in CI: one host's rmdir ran after the other's).
 */
export async function forwardMark(runner: Runner, family: IpFamily = 4): Promise<string> {
  return forwardMarkPath(await hostNetnsInode(runner), family);
}

/** The record file for the namespace with this inode. */
export function forwardMarkPath(netnsInode: string, family: IpFamily = 4): string {
  return `/run/hostnet.${family === 6 ? "ipv6_forward" : "ip_forward"}.${netnsInode}.orig`;
}

/** The sysctl that turns forwarding on for a family. IPv6 note: with it on, the host no longer takes router advertisements on links whose `accept_ra` is 1 (Docker has the same effect). */
export const forwardingKey = (family: IpFamily): string => (family === 6 ? "net.ipv6.conf.all.forwarding" : "net.ipv4.ip_forward");

/**
 * Steps that turn forwarding on, recording the original value (and how many
 * foreign NAT rules there were) unless it was recorded before.
 */
export async function planForwardingOn(runner: Runner, census: NatCensus, family: IpFamily = 4): Promise<Step[]> {
  const key = forwardingKey(family);
  const cur = await runner.run(["sysctl", "-n", key]);
  if (cur.exitCode === 0 && cur.stdout.trim() === "1") return [];
  const steps: Step[] = [];
  const FORWARD_MARK = await forwardMark(runner, family);
  if ((await runner.run(["test", "-e", FORWARD_MARK])).exitCode !== 0) {
    steps.push({ description: `record ${key}`, argv: ["tee", FORWARD_MARK], stdin: `${cur.stdout.trim() || "0"} ${census.family[family].foreign}\n`, undo: [["rm", "-f", FORWARD_MARK]] });
  }
  steps.push({ description: `enable ${key}`, argv: ["sysctl", "-q", "-w", `${key}=1`], undo: [["sysctl", "-q", "-w", `${key}=${cur.stdout.trim() || "0"}`]] });
  return steps;
}

/**
 * Steps that restore the recorded value once no hostnet NAT rule of any
 * backend or stack is left. When more foreign NAT rules exist than when the
 * value was recorded, something else (Docker, an admin) started to route
 * meanwhile: forwarding is left on and the record dropped.
 */
export async function planForwardingRestore(runner: Runner, census: NatCensus, family: IpFamily = 4): Promise<Step[]> {
  const count = census.family[family];
  if (count.ours > 0) return [];
  const key = forwardingKey(family);
  const FORWARD_MARK = await forwardMark(runner, family);
  const orig = await runner.run(["cat", FORWARD_MARK]);
  if (orig.exitCode !== 0) return [];
  const [recorded, foreignThen] = orig.stdout.trim().split(/\s+/);
  const value = recorded === "1" || count.foreign > Number(foreignThen ?? count.foreign) ? "1" : "0";
  const now = (await runner.run(["sysctl", "-n", key])).stdout.trim() || "1";
  return [
    { description: `restore ${key}=${value}`, argv: ["sysctl", "-q", "-w", `${key}=${value}`], undo: [["sysctl", "-q", "-w", `${key}=${now}`]] },
    { description: `forget the recorded ${key}`, argv: ["rm", "-f", FORWARD_MARK], undo: [{ argv: ["tee", FORWARD_MARK], stdin: orig.stdout }] },
  ];
}
