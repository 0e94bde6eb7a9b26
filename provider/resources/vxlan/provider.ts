/** CRUD wiring of the `Vxlan` dynamic resource: read the host, plan, apply with undo, re-read. */
import * as pulumi from "@pulumi/pulumi";
import { CommandError, HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner, runInOrder } from "../../host/runner";
import * as ip from "../../linux/ip";
import { LinkState, parseLinks } from "../../linux/parse";
import { defined, entryPoints, RunnerFactory, withSecretsRedacted } from "../common/crud";
import { readLink } from "../common/links";
import { lockHolder, withHostLock } from "../common/lock";
import { linkId, linkMark, otherOwner, ownerFromInput } from "../common/owner";
import { checkOnHost, hostLinksForChecks, hostLinksOnce, nameTaken } from "../common/preflight";
import { ForwardFlavor, ensureForward, forwardFlavor, planRemoveForward, vxlanInputRules } from "../common/forward";
import { Transaction } from "../common/transaction";
import { containsUnknown } from "../common/unknown";
import { VxlanInputs, VxlanOutputs } from "./args";
import { VxlanDevice, VxlanFdb, diffVxlan, normalizeVxlan, parseVxlanDevice, parseVxlanFdb, planVxlanCreate, planVxlanUpdate, underlayFor, verifyVxlan } from "./plan";

/** The device as read: its link state, its VXLAN data and its flood entries (one round trip). */
interface DeviceRead {
  readonly link?: LinkState;
  readonly dev?: VxlanDevice;
  readonly fdb: VxlanFdb;
}

const NO_FDB: VxlanFdb = { remotes: [], learnt: new Map() };

async function readDevice(runner: Runner, name: string): Promise<DeviceRead> {
  const { results } = await runInOrder(runner, [{ argv: ip.ipAddrShowDev(name) }, { argv: ip.bridgeFdbShow(name) }], { all: true });
  const [addr, fdb] = results;
  if (!addr || addr.exitCode !== 0) {
    if (addr && /does not exist|Cannot find device/i.test(addr.stderr)) return { fdb: NO_FDB };
    throw new CommandError({ host: runner.hostId, argv: ip.ipAddrShowDev(name), exitCode: addr?.exitCode ?? -1, stdout: addr?.stdout ?? "", stderr: addr?.stderr ?? "", context: `read ${name}` });
  }
  const link = parseLinks(addr.stdout).find((l) => l.name === name);
  return { ...(link ? { link } : {}), dev: parseVxlanDevice(addr.stdout, name), fdb: fdb && fdb.exitCode === 0 ? parseVxlanFdb(fdb.stdout) : NO_FDB };
}

/** The host's links and the device's FDB, in one round trip. */
async function readLinksAndFdb(runner: Runner, name: string): Promise<{ links: LinkState[]; fdb: VxlanFdb }> {
  const { results } = await runInOrder(runner, [{ argv: ip.ipAddrShowAll() }, { argv: ip.bridgeFdbShow(name) }], { all: true });
  const [addr, fdb] = results;
  if (!addr || addr.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv: ip.ipAddrShowAll(), exitCode: addr?.exitCode ?? -1, stdout: addr?.stdout ?? "", stderr: addr?.stderr ?? "", context: "read the host's links" });
  return { links: parseLinks(addr.stdout), fdb: fdb && fdb.exitCode === 0 ? parseVxlanFdb(fdb.stdout) : NO_FDB };
}

/** The `Vxlan` provider. */
export class VxlanProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runners: RunnerFactory = runnerFor) {}

  /** Validates, then (read-only, the host's links as every check on it reads them) refuses a name taken by a link not ours, a `local` no link of the host has, and an MTU the underlay cannot carry. */
  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return checkOnHost(normalizeVxlan, news, this.runners, async (runner, d) => {
      const links = await hostLinksForChecks(runner);
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const taken = nameTaken(links, runner.hostId, "name", d.name, ownerFromInput(d.owner));
      if (taken) failures.push(taken);
      const u = underlayFor(links, d, runner.hostId);
      if ("problem" in u) failures.push({ property: u.field, reason: u.problem });
      return failures;
    });
  }

  async diff(_id: string, olds: VxlanOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    if (containsUnknown(news)) return { changes: true, deleteBeforeReplace: true };
    const d = diffVxlan(olds, normalizeVxlan(news));
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: true };
  }

  async create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    const d = normalizeVxlan(raw);
    return withSecretsRedacted(d.connection, async () => {
      const runner = this.runners(d.connection);
      return { id: linkId(runner.hostId, "vxlan", d.name), outs: defined(await withHostLock(runner, (r) => this.apply(r, d, undefined), lockHolder(d.owner))) };
    });
  }

  async update(_id: string, olds: VxlanOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const d = normalizeVxlan(raw);
    return withSecretsRedacted(d.connection, async () => {
      const runner = this.runners(d.connection);
      return { outs: defined(await withHostLock(runner, (r) => this.apply(r, d, olds), lockHolder(d.owner))) };
    });
  }

  /**
   * Makes the device when it is not there, else converges bridge, MTU, state
   * and members; where the host's `INPUT` drops (ufw), accepts the tunnel from
   * each member in `HOSTNET-INPUT`. Undoes all of it when the re-read differs.
   */
  private async apply(runner: Runner, d: VxlanInputs, olds: VxlanOutputs | undefined): Promise<VxlanOutputs> {
    const owner = ownerFromInput(d.owner);
    const mark = linkMark(owner, "vxlan", d.name);
    const subject = `vxlan ${d.name} (VNI ${d.vni}) on ${runner.hostId}`;
    // One round trip: the host's links (the underlay, and the device if there) and the device's FDB (nothing when it is not there).
    const { links, fdb } = await readLinksAndFdb(runner, d.name);
    const u = underlayFor(links, d, runner.hostId);
    if ("problem" in u) throw new HostnetError(`${subject}: ${u.problem}`);
    const { underlay } = u;
    const actual = links.find((l) => l.name === d.name);
    if (actual && actual.alias !== mark) {
      const other = otherOwner(actual.alias, owner);
      throw new HostnetError(`${subject}: ${d.name} already exists on ${runner.hostId} and is ${other ? `another hostnet ${other}'s` : "not ours"} (kind ${actual.kind || "plain"}, alias ${JSON.stringify(actual.alias)}); refusing to touch it`);
    }
    const tx = new Transaction(runner, subject);
    await tx.run(actual ? planVxlanUpdate(actual, fdb, d) : planVxlanCreate(d, underlay.name, mark));
    const family = d.local.includes(":") ? 6 : 4;
    const input: ForwardFlavor = olds?.inputFlavor ?? (await forwardFlavor(runner));
    // Members changed: the accepts (all carrying the device's mark) are taken out and the current ones put in.
    if (olds?.inputFlavor && JSON.stringify(olds.remotes) !== JSON.stringify(d.remotes)) await tx.run(await planRemoveForward(runner, olds.inputFlavor, vxlanInputRules(olds.remotes, olds.port, mark), family));
    await ensureForward(runner, tx, input, vxlanInputRules(d.remotes, d.port, mark), family);
    const after = await tx.read(`reading ${d.name} after the change`, () => readDevice(runner, d.name));
    const problems = verifyVxlan(after.link, after.dev, after.fdb.remotes, d, mark);
    if (problems.length > 0) {
      await tx.rollback();
      throw new HostnetError(`${subject}: the state differs after apply: ${problems.join("; ")}`);
    }
    return { ...d, hostId: runner.hostId, underlay: underlay.name, present: true, inputFlavor: input };
  }

  async read(id: string, props: VxlanOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const mark = linkMark(ownerFromInput(props.owner), "vxlan", props.name);
      // One read of the host's links answers whether it is there (and ours) for every resource of the host.
      const link = (await hostLinksOnce(runner)).find((l) => l.name === props.name);
      if (!link || link.alias !== mark) return { id: "" };
      const now = await readDevice(runner, props.name);
      if (!now.link || !now.dev) return { id: "" };
      const outs: VxlanOutputs = { ...props, vni: now.dev.vni, local: now.dev.local, port: now.dev.port, remotes: now.fdb.remotes, bridge: now.link.master ?? "", mtu: now.link.mtu, present: now.link.up };
      const inputs: VxlanInputs = { connection: outs.connection, name: outs.name, vni: outs.vni, local: outs.local, remotes: outs.remotes, bridge: outs.bridge, port: outs.port, mtu: outs.mtu, ...(outs.owner ? { owner: outs.owner } : {}) };
      return { id, props: defined(outs), inputs: defined(inputs) };
    });
  }

  /** Deletes the device only when it carries this resource's mark (its FDB entries go with it). */
  async delete(_id: string, props: VxlanOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const mark = linkMark(ownerFromInput(props.owner), "vxlan", props.name);
      await withHostLock(runner, async (locked) => {
        // Our accepts carry our mark: they go even when the device is already gone; the device (ours only) goes last,
        // in the same transaction, so a failure there puts the accepts back.
        const steps = props.inputFlavor ? await planRemoveForward(locked, props.inputFlavor, vxlanInputRules(props.remotes, props.port, mark), props.local.includes(":") ? 6 : 4) : [];
        const link = await readLink(locked, props.name);
        if (link && link.alias !== mark) console.error(`warning: ${props.name} on ${locked.hostId} is not the vxlan device this resource made (alias ${JSON.stringify(link.alias)}); leaving it in place`);
        else if (link) steps.push({ description: `delete vxlan ${props.name}`, argv: ip.ipLinkDel(props.name), undo: [] });
        await new Transaction(locked, `delete vxlan ${props.name} on ${locked.hostId}`).run(steps);
      }, lockHolder(props.owner));
    });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<VxlanOutputs>(new VxlanProvider());
