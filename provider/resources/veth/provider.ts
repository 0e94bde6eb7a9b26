/** CRUD wiring of the `VethPair` dynamic resource. */
import * as pulumi from "@pulumi/pulumi";
import { CommandError, HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner } from "../../host/runner";
import * as ip from "../../linux/ip";
import { inNetns } from "../../linux/netns";
import { LinkState } from "../../linux/parse";
import { defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { readLinks } from "../common/links";
import { lockHolder, withHostLock } from "../common/lock";
import { findMovedLink, movedIntoGoneNamespace, removeRecordsArgv } from "../common/moved";
import { linkId, otherOwner, ownerFromInput } from "../common/owner";
import { checkOnHost, hostLinksForChecks, hostLinksOnce, nameTaken } from "../common/preflight";
import { runSteps } from "../common/transaction";
import { containsUnknown } from "../common/unknown";
import { PeerLocation, VethInputs, VethOutputs } from "./args";
import { VethMarks, diffVeth, normalizeVeth, planVethCreate, planVethUpdate, vethMarks } from "./plan";

const isName = (m: VethMarks, alias: string) => alias === m.name || alias === m.legacyName;
const isPeer = (m: VethMarks, alias: string) => alias === m.peer || alias === m.legacyPeer;
const allMarks = (m: VethMarks) => [m.name, m.peer, m.legacyName, m.legacyPeer];

/**
 * Whether the host end `a` has lost its peer with the namespace our
 * attachment moved it into (a restarted or removed container): the kernel
 * names a peer in the same namespace (`link`) and gives a live namespace an
 * id (`link_netnsid`); a peer with neither, or id -1, is in a dying
 * namespace; and our record's namespace may be no longer there. Such a pair
 * is going away and counts as gone.
 */
async function peerDied(runner: Runner, a: LinkState, marks: VethMarks): Promise<boolean> {
  if (a.kind !== "veth" || a.peer !== undefined) return false;
  if (a.peerNetnsId === undefined || a.peerNetnsId < 0) return true;
  return movedIntoGoneNamespace(runner, [marks.peer, marks.legacyPeer]);
}

/** The optional fields of `name` the kernel reports whether given or not. */
const VETH_OPTIONAL = ["mtu", "mac"] as const;

function outputs(d: VethInputs, hostId: string, a: LinkState | undefined, where: { location: PeerLocation; peerLocation: PeerLocation }, olds?: VethOutputs, given?: string[]): VethOutputs {
  return {
    ...d,
    given: given ?? VETH_OPTIONAL.filter((f) => d[f] !== undefined),
    ...(a ? { mtu: a.mtu, mac: a.mac } : {}),
    ...(a && a.master ? { bridge: a.master } : a ? { bridge: undefined } : {}),
    hostId,
    ifindex: a?.ifindex ?? olds?.ifindex ?? 0,
    ...where,
  };
}

/** The `VethPair` provider. */
export class VethProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runners: RunnerFactory = runnerFor) {}

  /** Validates, then (read-only, one read of the host's links shared by every check on it) refuses names taken by links that are not ours. */
  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return checkOnHost(normalizeVeth, news, this.runners, async (runner, d) => {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      if (d.adopt) return failures;
      const links = await hostLinksForChecks(runner);
      const owner = ownerFromInput(d.owner);
      for (const [field, name] of [["name", d.name], ["peerName", d.peerName]] as const) {
        const veth = links.find((x) => x.name === name)?.kind === "veth";
        const f = nameTaken(links, runner.hostId, field, name, owner, field === "name" && veth ? ", or set adopt: true to take it over" : "");
        if (f) failures.push(f);
      }
      return failures;
    });
  }

  async diff(_id: string, olds: VethOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    if (containsUnknown(news)) return { changes: true, deleteBeforeReplace: true };
    const d = diffVeth(olds, normalizeVeth(news));
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: true };
  }

  async create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    const d = normalizeVeth(raw);
    return withSecretsRedacted(d.connection, async () => {
      const runner = this.runners(d.connection);
      const id = linkId(runner.hostId, "veth", d.name);
      return { id, outs: defined(await withHostLock(runner, (r) => this.apply(r, id, d, undefined), lockHolder(d.owner), `link:${d.name}`)) };
    });
  }

  async update(id: string, olds: VethOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const d = normalizeVeth(raw);
    return withSecretsRedacted(d.connection, async () => {
      const runner = this.runners(d.connection);
      return { outs: defined(await withHostLock(runner, (r) => this.apply(r, id, d, olds), lockHolder(d.owner), `link:${d.name}`)) };
    });
  }

  private async apply(runner: Runner, id: string, d: VethInputs, olds: VethOutputs | undefined): Promise<VethOutputs> {
    const owner = ownerFromInput(d.owner);
    const marks = vethMarks(id, owner);
    const subject = `veth ${d.name} on ${runner.hostId}`;
    let links = await readLinks(runner);
    const stale = links.find((l) => l.name === d.name && isName(marks, l.alias));
    if (stale && (await peerDied(runner, stale, marks))) {
      // Our pair whose container end went with a restarted container's namespace: remove what is left, then make it anew.
      await this.del(runner, ip.ipLinkDel(d.name), `delete veth ${d.name}, whose peer went with a namespace that is gone`);
      links = links.filter((l) => l !== stale);
    }
    const a = links.find((l) => l.name === d.name);
    const p = links.find((l) => l.name === d.peerName);
    if (d.bridge) {
      const br = links.find((l) => l.name === d.bridge);
      if (!br) throw new HostnetError(`${subject}: bridge ${d.bridge} not found on ${runner.hostId}`);
      if (br.kind !== "bridge") throw new HostnetError(`${subject}: ${d.bridge} exists on ${runner.hostId} but is a ${br.kind || "plain device"}, not a bridge`);
    }
    if (!a) {
      if (olds && olds.location === "moved") {
        if ((olds.bridge ?? "") !== (d.bridge ?? "")) throw new HostnetError(`${subject}: ${d.name} has been moved into another namespace; its bridge cannot change there`);
        return { ...olds, ...d };
      }
      if (p) throw new HostnetError(`${subject}: ${d.peerName} already exists on ${runner.hostId} (a ${p.kind || "plain device"}${p.alias ? `, alias ${p.alias}` : ""})`);
      await runSteps(runner, subject, planVethCreate(d, marks));
    } else {
      if (a.kind !== "veth") throw new HostnetError(`${d.name} exists on ${runner.hostId} but is a ${a.kind || "plain device"}, not a veth`);
      const other = otherOwner(a.alias, owner);
      if (other && !d.adopt) throw new HostnetError(`a veth named ${d.name} already exists on ${runner.hostId} and belongs to another hostnet ${other} (alias ${JSON.stringify(a.alias)}); choose another name, or destroy it in that stack first`);
      if (!isName(marks, a.alias) && !d.adopt && !olds) throw new HostnetError(`a veth named ${d.name} already exists on ${runner.hostId} and is not managed by this resource (alias ${JSON.stringify(a.alias)}); set adopt: true to take it over`);
      const peerHere = p && a.peer === p.name ? p : undefined;
      if (p && !peerHere) throw new HostnetError(`${subject}: ${d.peerName} exists on ${runner.hostId} but is not the peer of ${d.name}`);
      await runSteps(runner, subject, planVethUpdate(a, peerHere, d, marks));
    }
    const after = await readLinks(runner);
    const a2 = after.find((l) => l.name === d.name);
    if (!a2 || a2.alias !== marks.name || (a2.master ?? "") !== (d.bridge ?? "")) {
      throw new HostnetError(`${subject}: the kernel state differs after apply (${a2 ? `alias ${a2.alias}, master ${a2.master ?? "none"}` : "missing"})`);
    }
    return outputs(d, runner.hostId, a2, { location: "host", peerLocation: a2.peerNetnsId === undefined ? "host" : "moved" });
  }

  async read(id: string, props: VethOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const marks = vethMarks(id, ownerFromInput(props.owner));
      const links = await hostLinksOnce(runner);
      const a = links.find((l) => l.name === props.name && isName(marks, l.alias));
      const p = links.find((l) => isPeer(marks, l.alias));
      // Its container end went with a restarted container's namespace: the pair is gone (the next up makes it anew).
      if (a && (await peerDied(runner, a, marks))) return { id: "" };
      let outs: VethOutputs;
      // State of 0.1 has no record of the given fields: then both count as given, as they did.
      const given = props.given ?? [...VETH_OPTIONAL];
      if (a) outs = outputs(props, runner.hostId, a, { location: "host", peerLocation: a.peerNetnsId === undefined ? "host" : "moved" }, undefined, given);
      else if (p) outs = { ...props, location: "moved", peerLocation: "host" };
      // Neither end on the host: look only where our attachments recorded moving them (moved.ts).
      else if (await findMovedLink(runner, allMarks(marks))) outs = { ...props, location: "moved", peerLocation: "moved" };
      else return { id: "" };
      const inputs: VethInputs = { connection: props.connection, name: props.name, peerName: props.peerName, adopt: props.adopt, ...(props.owner ? { owner: props.owner } : {}) };
      if (outs.bridge) inputs.bridge = outs.bridge;
      if (given.includes("mtu") && props.mtu !== undefined) inputs.mtu = outs.mtu;
      if (given.includes("mac") && props.mac !== undefined) inputs.mac = outs.mac;
      if (props.peerMac !== undefined) inputs.peerMac = props.peerMac;
      return { id, props: defined(outs), inputs: defined(inputs) };
    });
  }

  async delete(id: string, props: VethOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      const marks = vethMarks(id, ownerFromInput(props.owner));
      await withHostLock(runner, async (locked) => {
        const links = await readLinks(locked);
        const here = links.find((l) => isName(marks, l.alias)) ?? links.find((l) => isPeer(marks, l.alias));
        const away = here ? undefined : await findMovedLink(locked, allMarks(marks));
        if (here) await this.del(locked, ip.ipLinkDel(here.name), `delete veth ${here.name}`);
        else if (away) await this.del(locked, inNetns(away.nsPath, ip.ipLinkDel(away.link.name)), `delete veth ${away.link.name} in ${away.nsPath}`);
        // The pair is gone (or went with its namespace): its records of where the ends went go too.
        await locked.run(removeRecordsArgv(allMarks(marks)));
      }, lockHolder(props.owner), `link:${props.name}`);
    });
  }

  /** Runs a delete; "already gone" is success, any other failure is reported (not retried). */
  private async del(runner: Runner, argv: string[], context: string): Promise<void> {
    const res = await runner.run(argv);
    if (res.exitCode !== 0 && !/does not exist|Cannot find device/i.test(res.stderr)) throw new CommandError({ host: runner.hostId, argv, ...res, context });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<VethOutputs>(new VethProvider());
