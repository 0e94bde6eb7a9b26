/** The `Topology` component: a spec turned into resources across hosts. */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { trackRegistration } from "../automation/engine-link";
import { Connection } from "../host/connection";
import { Bridge } from "../resources/bridge";
import { ContainerAttachment, ContainerAttachmentArgs } from "../resources/attachment";
import { NatRule } from "../resources/nat";
import { HostsEntries } from "../resources/hosts";
import { Vxlan } from "../resources/vxlan";
import { PortRange } from "../resources/nat/args";
import { portRangeText } from "../resources/nat/plan";
import { VethPair } from "../resources/veth";
import { LoadedSpec, Spec } from "../spec/types";
import { connectionFor } from "./connections";
import { PlannedAttachment, planTopology } from "./plan";

/** Inputs of a {@link Topology}. */
export interface TopologyArgs {
  /** A spec from `loadSpec(path)` (or a spec object, checked by the caller). */
  spec: LoadedSpec | Spec;
  /** Connections by host name; they take precedence over the spec's host entries (which carry no secrets). */
  connections?: Record<string, pulumi.Input<Connection>>;
}

/** What a host ends up with. */
export interface HostInventory {
  bridges: string[];
  /** container → ifname → addresses. */
  containers: Record<string, Record<string, string[]>>;
  /** `tcp 8080 -> 172.16.0.2:80` */
  published: string[];
  masqueraded: string[];
}

/**
 * `value`, carrying a dependency on `on` while those resources work (so the
 * engine orders and records it), and plain `value` when one of them failed.
 * Every edge between Topology's resources goes through this: a failed
 * resource must never make the ones it feeds fail to register, because the
 * engine (with continue-on-error, as `hostnet up` runs it) deletes what a
 * program did not register — 0.1 lost a host's whole network that way.
 */
export function fedBy<T>(value: T, on: readonly pulumi.Resource[]): pulumi.Output<T> {
  if (on.length === 0) return pulumi.output(value) as pulumi.Output<T>;
  return pulumi.recover(pulumi.all(on.map((r) => r.urn)).apply(() => value), () => value) as pulumi.Output<T>;
}

/**
 * The name of a resource among `on` that failed in this run, else undefined
 * (known once they all settled). A resource fed by a failed one gets it as
 * its `blockedBy` input: it keeps its state, or is skipped with that reason.
 */
export function failedAmong(on: readonly pulumi.Resource[], names: readonly string[]): pulumi.Output<string | undefined> {
  if (on.length === 0) return pulumi.output(undefined);
  return pulumi.all(on.map((r, i) => pulumi.recover(r.urn.apply(() => ""), () => names[i]))).apply((xs) => xs.find((x) => x !== "") || undefined);
}

/**
 * Marks a resource's outputs as handled: when its create or update fails, the
 * engine reports that error with the resource (and `hostnet up` goes on with
 * the rest); its rejected outputs must not also end the program as
 * "Unhandled exception … failed to register", once per output.
 */
export function quietOnFailure<R extends pulumi.Resource>(r: R): R {
  for (const v of Object.values(r)) if (pulumi.Output.isInstance(v)) pulumi.recover(v, () => undefined);
  return r;
}

function isLoaded(s: LoadedSpec | Spec): s is LoadedSpec {
  return "file" in s && "spec" in s;
}

/** What one resource of a host contributes to its inventory, from its outputs (undefined: it failed in this run). */
type InventoryPart =
  | { bridge: string }
  | { container: string; ifname: string; addresses: string[] }
  | { published: string }
  | { masqueraded: string };

const portRange = (r: PortRange | undefined) => (r ? portRangeText(r) : "?");

/** A host's inventory from the parts its resources' outputs gave, in declaration order. */
export function inventoryFrom(parts: readonly (InventoryPart | undefined)[]): HostInventory {
  const inv: HostInventory = { bridges: [], containers: {}, published: [], masqueraded: [] };
  for (const p of parts) {
    if (!p) continue;
    if ("bridge" in p) inv.bridges.push(p.bridge);
    else if ("container" in p) (inv.containers[p.container] ??= {})[p.ifname] = p.addresses;
    else if ("published" in p) inv.published.push(p.published);
    else inv.masqueraded.push(p.masqueraded);
  }
  return inv;
}

/** `value` once the resource's outputs are known; undefined when it failed (its outputs never resolve to values). */
const partOf = <T>(value: pulumi.Output<T>): pulumi.Output<T | undefined> => pulumi.recover(value, () => undefined) as pulumi.Output<T | undefined>;

/**
 * Every bridge, veth pair, attachment and NAT rule of a spec, on every host.
 * Resource names derive from the spec (`node1.bridge.mybr0`,
 * `node1.web.eth0`, …), so editing one entry touches only its resources.
 * Hosts share no dependencies, so the engine provisions them in parallel.
 */
export class Topology extends pulumi.ComponentResource {
  /** Per host: bridges, container interfaces and addresses, published ports. */
  declare readonly inventory: pulumi.Output<Record<string, HostInventory>>;

  constructor(name: string, args: TopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hostnet:index:Topology", name, {}, opts);
    trackRegistration(this);
    const spec = isLoaded(args.spec) ? args.spec.spec : args.spec;
    const specDir = isLoaded(args.spec) ? path.dirname(path.resolve(args.spec.file)) : process.cwd();
    const plans = planTopology(spec);
    const inventory: Record<string, pulumi.Output<HostInventory>> = {};
    for (const p of plans) {
      const parts: pulumi.Output<InventoryPart | undefined>[] = [];
      const connection = args.connections?.[p.host] ?? connectionFor(p.host, spec.hosts[p.host], specDir);
      const byName = new Map<string, pulumi.Resource>();
      const bridges = new Map<string, Bridge>();
      for (const b of p.bridges) {
        const r = quietOnFailure(new Bridge(b.resourceName, { connection, name: b.name, addresses: b.addresses, ...(b.mtu ? { mtu: b.mtu } : {}), ...(b.stp !== undefined ? { stp: b.stp } : {}), ...(b.adopt ? { adopt: true } : {}) }, { parent: this }));
        bridges.set(b.name, r);
        byName.set(b.resourceName, r);
        parts.push(partOf(r.name.apply((bridge) => ({ bridge }))));
      }
      /** One container interface; `feeds` are what it waits for (by resource and name), `own` what differs by kind. */
      const attach = (a: PlannedAttachment, feeds: { on: pulumi.Resource[]; names: string[] }, own: Pick<ContainerAttachmentArgs, "interface" | "bridge">) => {
        const att = quietOnFailure(new ContainerAttachment(a.resourceName, {
          connection, container: a.target, ...own, ifname: a.ifname,
          addresses: a.addresses, ...(a.gateway ? { gateway: a.gateway } : {}), ...(a.gateway6 ? { gateway6: a.gateway6 } : {}), routes: a.routes, ...(a.mtu ? { mtu: a.mtu } : {}),
          blockedBy: failedAmong(feeds.on, feeds.names),
        }, { parent: this }));
        byName.set(a.resourceName, att);
        parts.push(partOf(pulumi.all([att.ifname, att.addresses]).apply(([ifname, addresses]) => ({ container: a.container, ifname, addresses }))));
      };
      for (const v of p.veths) {
        const br = v.bridge ? bridges.get(v.bridge) : undefined;
        const bridgeFeeds = { on: br ? [br] : [], names: v.bridge ? [`${p.host}.bridge.${v.bridge}`] : [] };
        const onBridge = v.bridge ? { bridge: fedBy(v.bridge, bridgeFeeds.on) } : {};
        if (!v.pair) {
          // A bridge interface: the attachment makes its own pair, with the container end created inside the container.
          attach(v.attachments[0], bridgeFeeds, { interface: v.name, ...onBridge });
          continue;
        }
        const pair = quietOnFailure(new VethPair(v.resourceName, { connection, name: v.name, peerName: v.peerName, ...onBridge, blockedBy: failedAmong(bridgeFeeds.on, bridgeFeeds.names) }, { parent: this }));
        byName.set(v.resourceName, pair);
        for (const a of v.attachments) attach(a, { on: [pair], names: [v.resourceName] }, { interface: fedBy(a.end === "peer" ? v.peerName : v.name, [pair]) });
      }
      for (const n of p.nat) {
        // What the rule waits for (its bridge, or the attachment of the container it publishes) is an input edge, not dependsOn: see fedBy.
        const afterNames = n.after.filter((x) => byName.has(x));
        const after = afterNames.map((x) => byName.get(x) as pulumi.Resource);
        const rule = n.rule.kind === "masquerade" ? { ...n.rule, notOutInterface: fedBy(n.rule.notOutInterface, after) } : { ...n.rule, to: fedBy(n.rule.to, after) };
        const nat = quietOnFailure(new NatRule(n.resourceName, { connection, ...rule, blockedBy: failedAmong(after, afterNames) }, { parent: this }));
        parts.push(
          partOf(
            pulumi.all([nat.kind, nat.protocol, nat.hostPort, nat.toIp, nat.toPort, nat.source]).apply(([kind, protocol, hostPort, toIp, toPort, source]): InventoryPart =>
              kind === "dnat" ? { published: `${protocol ?? "tcp"} ${portRange(hostPort)} -> ${toIp ?? "?"}:${portRange(toPort)}` } : { masqueraded: source ?? "any" },
            ),
          ),
        );
      }
      for (const o of p.overlays) {
        // On its bridge: it waits for it (an input edge, like an attachment's).
        const br = bridges.get(o.bridge);
        const vx = quietOnFailure(new Vxlan(o.resourceName, { connection, name: o.name, vni: o.vni, local: o.local, remotes: o.remotes, bridge: fedBy(o.bridge, br ? [br] : []), ...(o.port ? { port: o.port } : {}), mtu: o.mtu }, { parent: this }));
        byName.set(o.resourceName, vx);
      }
      for (const h of p.hosts) {
        // Names only: the container's own interfaces need not be up for its /etc/hosts to be written.
        quietOnFailure(new HostsEntries(h.resourceName, { connection, container: h.target, entries: h.entries }, { parent: this }));
      }
      inventory[p.host] = pulumi.all(parts).apply(inventoryFrom);
    }
    this.inventory = pulumi.output(inventory) as pulumi.Output<Record<string, HostInventory>>;
    this.registerOutputs({ inventory: this.inventory });
  }
}
