/** CRUD wiring of the `ContainerAttachment` dynamic resource. */
import * as pulumi from "@pulumi/pulumi";
import { CommandError, HostKeyError, HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner } from "../../host/runner";
import * as ip from "../../linux/ip";
import { inNetns, netnsIs } from "../../linux/netns";
import { checkWith, defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { LinkAndRoutes, linkAndRoutesReads, namespaceAndHostLinkReads, readLink, readLinkAndRoutes, readNamespaceAndHostLink, readRoutes } from "../common/links";
import { lockHolder, withHostLock } from "../common/lock";
import { Transaction } from "../common/transaction";
import { readRecords, recordMoveStep, removeRecordsArgv } from "../common/moved";
import { containsUnknown } from "../common/unknown";
import { AttachmentInputs, AttachmentOutputs } from "./args";
import { LO_UNREAD, OwnPairMarks, containerLabel, diffAttachment, normalizeAttachment, ownPairMarks, planInside, planMoveIn, planOwnPairCreate, planOwnHostEnd, planRoutes, routesAsInputs, verifyInside, verifyOwnHostEnd, wantsIpv6 } from "./plan";
import { HostNamespaceError, Target, TargetGoneError, TargetStoppedError, knownTarget, refuseContainer, resolveAndRead, resolveTarget } from "./target";
import { LinkState } from "../../linux/parse";
import { checkContainer, hostLinksForChecks, knownContainer, nameTaken, snapshotOf } from "../common/preflight";
import { netnsPathOfPid } from "../../linux/netns";
import { Owner, otherOwner, ownerFromInput, parseMark } from "../common/owner";

/** How errors name an attachment with its own pair. */
function ownPairSubject(runner: Runner, d: AttachmentInputs, target: Target): string {
  return `attachment of ${d.ifname} to ${target.label} on ${runner.hostId} (host end ${d.interface} on ${d.bridge})`;
}

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
    let taken: pulumi.dynamic.CheckFailure | undefined;
    // Read-only, batched per host (preflight.ts): refuse at preview a container that is missing, stopped or shares the host's namespace.
    try {
      await withSecretsRedacted(d.connection, async () => {
        const runner = this.runners(d.connection);
        if ("docker" in d.container) await checkContainer(runner, d.container);
        else await resolveTarget(runner, d.container);
        // The host end of its own pair: a name taken by a link that is not this stack's is refused here (the same read as every check on the host).
        taken = d.bridge ? nameTaken(await hostLinksForChecks(runner), runner.hostId, "interface", d.interface, ownerFromInput(d.owner)) : undefined;
      });
    } catch (e) {
      if (e instanceof HostNamespaceError || e instanceof TargetGoneError || e instanceof TargetStoppedError) return { inputs: res.inputs, failures: [{ property: "container", reason: e.message }] };
      if (e instanceof HostKeyError) return { inputs: res.inputs, failures: [{ property: "connection", reason: e.message }] };
      // Anything else (host unreachable, docker down) is left to create, which reports the command that failed.
    }
    return taken ? { inputs: res.inputs, failures: [taken] } : res;
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
    if (d.bridge) return this.applyOwnPair(runner, d, olds === undefined);
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
    await tx.run(planRoutes(target.nsPath, inner.length > 0 ? await tx.read("reading the routes after the change", () => readRoutes(runner, target.nsPath)) : routesBefore, d));
    return this.verified(runner, tx, subject, target, d, alias);
  }

  /**
   * With `bridge`: makes the attachment's own pair when it is not there
   * (first attach, or the container was restarted and took the old pair with
   * its namespace), else converges the host end and what is inside. One read
   * round trip (the namespace's identity, its links and routes, the host end)
   * and one for the changes with the verifying re-read.
   */
  private async applyOwnPair(runner: Runner, d: AttachmentInputs, fresh: boolean): Promise<AttachmentOutputs> {
    const owner = ownerFromInput(d.owner);
    const marks = ownPairMarks(owner, d.interface);
    const known = await knownContainer(runner, d.container);
    if (fresh) {
      const made = await this.makeOwnPairAtOnce(runner, d, marks, knownTarget(d.container, known));
      if (made) return made;
    }
    const { target, results } = await resolveAndRead(runner, d.container, (nsPath) => namespaceAndHostLinkReads(runner, nsPath, d.interface).commands, known);
    const subject = ownPairSubject(runner, d, target);
    const { links, hostLink: hostEnd, routes: routesBefore } = namespaceAndHostLinkReads(runner, target.nsPath, d.interface).parse(results);
    const inside = links.find((l) => l.name === d.ifname);
    const lo = links.find((l) => l.name === "lo");
    if (hostEnd && hostEnd.alias !== marks.host) {
      const other = otherOwner(hostEnd.alias, owner);
      throw new HostnetError(`${subject}: ${d.interface} already exists on ${runner.hostId} and is ${other ? `another hostnet ${other}'s` : "not made by this attachment"} (alias ${JSON.stringify(hostEnd.alias)}); refusing to touch it`);
    }
    if (inside && inside.alias !== marks.inside) {
      throw new HostnetError(`${subject}: ${d.ifname} already exists in the namespace of ${target.label} and is not this attachment's (kind ${inside.kind || "plain"}, alias ${JSON.stringify(inside.alias)}); refusing`);
    }
    const tx = new Transaction(runner, subject);
    const verify = linkAndRoutesReads(runner, d.ifname, target.nsPath, d.interface);
    let steps;
    if (hostEnd && inside && inside.peerIfindex === hostEnd.ifindex) {
      // On another bridge the gateway's address may answer from another MAC (a renamed bridge): the container forgets
      // what it cached, or it would send to the old MAC until its neighbour entry goes stale (15-45 s).
      const remastered = hostEnd.master !== d.bridge ? [{ description: `forget the neighbours ${d.ifname} cached on ${hostEnd.master ?? "no bridge"}`, argv: inNetns(target.nsPath, ip.ipNeighFlush(d.ifname)), undo: [] }] : [];
      steps = [...planOwnHostEnd(hostEnd, d, marks), ...remastered, ...planInside(target.nsPath, inside, lo, d, routesBefore)];
      // Changed addresses take the kernel's routes through them along: routes are planned from a fresh read after those.
      if (steps.length > 0) {
        await tx.run(steps);
        steps = planRoutes(target.nsPath, await tx.read("reading the routes after the change", () => readRoutes(runner, target.nsPath)), d);
      } else steps = planRoutes(target.nsPath, routesBefore, d);
    } else {
      // Not there, or half of a pair whose other end went with an old namespace (a restarted container): ours, so made anew.
      const stale = [
        ...(hostEnd ? [{ description: `delete ${d.interface}, whose peer is not in ${target.label}`, argv: ip.ipLinkDel(d.interface), undo: [] }] : []),
        ...(inside ? [{ description: `delete ${d.ifname} in ${target.label}, whose peer is not ${d.interface}`, argv: inNetns(target.nsPath, ip.ipLinkDel(d.ifname)), undo: [] }] : []),
      ];
      steps = [...stale, ...planOwnPairCreate(target.nsPath, target.pid > 0 ? String(target.pid) : target.nsPath, lo, d, marks)];
    }
    const read = await tx.runAndRead(steps, verify.commands);
    return this.verifiedOwnPair(runner, tx, subject, target, d, marks, read ? verify.parse(read) : undefined);
  }

  /**
   * A first create in one round trip, from what this run's preflight read of
   * the container (`target`: its PID and namespace inode) with nothing read
   * first: a guard that the PID still names that namespace, the add (the
   * kernel refuses it whole when the host end's name or the name inside is
   * taken), the marks, one `ip -batch` inside, and the verifying re-read.
   * Undefined when there is no such read, or the guard or the add refused:
   * nothing was changed, and the caller reads the host and plans from it.
   */
  private async makeOwnPairAtOnce(runner: Runner, d: AttachmentInputs, marks: OwnPairMarks, target: Target | undefined): Promise<AttachmentOutputs | undefined> {
    if (!target) return undefined;
    const subject = ownPairSubject(runner, d, target);
    const tx = new Transaction(runner, subject);
    const guard = { description: `check that ${target.nsPath} is still the namespace ${target.inode} of ${target.label}`, argv: netnsIs(target.nsPath, target.inode), undo: [] };
    const verify = linkAndRoutesReads(runner, d.ifname, target.nsPath, d.interface, wantsIpv6(d));
    // `lo` was not read: it is set up whatever its state (a no-op when up).
    const read = await tx.probeRunAndRead([guard, ...planOwnPairCreate(target.nsPath, String(target.pid), LO_UNREAD, d, marks)], 2, verify.commands);
    if (read === "refused") return undefined;
    return this.verifiedOwnPair(runner, tx, subject, target, d, marks, read ? verify.parse(read) : undefined);
  }

  /** Checks an own pair after apply (`after`, or read anew when the re-read did not come back): undoes the transaction and throws when it differs from `d`, else returns the outputs. */
  private async verifiedOwnPair(runner: Runner, tx: Transaction, subject: string, target: Target, d: AttachmentInputs, marks: OwnPairMarks, read: LinkAndRoutes | undefined): Promise<AttachmentOutputs> {
    const after = read ?? (await readLinkAndRoutes(runner, d.ifname, target.nsPath, d.interface));
    const problems = [...verifyInside(after.link, after.routes, d), ...verifyOwnHostEnd(after.hostLink, d, marks)];
    if (problems.length > 0 || !after.link) {
      await tx.rollback();
      throw new HostnetError(`${subject}: the state differs after apply: ${problems.join("; ")}`);
    }
    return this.outputs(runner, target, d, after.link, marks.inside);
  }

  /** The outputs once the state inside matches `d`. */
  private outputs(runner: Runner, target: Target, d: AttachmentInputs, after: LinkState, alias: string): AttachmentOutputs {
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

  /** Re-reads the interface and routes inside; undoes the transaction when they differ from the inputs, else returns the outputs. */
  private async verified(runner: Runner, tx: Transaction, subject: string, target: Target, d: AttachmentInputs, alias: string): Promise<AttachmentOutputs> {
    const { link: after, routes } = await readLinkAndRoutes(runner, d.ifname, target.nsPath);
    const problems = verifyInside(after, routes, d);
    if (problems.length > 0 || !after) {
      await tx.rollback();
      throw new HostnetError(`${subject}: the state inside the container differs after apply: ${problems.join("; ")}`);
    }
    return this.outputs(runner, target, d, after, alias);
  }

  async read(id: string, props: AttachmentOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      let state;
      try {
        state = await this.readState(runner, props);
      } catch (e) {
        if (e instanceof TargetGoneError) return { id: "" };
        if (e instanceof HostnetError && /is not running/.test(e.message)) {
          const outs = { ...props, present: false, addresses: [], routes: [], gateway: undefined, gateway6: undefined };
          return { id, props: defined(outs), inputs: defined(this.inputsOf(outs)) };
        }
        throw e;
      }
      const { target, link: inside, routes: read, hostLink } = state;
      // With its own pair, the host end must be there and marked too; the bridge it is on is read back (drift re-masters it).
      const hostOk = !props.bridge || (hostLink !== undefined && hostLink.alias === ownPairMarks(ownerFromInput(props.owner), props.interface).host);
      const mine = inside && inside.alias === props.interfaceAlias && hostOk;
      const routes = mine ? routesAsInputs(read, props.ifname, props.gateway, props.gateway6) : { routes: [] };
      const outs: AttachmentOutputs = {
        ...props,
        addresses: mine ? [...inside.addresses] : [],
        gateway: routes.gateway,
        gateway6: routes.gateway6,
        routes: routes.routes,
        ...(mine && props.mtu !== undefined ? { mtu: inside.mtu } : {}),
        ...(mine && props.mac !== undefined ? { mac: inside.mac } : {}),
        netnsInode: target.inode,
        pid: target.pid,
        containerId: target.containerId,
        present: Boolean(mine && inside.up),
        ...(props.bridge && mine && hostLink?.master ? { bridge: hostLink.master } : {}),
      };
      return { id, props: defined(outs), inputs: defined(this.inputsOf(outs)) };
    });
  }

  /**
   * The target and what is there for `read`: from the host's snapshot when the
   * spec names the container (one read for every resource of the host), else
   * read for this resource alone. Throws as {@link resolveTarget} does.
   */
  private async readState(runner: Runner, props: AttachmentOutputs): Promise<LinkAndRoutes & { target: Target }> {
    const hostEnd = props.bridge ? props.interface : undefined;
    const snap = await snapshotOf(runner, props.container).catch(() => undefined);
    if (snap && "docker" in props.container) {
      const { info, inode, links, routes } = snap.container;
      if (!info) throw new TargetGoneError(`container ${props.container.docker} does not exist on ${runner.hostId}`);
      refuseContainer(info, props.container.docker, runner.hostId);
      if (inode !== undefined && links.length > 0 && !info.networkMode.startsWith("container:")) {
        const target: Target = { nsPath: netnsPathOfPid(info.pid), inode, pid: info.pid, containerId: info.id, label: containerLabel(props.container) };
        const hostLink = hostEnd ? snap.hostLinks.find((l) => l.name === hostEnd) : undefined;
        return { target, link: links.find((l) => l.name === props.ifname), routes, ...(hostLink ? { hostLink } : {}) };
      }
    }
    const target = await resolveTarget(runner, props.container);
    return { target, ...(await readLinkAndRoutes(runner, props.ifname, target.nsPath, hostEnd)) };
  }

  private inputsOf(o: AttachmentOutputs): AttachmentInputs {
    const i: AttachmentInputs = { connection: o.connection, container: o.container, interface: o.interface, ifname: o.ifname, addresses: o.addresses, routes: o.routes };
    if (o.owner) i.owner = o.owner;
    if (o.bridge) i.bridge = o.bridge;
    if (o.gateway) i.gateway = o.gateway;
    if (o.gateway6) i.gateway6 = o.gateway6;
    if (o.mtu !== undefined) i.mtu = o.mtu;
    if (o.mac !== undefined) i.mac = o.mac;
    return i;
  }

  async delete(_id: string, props: AttachmentOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      if (props.bridge) return this.deleteOwnPair(runner, props);
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

  /**
   * Deletes an attachment's own pair: its host end, only when it carries this
   * attachment's mark (the end inside goes with it), in one command. Nothing
   * inside the container is read: when the host end is gone, so is its pair.
   */
  private async deleteOwnPair(runner: Runner, props: AttachmentOutputs): Promise<void> {
    const marks = ownPairMarks(ownerFromInput(props.owner), props.interface);
    await withHostLock(runner, async (locked) => {
      const argv = ip.ipLinkDelIfMarked(props.interface, marks.host);
      const res = await locked.run(argv);
      if (res.exitCode === 3) {
        console.error(`warning: ${props.interface} on ${locked.hostId} is not the host end this attachment made (${res.stderr.trim()}); leaving it in place`);
        return;
      }
      if (res.exitCode !== 0 && !/does not exist|Cannot find device/i.test(res.stderr)) throw new CommandError({ host: locked.hostId, argv, ...res, context: `delete ${props.interface} (and ${props.ifname} in ${containerLabel(props.container)})` });
    }, lockHolder(props.owner), `netns:${containerLabel(props.container)}`);
  }

}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<AttachmentOutputs>(new AttachmentProvider());
