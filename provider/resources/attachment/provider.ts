/** CRUD wiring of the `ContainerAttachment` dynamic resource. */
import * as pulumi from "@pulumi/pulumi";
import { CommandError, HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner } from "../../host/runner";
import * as ip from "../../linux/ip";
import { inNetns } from "../../linux/netns";
import { checkWith, defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { readLink, readLinkAndRoutes, readNamespaceAndHostLink, readRoutes } from "../common/links";
import { lockHolder, withHostLock } from "../common/lock";
import { Transaction } from "../common/transaction";
import { readRecords, recordMoveStep, removeRecordsArgv } from "../common/moved";
import { containsUnknown } from "../common/unknown";
import { AttachmentInputs, AttachmentOutputs } from "./args";
import { containerLabel, diffAttachment, normalizeAttachment, planInside, planMoveIn, planRoutes, routesAsInputs, verifyInside } from "./plan";
import { HostNamespaceError, Target, TargetGoneError, TargetStoppedError, resolveTarget } from "./target";
import { LinkState } from "../../linux/parse";
import { checkContainer } from "../common/preflight";
import { Owner, otherOwner, ownerFromInput, parseMark } from "../common/owner";

/** A veth mark of this stack (or a 0.1 mark, which has no owner). */
function oursToMove(alias: string, owner: Owner): boolean {
  const p = parseMark(alias);
  return p !== undefined && (p.hash === undefined || p.hash === owner.hash);
}

/** The `ContainerAttachment` provider. */
export class AttachmentProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runners: RunnerFactory = runnerFor) {}

  /**
   * Validates the inputs, then (read-only: `docker inspect`, `stat`) refuses a
   * target whose namespace is the host's, so `preview` fails before anything
   * is created. Anything else the read finds (a missing or stopped container,
   * an unreachable host) is left to create, which reports it with its step.
   */
  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    const res = checkWith(normalizeAttachment, news);
    if ((res.failures?.length ?? 0) > 0 || containsUnknown(news)) return res;
    const d = res.inputs as unknown as AttachmentInputs;
    // Read-only, batched per host (preflight.ts): refuse at preview a container that is missing, stopped or shares the host's namespace.
    try {
      await withSecretsRedacted(d.connection, async () => {
        const runner = this.runners(d.connection);
        if ("docker" in d.container) await checkContainer(runner, d.container);
        else await resolveTarget(runner, d.container);
      });
    } catch (e) {
      if (e instanceof HostNamespaceError || e instanceof TargetGoneError || e instanceof TargetStoppedError) return { inputs: res.inputs, failures: [{ property: "container", reason: e.message }] };
      // Anything else (host unreachable, docker down) is left to create, which reports the command that failed.
    }
    return res;
  }

  async diff(_id: string, olds: AttachmentOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    if (containsUnknown(news)) return { changes: true, deleteBeforeReplace: true };
    const d = diffAttachment(olds, normalizeAttachment(news));
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: true };
  }

  async create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    const d = normalizeAttachment(raw);
    return withSecretsRedacted(d.connection, async () => {
      const runner = this.runners(d.connection);
      const id = `${runner.hostId}/attachment/${containerLabel(d.container)}/${d.ifname}`;
      return { id, outs: defined(await withHostLock(runner, (r) => this.apply(r, d, undefined), lockHolder(d.owner), `netns:${containerLabel(d.container)}`)) };
    });
  }

  async update(_id: string, olds: AttachmentOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const d = normalizeAttachment(raw);
    return withSecretsRedacted(d.connection, async () => {
      const runner = this.runners(d.connection);
      return { outs: defined(await withHostLock(runner, (r) => this.apply(r, d, olds), lockHolder(d.owner), `netns:${containerLabel(d.container)}`)) };
    });
  }

  /** Moves the interface in when it is not there yet (first attach, or the container was restarted), then converges addresses, state and routes. */
  private async apply(runner: Runner, d: AttachmentInputs, olds: AttachmentOutputs | undefined): Promise<AttachmentOutputs> {
    const owner = ownerFromInput(d.owner);
    const target = await resolveTarget(runner, d.container);
    const subject = `attachment of ${d.interface} as ${d.ifname} to ${target.label} on ${runner.hostId}`;
    const { links, hostLink: hostIface, routes: routesBefore } = await readNamespaceAndHostLink(runner, target.nsPath, d.interface);
    let inside = links.find((l) => l.name === d.ifname);
    const lo = links.find((l) => l.name === "lo");
    const tx = new Transaction(runner, subject);
    let alias = olds?.interfaceAlias ?? "";
    // A move that an earlier run started but did not finish (the connection was cut between the move and the rename): finish it.
    const halfway = !inside && !hostIface ? links.find((l) => l.name === d.interface && l.kind === "veth" && oursToMove(l.alias, owner)) : undefined;
    if (halfway) {
      alias = halfway.alias;
      await tx.run([
        { description: `rename ${halfway.name} to ${d.ifname} (moved in by an earlier run that was cut off)`, argv: inNetns(target.nsPath, ip.ipLinkRename(halfway.name, d.ifname)), undo: [inNetns(target.nsPath, ip.ipLinkRename(d.ifname, halfway.name))] },
        recordMoveStep({ alias, nsPath: target.nsPath, inode: target.inode }),
      ]);
      inside = await readLink(runner, d.ifname, target.nsPath);
    }
    if (!inside) {
      if (!hostIface) {
        throw new HostnetError(`${subject}: interface ${d.interface} not found on ${runner.hostId}; it is an end of a VethPair that must exist first (after a container restart, run refresh so the pair is recreated)`);
      }
      const other = otherOwner(hostIface.alias, owner);
      if (other) throw new HostnetError(`${subject}: ${d.interface} belongs to another hostnet ${other} (alias ${JSON.stringify(hostIface.alias)}); refusing to move it`);
      if (hostIface.kind !== "veth" || !oursToMove(hostIface.alias, owner)) {
        throw new HostnetError(`${subject}: ${d.interface} is not a veth created by pulumi-hostnet (kind ${hostIface.kind || "plain"}, alias ${JSON.stringify(hostIface.alias)}); refusing to move it`);
      }
      alias = hostIface.alias;
      // A fresh attach in one round trip: what the move leaves is known (the same link, renamed, down, without
      // addresses, no route through it yet), so its addresses and routes are planned from that and sent along.
      const moved: LinkState = { ...hostIface, name: d.ifname, addresses: [], up: false };
      await tx.run([...planMoveIn(target.nsPath, hostIface, d), recordMoveStep({ alias, nsPath: target.nsPath, inode: target.inode }), ...planInside(target.nsPath, moved, lo, d, []), ...planRoutes(target.nsPath, [], d)]);
      return this.verified(runner, tx, subject, target, d, alias);
    } else {
      const ours = inside.kind === "veth" && oursToMove(inside.alias, owner);
      if (!ours) throw new HostnetError(`${subject}: ${d.ifname} already exists in the namespace of ${target.label} and is not managed by pulumi-hostnet (kind ${inside.kind || "plain"}); refusing`);
      if (hostIface || (alias && inside.alias !== alias)) {
        throw new HostnetError(`${subject}: ${d.ifname} in the namespace of ${target.label} is already taken by another attachment (alias ${inside.alias}); two attachments cannot claim one ifname in one namespace`);
      }
      alias = inside.alias;
      // Moved in before records were kept (or the record was lost): record it, so the pair finds its end without scanning.
      const recorded = await readRecords(runner, [alias]);
      if (!recorded.some((r) => r.nsPath === target.nsPath && r.inode === target.inode)) await tx.run([recordMoveStep({ alias, nsPath: target.nsPath, inode: target.inode })]);
    }
    const inner = planInside(target.nsPath, inside, lo, d, routesBefore);
    await tx.run(inner);
    // Changed addresses take the kernel's routes through them along: plan the routes from what is there now.
    await tx.run(planRoutes(target.nsPath, inner.length > 0 ? await readRoutes(runner, target.nsPath) : routesBefore, d));
    return this.verified(runner, tx, subject, target, d, alias);
  }

  /** Re-reads the interface and routes inside; undoes the transaction when they differ from the inputs, else returns the outputs. */
  private async verified(runner: Runner, tx: Transaction, subject: string, target: Target, d: AttachmentInputs, alias: string): Promise<AttachmentOutputs> {
    const { link: after, routes } = await readLinkAndRoutes(runner, d.ifname, target.nsPath);
    const problems = verifyInside(after, routes, d);
    if (problems.length > 0 || !after) {
      await tx.rollback();
      throw new HostnetError(`${subject}: the state inside the container differs after apply: ${problems.join("; ")}`);
    }
    return {
      ...d,
      ...(d.mtu !== undefined ? { mtu: after.mtu } : {}),
      ...(d.mac !== undefined ? { mac: after.mac } : {}),
      hostId: runner.hostId,
      netnsInode: target.inode,
      pid: target.pid,
      containerId: target.containerId,
      present: true,
      interfaceAlias: alias,
    };
  }

  async read(id: string, props: AttachmentOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      let target;
      try {
        target = await resolveTarget(runner, props.container);
      } catch (e) {
        if (e instanceof TargetGoneError) return { id: "" };
        if (e instanceof HostnetError && /is not running/.test(e.message)) {
          const outs = { ...props, present: false, addresses: [], routes: [], gateway: undefined };
          return { id, props: defined(outs), inputs: defined(this.inputsOf(outs)) };
        }
        throw e;
      }
      const { link: inside, routes: read } = await readLinkAndRoutes(runner, props.ifname, target.nsPath);
      const mine = inside && inside.alias === props.interfaceAlias;
      const routes = mine ? routesAsInputs(read, props.ifname, props.gateway) : { routes: [] };
      const outs: AttachmentOutputs = {
        ...props,
        addresses: mine ? [...inside.addresses] : [],
        gateway: routes.gateway,
        routes: routes.routes,
        ...(mine && props.mtu !== undefined ? { mtu: inside.mtu } : {}),
        ...(mine && props.mac !== undefined ? { mac: inside.mac } : {}),
        netnsInode: target.inode,
        pid: target.pid,
        containerId: target.containerId,
        present: Boolean(mine && inside.up),
      };
      return { id, props: defined(outs), inputs: defined(this.inputsOf(outs)) };
    });
  }

  private inputsOf(o: AttachmentOutputs): AttachmentInputs {
    const i: AttachmentInputs = { connection: o.connection, container: o.container, interface: o.interface, ifname: o.ifname, addresses: o.addresses, routes: o.routes };
    if (o.owner) i.owner = o.owner;
    if (o.gateway) i.gateway = o.gateway;
    if (o.mtu !== undefined) i.mtu = o.mtu;
    if (o.mac !== undefined) i.mac = o.mac;
    return i;
  }

  async delete(_id: string, props: AttachmentOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      await withHostLock(runner, async (locked) => {
        const forget = async () => {
          if (props.interfaceAlias) await locked.run(removeRecordsArgv([props.interfaceAlias]));
        };
        let target;
        try {
          target = await resolveTarget(locked, props.container);
        } catch (e) {
          if (e instanceof TargetGoneError || (e instanceof HostnetError && /is not running/.test(e.message))) return forget();
          throw e;
        }
        const inside = await readLink(locked, props.ifname, target.nsPath);
        if (!inside) return forget();
        if (inside.alias !== props.interfaceAlias) {
          console.error(`warning: ${props.ifname} in ${target.label} is not the interface this attachment moved in (alias ${JSON.stringify(inside.alias)}); leaving it in place`);
          return;
        }
        const argv = inNetns(target.nsPath, ip.ipLinkDel(props.ifname));
        const res = await locked.run(argv);
        if (res.exitCode !== 0 && !/does not exist|Cannot find device/i.test(res.stderr)) throw new CommandError({ host: locked.hostId, argv, ...res, context: `delete ${props.ifname} in ${target.label}` });
        await forget();
      }, lockHolder(props.owner), `netns:${containerLabel(props.container)}`);
    });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<AttachmentOutputs>(new AttachmentProvider());
