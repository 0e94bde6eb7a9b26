/** CRUD wiring of the `NatRule` dynamic resource. */
import * as pulumi from "@pulumi/pulumi";
import { HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner } from "../../host/runner";
import { diffNat, natId, normalizeNat } from "./plan";
import { checkWith, defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { withHostLock } from "../common/lock";
import { Transaction } from "../common/transaction";
import { containsUnknown } from "../common/unknown";
import { backendFor, detectFlavor } from "./backend";
import { planForwardingOn, planForwardingRestore } from "./forwarding";
import { NatInputs, NatOutputs } from "./args";

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
      return { id, outs: defined(await withHostLock(runner, () => this.ensure(runner, id, n))) };
    });
  }

  async update(id: string, _olds: NatOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const n = normalizeNat(raw);
    return withSecretsRedacted(n.connection, async () => {
      const runner = this.runners(n.connection);
      return { outs: defined(await withHostLock(runner, () => this.ensure(runner, id, n))) };
    });
  }

  /** Adds whatever of the rule, its chains, jumps and forwarding is missing; all or nothing. */
  private async ensure(runner: Runner, id: string, n: NatInputs): Promise<NatOutputs> {
    const tag = `hostnet:${id}`;
    const backend = await backendFor(await detectFlavor(runner, n.backend));
    const subject = `NAT rule ${n.kind} (${tag}) on ${runner.hostId} with ${backend.name}`;
    const count = backend.ruleCount(n, tag);
    const state = await backend.read(runner);
    const tx = new Transaction(runner, subject);
    await tx.run(backend.planChains(state, n, tag));
    await tx.run(await planForwardingOn(runner));
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
    return { ...n, hostId: runner.hostId, tag, flavor: backend.flavor, intact: true };
  }

  async read(id: string, props: NatOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const backend = await backendFor(props.flavor);
      const state = await backend.read(runner);
      const count = state.tagged.get(props.tag) ?? 0;
      if (count === 0) return { id: "" };
      const intact = count === backend.ruleCount(props, props.tag) && backend.hooksFor(props, props.tag).every((b) => state.jumps.includes(b));
      return { id, props: defined({ ...props, intact }) };
    });
  }

  async delete(_id: string, props: NatOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const backend = await backendFor(props.flavor);
      await withHostLock(runner, async () => {
        await backend.remove(runner, props, props.tag);
        const state = await backend.read(runner);
        if (state.ourRules > 0) return;
        // Our last rule is gone: remove our chains and jumps, and put ip_forward back as we found it.
        const tx = new Transaction(runner, `remove hostnet NAT chains on ${runner.hostId}`);
        await tx.run(backend.planTeardown(state));
        await tx.run(await planForwardingRestore(runner));
      });
    });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<NatOutputs>(new NatProvider());
