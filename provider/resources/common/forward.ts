/**
 * Forward accepts in the filter table. Docker, ufw and firewalld set the
 * `FORWARD` policy to `DROP`, and with `br_netfilter` even traffic between two
 * ports of one bridge crosses it. Our accepts live in our own chain
 * `HOSTNET-FORWARD`, jumped to first from `FORWARD`, created with the first
 * rule and removed with the last; every rule carries its owner's mark.
 *
 * They always go into the iptables flavour that holds the host's rules (the
 * one Docker or ufw use), whatever NAT backend a rule uses: in nftables an
 * `accept` in one base chain does not stop another base chain on the same
 * hook (Docker's `ip filter FORWARD`) from dropping the packet, so a forward
 * chain in our own `inet hostnet` table would not help (measured: see
 * tests/integration/forward-choice.test.ts).
 */
import { CommandError } from "../../host/errors";
import { RunResult, Runner, runInOrder } from "../../host/runner";
import * as ipt from "../../linux/iptables";
import { hostPrefix } from "../../linux/names";
import { detectFlavor } from "./flavor";
import { Step } from "./steps";
import { Transaction } from "./transaction";

const comment = (tag: string) => ["-m", "comment", "--comment", tag];

/** Accepts for a bridge: everything coming from it (out to the world, and port to port), and replies going back in. */
export function bridgeForwardRules(bridge: string, tag: string): ipt.IptRule[] {
  return [
    { chain: ipt.FORWARD_CHAIN, spec: ["-i", bridge, ...comment(tag), "-j", "ACCEPT"] },
    { chain: ipt.FORWARD_CHAIN, spec: ["-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", ...comment(tag), "-j", "ACCEPT"] },
  ];
}

/** The accept for a published port: new connections DNAT'ed to the container's address and port. */
export function dnatForwardRules(protocol: string, toIp: string, toPorts: string, tag: string): ipt.IptRule[] {
  return [{ chain: ipt.FORWARD_CHAIN, spec: ["-d", `${toIp}${hostPrefix(toIp)}`, "-p", protocol, "-m", protocol, "--dport", toPorts, "-m", "conntrack", "--ctstate", "DNAT", ...comment(tag), "-j", "ACCEPT"] }];
}

/** A built-in chain of the filter table and our chain jumped to first from it. */
export interface FilterHook {
  readonly builtin: "FORWARD" | "INPUT";
  readonly chain: string;
}

/** Forwarded traffic (bridges, published ports): `HOSTNET-FORWARD` from `FORWARD`. */
export const FORWARD_HOOK: FilterHook = { builtin: "FORWARD", chain: ipt.FORWARD_CHAIN };
/** Traffic to the host itself (a VXLAN tunnel's UDP port): `HOSTNET-INPUT` from `INPUT`, where ufw drops by default. */
export const INPUT_HOOK: FilterHook = { builtin: "INPUT", chain: ipt.INPUT_CHAIN };

/** The hook the rules are for (by their chain). */
const hookOf = (rules: readonly ipt.IptRule[]): FilterHook => (rules.some((r) => r.chain === ipt.INPUT_CHAIN) ? INPUT_HOOK : FORWARD_HOOK);

const jumpOf = (hook: FilterHook): ipt.IptRule => ({ chain: hook.builtin, spec: ["-j", hook.chain] });

/** Accepts for a VXLAN device's tunnel: UDP to its port from each other member (ufw's `INPUT` drops it otherwise). */
export function vxlanInputRules(remotes: readonly string[], port: number, tag: string): ipt.IptRule[] {
  return remotes.map((r) => ({ chain: ipt.INPUT_CHAIN, spec: ["-s", `${r}${hostPrefix(r)}`, "-p", "udp", "-m", "udp", "--dport", String(port), ...comment(tag), "-j", "ACCEPT"] }));
}

/** What the filter table holds of ours, and whether its `FORWARD` can drop anything. */
export interface ForwardState {
  /** The filter table exists in this flavour. */
  readonly table: boolean;
  readonly chain: boolean;
  readonly jump: boolean;
  /** Rule lines of our chain, as iptables-save prints them. */
  readonly rules: readonly string[];
  /** `FORWARD` has a policy other than ACCEPT or rules of its own (Docker, ufw, firewalld): our traffic needs accepts. */
  readonly guarded: boolean;
}

/** Parses an iptables-save dump (all tables) into what {@link ForwardState} says of `hook` (default `FORWARD`). Pure. */
export function parseForwardState(save: string, hook: FilterHook = FORWARD_HOOK): ForwardState {
  const t = ipt.parseSave(save, "filter");
  const policy = ipt.policyOf(save, "filter", hook.builtin);
  const jumpLine = `-A ${hook.builtin} -j ${hook.chain}`;
  const foreign = t.rules.filter((l) => l.startsWith(`-A ${hook.builtin} `) && l !== jumpLine);
  return {
    table: /^\*filter$/m.test(save),
    chain: t.chains.includes(hook.chain),
    jump: t.rules.includes(jumpLine),
    rules: t.rules.filter((l) => l.startsWith(`-A ${hook.chain} `)),
    guarded: (policy !== undefined && policy !== "ACCEPT") || foreign.length > 0,
  };
}

/**
 * Reads the filter table with a plain `iptables-save` (all tables): naming a
 * table (`-t filter`, `-C`) makes the kernel create it, and reading must not
 * change the host.
 */
async function readSave(runner: Runner, bins: ipt.IptablesBins): Promise<string | undefined> {
  return saveOf(runner, bins, await runner.run([bins.save]));
}

/** What a run of `bins.save` read: its dump; `undefined` for an IPv6 one that failed; an IPv4 one that failed throws. */
function saveOf(runner: Runner, bins: ipt.IptablesBins, res: RunResult | undefined): string | undefined {
  if (res && res.exitCode === 0) return res.stdout;
  // A host without IPv6 netfilter (no ip6tables, or a kernel without it) has no IPv6 FORWARD to get through.
  if (bins.family === 6) return undefined;
  throw new CommandError({ host: runner.hostId, argv: [bins.save], exitCode: res?.exitCode ?? -1, stdout: res?.stdout ?? "", stderr: res?.stderr ?? "", context: "read the filter table" });
}

/** Where forward accepts go on a host: an iptables flavour, or `none` on a host without a working iptables (nothing to open there). */
export type ForwardFlavor = ipt.IptablesFlavor | "none";

/** The flavour forward accepts go to on this host: the one that holds the host's rules. */
export async function forwardFlavor(runner: Runner): Promise<ForwardFlavor> {
  try {
    return (await detectFlavor(runner, "auto")) as ipt.IptablesFlavor;
  } catch (e) {
    // Neither iptables-nft nor iptables-legacy runs: no Docker/ufw-style FORWARD chain exists to get through.
    if (e instanceof CommandError) return "none";
    throw e;
  }
}

const ruleArgs = (r: ipt.IptRule) => [r.chain, ...r.spec];
const tagOf = (r: ipt.IptRule) => r.spec[r.spec.indexOf("--comment") + 1];

/**
 * Steps that add whatever of the chain, the jump and `rules` is missing (each
 * with its undo). Nothing when the host's `FORWARD` cannot drop anything (no
 * filter table, policy ACCEPT, no rules) and our chain is not there: then
 * there is nothing to get through, and nothing of ours to leave behind.
 */
export async function planForward(runner: Runner, flavor: ForwardFlavor, rules: readonly ipt.IptRule[], family: ipt.IpFamily = 4): Promise<Step[]> {
  if (flavor === "none") return [];
  const bins = ipt.binsOf(flavor, family);
  return planForwardFrom(runner, bins, await readSave(runner, bins), rules);
}

/** {@link planForward} from a save already read (`undefined`: the family has no netfilter on the host). */
async function planForwardFrom(runner: Runner, bins: ipt.IptablesBins, save: string | undefined, rules: readonly ipt.IptRule[]): Promise<Step[]> {
  if (save === undefined) return [];
  const hook = hookOf(rules);
  const state = parseForwardState(save, hook);
  if (rules.length === 0 || (!state.guarded && !state.chain)) return [];
  const steps: Step[] = [];
  if (!state.chain) steps.push({ description: `create chain ${hook.chain}`, argv: ipt.tableArgv(bins, "filter", ["-N", hook.chain]), undo: [ipt.tableArgv(bins, "filter", ["-X", hook.chain])] });
  if (!state.jump) {
    steps.push({ description: `jump from ${hook.builtin} to ${hook.chain} first`, argv: ipt.tableArgv(bins, "filter", ["-I", hook.builtin, "1", "-j", hook.chain]), undo: [ipt.tableArgv(bins, "filter", ["-D", ...ruleArgs(jumpOf(hook))])] });
  }
  const missing: ipt.IptRule[] = [];
  for (const r of rules) if (!state.chain || (await runner.run(ipt.tableArgv(bins, "filter", ["-C", ...ruleArgs(r)]))).exitCode !== 0) missing.push(r);
  if (missing.length > 0) {
    steps.push({
      description: `accept ${missing.length} rule(s) in ${hook.chain}`,
      argv: ipt.restoreNoflush(bins),
      stdin: ipt.restoreScript("-A", missing, "filter"),
      undo: [{ argv: ipt.restoreNoflush(bins), stdin: ipt.restoreScript("-D", missing, "filter") }],
    });
  }
  return steps;
}

/** Adds the rules (and chain and jump) inside a transaction, so a later failure takes them back. */
export async function ensureForward(runner: Runner, tx: Transaction, flavor: ForwardFlavor, rules: readonly ipt.IptRule[], family: ipt.IpFamily = 4): Promise<void> {
  await tx.run(await planForward(runner, flavor, rules, family));
}

/**
 * Steps that delete the rules of our chain carrying one of the rules' tags
 * (whatever else they match: what we put there is ours to take out), and with
 * the last rule of the chain gone, the jump and the chain. Each has an exact
 * undo (rules and jump go back at their positions), so a later failure in the
 * same transaction leaves the filter table as it was. Nothing when the chain
 * is not there.
 */
export async function planRemoveForward(runner: Runner, flavor: ForwardFlavor, rules: readonly ipt.IptRule[], family: ipt.IpFamily = 4): Promise<Step[]> {
  if (flavor === "none" || rules.length === 0) return [];
  const bins = ipt.binsOf(flavor, family);
  return planRemoveForwardFrom(bins, await readSave(runner, bins), rules);
}

/** {@link planRemoveForward} from a save already read. */
function planRemoveForwardFrom(bins: ipt.IptablesBins, save: string | undefined, rules: readonly ipt.IptRule[]): Step[] {
  if (save === undefined || rules.length === 0) return [];
  const hook = hookOf(rules);
  const state = parseForwardState(save, hook);
  if (!state.chain) return [];
  const table = ipt.parseSave(save, "filter");
  const tags = new Set(rules.map(tagOf));
  const mine = state.rules.filter((l) => tags.has(ipt.commentOf(l) ?? ""));
  const steps: Step[] = [];
  if (mine.length > 0) {
    const { remove, restore } = ipt.removeLinesScripts(mine, (c) => ipt.linesOf(table, c), "filter");
    steps.push({ description: `delete ${mine.length} accept(s) from ${hook.chain}`, argv: ipt.restoreNoflush(bins), stdin: remove, undo: [{ argv: ipt.restoreNoflush(bins), stdin: restore }] });
  }
  // What is left is known from the one read (the host lock keeps other runs out meanwhile).
  if (state.rules.length > mine.length) return steps;
  if (state.jump) {
    const pos = ipt.linesOf(table, hook.builtin).indexOf(`-A ${hook.builtin} -j ${hook.chain}`) + 1;
    steps.push({ description: `remove the jump from ${hook.builtin}`, argv: ipt.tableArgv(bins, "filter", ["-D", ...ruleArgs(jumpOf(hook))]), undo: [ipt.tableArgv(bins, "filter", ["-I", hook.builtin, String(pos), "-j", hook.chain])] });
  }
  steps.push({ description: `delete chain ${hook.chain}`, argv: ipt.tableArgv(bins, "filter", ["-X", hook.chain]), undo: [ipt.tableArgv(bins, "filter", ["-N", hook.chain])] });
  return steps;
}

/** The filter tables of both families in one round trip (`undefined` for a family the host has no netfilter of). */
async function readSaves(runner: Runner, flavor: ipt.IptablesFlavor): Promise<{ bins: ipt.IptablesBins; save: string | undefined }[]> {
  const all = ([4, 6] as const).map((f) => ipt.binsOf(flavor, f));
  const { results } = await runInOrder(runner, all.map((b) => ({ argv: [b.save] })), { all: true });
  return all.map((bins, i) => ({ bins, save: saveOf(runner, bins, results[i]) }));
}

/** {@link ensureForward} for both families, reading both filter tables in one round trip (a bridge's accepts). */
export async function ensureForwardBothFamilies(runner: Runner, tx: Transaction, flavor: ForwardFlavor, rules: readonly ipt.IptRule[]): Promise<void> {
  if (flavor === "none" || rules.length === 0) return;
  for (const { bins, save } of await readSaves(runner, flavor)) await tx.run(await planForwardFrom(runner, bins, save, rules));
}

/** {@link planRemoveForward} for both families, reading both filter tables in one round trip. */
export async function planRemoveForwardBothFamilies(runner: Runner, flavor: ForwardFlavor, rules: readonly ipt.IptRule[]): Promise<Step[]> {
  if (flavor === "none" || rules.length === 0) return [];
  return (await readSaves(runner, flavor)).flatMap(({ bins, save }) => planRemoveForwardFrom(bins, save, rules));
}

/** Removes our forward accepts for `rules` (see {@link planRemoveForward}) as one transaction. */
export async function removeForward(runner: Runner, flavor: ForwardFlavor, rules: readonly ipt.IptRule[], family: ipt.IpFamily = 4): Promise<void> {
  await new Transaction(runner, `remove forward accepts on ${runner.hostId}`).run(await planRemoveForward(runner, flavor, rules, family));
}
