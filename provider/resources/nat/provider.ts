/** CRUD wiring of the `NatRule` dynamic resource. */
import { readOnce } from "../common/snapshot";
import * as pulumi from "@pulumi/pulumi";
import { HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner } from "../../host/runner";
import { diffNat, natFamily, natId, natTag, normalizeNat, portClash, portRangeText } from "./plan";
import { NatCensus, natCensus } from "./census";
import { ForwardFlavor, dnatForwardRules, ensureForward, forwardFlavor, planRemoveForward, removeForward } from "../common/forward";
import { ownerFromInput } from "../common/owner";
import { BuiltinChain, IpFamily, IptRule } from "../../linux/iptables";

/** The forward accepts a rule needs: a published port must get through a `FORWARD` policy of `DROP`. */
function forwardRules(n: NatInputs, tag: string): IptRule[] {
  if (n.kind !== "dnat" || !n.toIp || !n.toPort) return [];
  return dnatForwardRules(n.protocol as string, n.toIp, portRangeText(n.toPort, ":"), tag);
}
import { checkWith, defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { lockHolder, withHostLock } from "../common/lock";
import { Transaction } from "../common/transaction";
import { containsUnknown } from "../common/unknown";
import { backendFor, detectFlavor } from "./backend";
import { planForwardingOn, planForwardingRestore } from "./forwarding";
import { NatInputs, NatOutputs } from "./args";

/** The census once `mine` rules of this family (of our `inet` table: of both) are gone. */
function withoutMine(census: NatCensus, family: IpFamily, flavor: NatOutputs["flavor"], mine: number): NatCensus {
  const less = (f: IpFamily) => ({ ...census.family[f], ours: census.family[f].ours - (f === family || flavor === "nftables" ? mine : 0) });
  return { ...census, family: { 4: less(4), 6: less(6) } };
}

/** How much of a NAT rule is on its host: its tagged rules (of how many), and which of the jumps to our chains it needs are there. */
export interface NatPresence {
  readonly backend: string;
  readonly rules: number;
  readonly expected: number;
  readonly hooks: readonly BuiltinChain[];
  readonly hooked: readonly BuiltinChain[];
}

/** Reads a rule's presence; one read of the NAT state answers for every rule of the host (snapshot.ts). */
export async function natPresence(runner: Runner, props: NatOutputs): Promise<NatPresence> {
  const family = natFamily(props);
  const backend = await backendFor(props.flavor, family);
  const state = await readOnce(runner, `nat:${props.flavor ?? ""}:${props.flavor === "nftables" ? "" : family}`, () => backend.read(runner));
  const hooks = backend.hooksFor(props, props.tag);
  return { backend: backend.name, rules: state.tagged.get(props.tag) ?? 0, expected: backend.ruleCount(props, props.tag), hooks, hooked: hooks.filter((h) => state.jumps.includes(h)) };
}

/** The `NatRule` provider. */
export class NatProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runners: RunnerFactory = runnerFor) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return checkWith(normalizeNat, news, true);
  }

  async diff(_id: string, olds: NatOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    if (containsUnknown(news)) return { changes: true };
    const d = diffNat(olds, normalizeNat(news));
    // Create the new rule before deleting the old one: two rules can always coexist in a chain (the older one matches first until it goes).
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
  }

  async create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    const n = normalizeNat(raw);
    return withSecretsRedacted(n.connection, async () => {
      const runner = this.runners(n.connection);
      const id = natId(runner.hostId, n);
      return { id, outs: defined(await withHostLock(runner, (r) => this.ensure(r, n, undefined), lockHolder(n.owner))) };
    });
  }

  async update(_id: string, olds: NatOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const n = normalizeNat(raw);
    return withSecretsRedacted(n.connection, async () => {
      const runner = this.runners(n.connection);
      return { outs: defined(await withHostLock(runner, (r) => this.ensure(r, n, olds), lockHolder(n.owner))) };
    });
  }

  /** Adds whatever of the rule, its chains, jumps and forwarding is missing; all or nothing. */
  private async ensure(runner: Runner, n: NatInputs, olds: NatOutputs | undefined): Promise<NatOutputs> {
    const owner = ownerFromInput(n.owner);
    const tag = natTag(owner, n);
    const family = natFamily(n);
    const backend = await backendFor(await detectFlavor(runner, n.backend), family);
    const subject = `NAT rule ${n.kind} (${tag}) on ${runner.hostId} with ${backend.name}`;
    const census = await natCensus(runner);
    const clash = portClash(census.tags, owner, n);
    if (clash) throw new HostnetError(`${subject}: ${clash}; refusing (the older rule would silently win)`);
    const count = backend.ruleCount(n, tag);
    const state = await backend.read(runner);
    const fwdFlavor: ForwardFlavor = olds?.forwardFlavor ?? (await forwardFlavor(runner));
    const tx = new Transaction(runner, subject);
    await tx.run(backend.planChains(state, n, tag));
    await tx.run(await planForwardingOn(runner, census, family));
    await ensureForward(runner, tx, fwdFlavor, forwardRules(n, tag), family);
    const present = state.tagged.get(tag) ?? 0;
    if (present !== count) {
      if (present > 0) await backend.remove(runner, n, tag);
      await tx.run([backend.planAdd(n, tag)]);
    }
    const after = await backend.read(runner);
    const missingJumps = backend.hooksFor(n, tag).filter((b) => !after.jumps.includes(b));
    if ((after.tagged.get(tag) ?? 0) !== count || missingJumps.length > 0) {
      await backend.remove(runner, n, tag);
      await tx.rollback();
      throw new HostnetError(`${subject}: after apply ${after.tagged.get(tag) ?? 0} of ${count} rules are in place${missingJumps.length ? `, hooks missing from ${missingJumps.join(", ")}` : ""}`);
    }
    // A rule tagged the old way (0.1, or before an owner change) is replaced by the one just made.
    if (olds && olds.tag && olds.tag !== tag) {
      const oldBackend = await backendFor(olds.flavor, natFamily(olds));
      await oldBackend.remove(runner, olds, olds.tag);
      if (olds.forwardFlavor) await removeForward(runner, olds.forwardFlavor, forwardRules(olds, olds.tag), natFamily(olds));
    }
    return { ...n, hostId: runner.hostId, tag, flavor: backend.flavor, forwardFlavor: fwdFlavor, intact: true };
  }

  async read(id: string, props: NatOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const p = await natPresence(this.runners(props.connection), props);
      if (p.rules === 0) return { id: "" };
      const intact = p.rules === p.expected && p.hooked.length === p.hooks.length;
      return { id, props: defined({ ...props, intact }) };
    });
  }

  /**
   * Deletes the rule, its forward accept, and with the last hostnet rule its
   * chains, jumps and (when we made it) the nat table, and puts ip_forward
   * back: one transaction, every step but the table's removal (last) with an
   * exact undo, so a failure part-way leaves the host as it was.
   */
  async delete(_id: string, props: NatOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const family = natFamily(props);
      const backend = await backendFor(props.flavor, family);
      await withHostLock(runner, async (locked) => {
        const state = await backend.read(locked);
        const census = await natCensus(locked);
        const mine = state.tagged.get(props.tag) ?? 0;
        const steps = [
          ...backend.planRemove(state, props, props.tag),
          ...(props.forwardFlavor ? await planRemoveForward(locked, props.forwardFlavor, forwardRules(props, props.tag), family) : []),
          // No hostnet NAT rule of this family left, of any backend or stack: put its forwarding back as we found it.
          ...(await planForwardingRestore(locked, withoutMine(census, family, props.flavor, mine), family)),
          // This backend's last rule gone: its chains and jumps (and a table we made) go too.
          ...(state.ourRules - mine === 0 ? backend.planTeardown(state) : []),
        ];
        await new Transaction(locked, `delete NAT rule ${props.kind} (${props.tag}) on ${locked.hostId} with ${backend.name}`).run(steps);
      }, lockHolder(props.owner));
    });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<NatOutputs>(new NatProvider());
