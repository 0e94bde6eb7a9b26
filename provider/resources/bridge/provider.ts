/** CRUD wiring of the `Bridge` dynamic resource: read the host, plan, apply with undo, re-read. */
import * as pulumi from "@pulumi/pulumi";
import { HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner } from "../../host/runner";
import * as ip from "../../linux/ip";
import { Transaction } from "../common/transaction";
import { bridgeForwardRules, ensureForwardBothFamilies, forwardFlavor, planRemoveForwardBothFamilies } from "../common/forward";
import { Step } from "../common/steps";
import { lockHolder, withHostLock } from "../common/lock";
import { isMine, legacyLinkMark, linkId, linkMark, ownerFromInput } from "../common/owner";
import { containsUnknown } from "../common/unknown";
import { readLink, readLinks } from "../common/links";
import { checkOnHost, hostLinksForChecks, hostLinksOnce } from "../common/preflight";
import { defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { BridgeInputs, BridgeOutputs } from "./args";
import { BRIDGE_OPTIONAL, bridgeOutputs, stableBridgeMac, diffBridge, normalizeBridge, ownershipProblem, planBridge, subnetClashes, verifyBridge } from "./plan";

/** The `Bridge` provider. Stateless: every call reads the host anew. */
export class BridgeProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runners: RunnerFactory = runnerFor) {}

  /** Validates, then (read-only, one read of the host's links shared by every check on it) refuses a name or subnet taken by a link that is not ours. */
  async check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return checkOnHost(normalizeBridge, news, this.runners, async (runner, inputs) => {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const links = await hostLinksForChecks(runner);
      const owner = ownerFromInput(inputs.owner);
      const actual = links.find((l) => l.name === inputs.name);
      const problem = actual && ownershipProblem(actual, owner, [legacyLinkMark(runner.hostId, "bridge", inputs.name)], inputs.adopt || olds.adopt === true, runner.hostId);
      if (problem) failures.push({ property: "name", reason: problem });
      const clashes = subnetClashes(inputs, links, owner);
      if (clashes.length > 0) failures.push({ property: "addresses", reason: `refusing addresses that overlap another link's subnet on ${runner.hostId}: ${clashes.join("; ")}` });
      return failures;
    });
  }

  async diff(_id: string, olds: BridgeOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    if (containsUnknown(news)) return { changes: true, replaces: olds.name === news.name ? [] : ["name"], deleteBeforeReplace: true };
    const d = diffBridge(olds, normalizeBridge(news));
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace };
  }

  async create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    const inputs = normalizeBridge(raw);
    return withSecretsRedacted(inputs.connection, async () => {
      const runner = this.runners(inputs.connection);
      const id = linkId(runner.hostId, "bridge", inputs.name);
      const outs = await withHostLock(runner, (r) => this.apply(r, id, inputs, undefined), lockHolder(inputs.owner));
      return { id, outs: defined(outs) };
    });
  }

  async update(id: string, olds: BridgeOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const inputs = normalizeBridge(raw);
    return withSecretsRedacted(inputs.connection, async () => {
      const runner = this.runners(inputs.connection);
      const outs = await withHostLock(runner, (r) => this.apply(r, id, inputs, olds), lockHolder(inputs.owner));
      return { outs: defined(outs) };
    });
  }

  /** Converges the host to `inputs`: creates when absent, refuses what is not ours, applies the planned steps, re-reads. */
  private async apply(runner: Runner, id: string, inputs: BridgeInputs, olds: BridgeOutputs | undefined): Promise<BridgeOutputs> {
    const owner = ownerFromInput(inputs.owner);
    const mark = linkMark(owner, "bridge", inputs.name);
    const legacy = [legacyLinkMark(runner.hostId, "bridge", inputs.name)];
    const subject = `bridge ${inputs.name} on ${runner.hostId}`;
    const links = await readLinks(runner);
    const actual = links.find((l) => l.name === inputs.name);
    const clashes = subnetClashes(inputs, links, owner);
    if (clashes.length > 0) throw new HostnetError(`${subject}: refusing addresses that overlap another link's subnet on ${runner.hostId}: ${clashes.join("; ")}`);
    let adoption = { adopted: olds?.adopted ?? false, previousAlias: olds?.previousAlias ?? "" };
    if (actual) {
      const problem = ownershipProblem(actual, owner, legacy, inputs.adopt || (olds?.adopted ?? false), runner.hostId);
      if (problem) throw new HostnetError(problem);
      if (!isMine(actual.alias, owner, legacy)) adoption = { adopted: true, previousAlias: actual.alias };
    }
    const fwd = olds?.forwardFlavor ?? (await forwardFlavor(runner));
    const tx = new Transaction(runner, subject);
    await tx.run(planBridge(actual, inputs, mark, stableBridgeMac(runner.hostId, mark)));
    // Both families (read in one round trip): ufw (and Docker with IPv6) drop forwarded IPv6 too; nothing is added where FORWARD drops nothing.
    await ensureForwardBothFamilies(runner, tx, fwd, bridgeForwardRules(inputs.name, mark));
    const after = await readLink(runner, inputs.name);
    const problems = verifyBridge(after, inputs, mark);
    if (problems.length > 0 || !after) throw new HostnetError(`${subject}: the kernel state differs after apply: ${problems.join("; ")}`);
    return { ...bridgeOutputs(inputs, after, runner.hostId, adoption), forwardFlavor: fwd };
  }

  async read(id: string, props: BridgeOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      // One read of the host's links answers every resource's read on this host (snapshot.ts).
      const link = (await hostLinksOnce(runner)).find((l) => l.name === props.name);
      if (!link || link.kind !== "bridge" || !isMine(link.alias, ownerFromInput(props.owner), [legacyLinkMark(runner.hostId, "bridge", props.name)])) return { id: "" };
      // State of 0.1 has no record of the given fields: then all four count as given, as they did.
      const given = props.given ?? [...BRIDGE_OPTIONAL];
      const outs = { ...bridgeOutputs(props, link, runner.hostId, { adopted: props.adopted, previousAlias: props.previousAlias }, given), ...(props.forwardFlavor ? { forwardFlavor: props.forwardFlavor } : {}) };
      const inputs: BridgeInputs = { connection: props.connection, name: props.name, addresses: outs.addresses, up: outs.up, adopt: props.adopt, ...(props.owner ? { owner: props.owner } : {}) };
      for (const f of BRIDGE_OPTIONAL) {
        if (given.includes(f) && props[f] !== undefined) (inputs as unknown as Record<string, unknown>)[f] = outs[f];
      }
      return { id, props: defined(outs), inputs: defined(inputs) };
    });
  }

  async delete(_id: string, props: BridgeOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      await withHostLock(runner, async (locked) => {
        const owner = ownerFromInput(props.owner);
        // Our accepts carry our mark: they go even when the bridge is already gone or no longer ours.
        const steps: Step[] = props.forwardFlavor ? await planRemoveForwardBothFamilies(locked, props.forwardFlavor, bridgeForwardRules(props.name, linkMark(owner, "bridge", props.name))) : [];
        const links = await readLinks(locked);
        const link = links.find((l) => l.name === props.name);
        if (link && !isMine(link.alias, owner, [legacyLinkMark(locked.hostId, "bridge", props.name)])) {
          console.error(`warning: bridge ${props.name} on ${locked.hostId} is no longer marked as ours (alias ${JSON.stringify(link.alias)}); leaving it in place`);
        } else if (link && props.adopted) {
          steps.push({ description: `release adopted bridge ${props.name}`, argv: props.previousAlias ? ip.ipLinkSetAlias(props.name, props.previousAlias) : ip.ipLinkClearAlias(props.name), undo: [ip.ipLinkSetAlias(props.name, link.alias)] });
        } else if (link) {
          // A bridge that still carries ports is in use: a failure elsewhere in this run (a veth that could not move to a
          // renamed bridge) or something not ours. Deleting it would cut those containers off; refuse instead.
          const ports = links.filter((l) => l.master === props.name).map((l) => l.name);
          if (ports.length > 0) {
            throw new HostnetError(`bridge ${props.name} on ${locked.hostId} still has ports (${ports.join(", ")}): refusing to delete a bridge in use; it goes once they have moved or gone (run up again)`);
          }
          // Last: the one step that cannot be undone.
          steps.push({ description: `delete bridge ${props.name}`, argv: ip.ipLinkDel(props.name), undo: [] });
        }
        await new Transaction(locked, `delete bridge ${props.name} on ${locked.hostId}`).run(steps);
      }, lockHolder(props.owner));
    });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<BridgeOutputs>(new BridgeProvider());
