/** CRUD wiring of the `Bridge` dynamic resource: read the host, plan, apply with undo, re-read. */
import * as pulumi from "@pulumi/pulumi";
import { HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner, runChecked } from "../../host/runner";
import * as ip from "../../linux/ip";
import { runSteps } from "../common/transaction";
import { withHostLock } from "../common/lock";
import { linkId, ownerAlias } from "../common/owner";
import { containsUnknown } from "../common/unknown";
import { readLink, readLinks } from "../common/links";
import { checkWith, defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { BridgeInputs, BridgeOutputs } from "./args";
import { bridgeOutputs, diffBridge, normalizeBridge, ownershipProblem, planBridge, subnetClashes, verifyBridge } from "./plan";

/** The `Bridge` provider. Stateless: every call reads the host anew. */
export class BridgeProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runners: RunnerFactory = runnerFor) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return checkWith(normalizeBridge, news);
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
      const outs = await withHostLock(runner, () => this.apply(runner, id, inputs, undefined));
      return { id, outs: defined(outs) };
    });
  }

  async update(id: string, olds: BridgeOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const inputs = normalizeBridge(raw);
    return withSecretsRedacted(inputs.connection, async () => {
      const runner = this.runners(inputs.connection);
      const outs = await withHostLock(runner, () => this.apply(runner, id, inputs, olds));
      return { outs: defined(outs) };
    });
  }

  /** Converges the host to `inputs`: creates when absent, refuses what is not ours, applies the planned steps, re-reads. */
  private async apply(runner: Runner, id: string, inputs: BridgeInputs, olds: BridgeOutputs | undefined): Promise<BridgeOutputs> {
    const mark = ownerAlias(id);
    const subject = `bridge ${inputs.name} on ${runner.hostId}`;
    const links = await readLinks(runner);
    const actual = links.find((l) => l.name === inputs.name);
    const clashes = subnetClashes(inputs, links);
    if (clashes.length > 0) throw new HostnetError(`${subject}: refusing addresses that overlap another link's subnet on ${runner.hostId}: ${clashes.join("; ")}`);
    let adoption = { adopted: olds?.adopted ?? false, previousAlias: olds?.previousAlias ?? "" };
    if (actual) {
      const problem = ownershipProblem(actual, mark, inputs.adopt || (olds?.adopted ?? false), runner.hostId);
      if (problem) throw new HostnetError(problem);
      if (actual.alias !== mark) adoption = { adopted: true, previousAlias: actual.alias };
    }
    await runSteps(runner, subject, planBridge(actual, inputs, mark));
    const after = await readLink(runner, inputs.name);
    const problems = verifyBridge(after, inputs, mark);
    if (problems.length > 0 || !after) throw new HostnetError(`${subject}: the kernel state differs after apply: ${problems.join("; ")}`);
    return bridgeOutputs(inputs, after, runner.hostId, adoption);
  }

  async read(id: string, props: BridgeOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const link = await readLink(runner, props.name);
      if (!link || link.kind !== "bridge" || link.alias !== ownerAlias(id)) return { id: "" };
      const outs = bridgeOutputs(props, link, runner.hostId, { adopted: props.adopted, previousAlias: props.previousAlias });
      const inputs: BridgeInputs = { connection: props.connection, name: props.name, addresses: outs.addresses, up: outs.up, adopt: props.adopt };
      for (const f of ["mtu", "mac", "stp", "vlanFiltering"] as const) {
        if (props[f] !== undefined) (inputs as unknown as Record<string, unknown>)[f] = outs[f];
      }
      return { id, props: defined(outs), inputs: defined(inputs) };
    });
  }

  async delete(id: string, props: BridgeOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      await withHostLock(runner, async () => {
        const link = await readLink(runner, props.name);
        if (!link) return;
        if (link.alias !== ownerAlias(id)) {
          console.error(`warning: bridge ${props.name} on ${runner.hostId} is no longer marked as ours (alias ${JSON.stringify(link.alias)}); leaving it in place`);
          return;
        }
        if (props.adopted) {
          const release = props.previousAlias ? ip.ipLinkSetAlias(props.name, props.previousAlias) : ip.ipLinkClearAlias(props.name);
          await runChecked(runner, release, { context: `release adopted bridge ${props.name}` });
          return;
        }
        const res = await runner.run(ip.ipLinkDel(props.name));
        if (res.exitCode !== 0 && !/does not exist|Cannot find device/i.test(res.stderr)) {
          await runChecked(runner, ip.ipLinkDel(props.name), { context: `delete bridge ${props.name}` });
        }
      });
    });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<BridgeOutputs>(new BridgeProvider());
