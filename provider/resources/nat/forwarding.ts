/** net.ipv4.ip_forward: turned on when a NAT rule needs it, with the original value kept on the host so the last rule can restore it. */
import { Runner } from "../../host/runner";
import { Step } from "../common/steps";
import { hostNetnsInode } from "../common/netns-id";
import { NatCensus } from "./census";

/**
 * Where the original value is kept: a file directly in /run (tmpfs), named for
 * the network namespace (its inode), so namespaces sharing one filesystem keep
 * theirs apart. No directory of our own: namespaces sharing /run would race to
 * create and remove it (seen in CI: one host's rmdir ran after the other's).
 */
export async function forwardMark(runner: Runner): Promise<string> {
  return forwardMarkPath(await hostNetnsInode(runner));
}

/** The record file for the namespace with this inode. */
export function forwardMarkPath(netnsInode: string): string {
  return `/run/hostnet.ip_forward.${netnsInode}.orig`;
}

/**
 * Steps that turn forwarding on, recording the original value (and how many
 * foreign NAT rules there were) unless it was recorded before.
 */
export async function planForwardingOn(runner: Runner, census: NatCensus): Promise<Step[]> {
  const cur = await runner.run(["sysctl", "-n", "net.ipv4.ip_forward"]);
  if (cur.exitCode === 0 && cur.stdout.trim() === "1") return [];
  const steps: Step[] = [];
  const FORWARD_MARK = await forwardMark(runner);
  if ((await runner.run(["test", "-e", FORWARD_MARK])).exitCode !== 0) {
    steps.push({ description: "record net.ipv4.ip_forward", argv: ["tee", FORWARD_MARK], stdin: `${cur.stdout.trim() || "0"} ${census.foreign}\n`, undo: [["rm", "-f", FORWARD_MARK]] });
  }
  steps.push({ description: "enable net.ipv4.ip_forward", argv: ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], undo: [["sysctl", "-q", "-w", `net.ipv4.ip_forward=${cur.stdout.trim() || "0"}`]] });
  return steps;
}

/**
 * Steps that restore the recorded value once no hostnet NAT rule of any
 * backend or stack is left. When more foreign NAT rules exist than when the
 * value was recorded, something else (Docker, an admin) started to route
 * meanwhile: forwarding is left on and the record dropped.
 */
export async function planForwardingRestore(runner: Runner, census: NatCensus): Promise<Step[]> {
  if (census.ours > 0) return [];
  const FORWARD_MARK = await forwardMark(runner);
  const orig = await runner.run(["cat", FORWARD_MARK]);
  if (orig.exitCode !== 0) return [];
  const [recorded, foreignThen] = orig.stdout.trim().split(/\s+/);
  const value = recorded === "1" || census.foreign > Number(foreignThen ?? census.foreign) ? "1" : "0";
  const now = (await runner.run(["sysctl", "-n", "net.ipv4.ip_forward"])).stdout.trim() || "1";
  return [
    { description: `restore net.ipv4.ip_forward=${value}`, argv: ["sysctl", "-q", "-w", `net.ipv4.ip_forward=${value}`], undo: [["sysctl", "-q", "-w", `net.ipv4.ip_forward=${now}`]] },
    { description: "forget the recorded value", argv: ["rm", "-f", FORWARD_MARK], undo: [{ argv: ["tee", FORWARD_MARK], stdin: orig.stdout }] },
  ];
}
