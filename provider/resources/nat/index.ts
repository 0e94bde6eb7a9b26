/** The `NatRule` resource. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, hostIdOf, secretConnection } from "../../host/connection";
import { HostnetResource, ownerLabel, withSecretConnection } from "../common/dynamic";
import { trackRegistration } from "../../automation/engine-link";
import { containsUnknown } from "../common/unknown";
import { NatRuleArgs, PortRange } from "./args";
import { natFamily, normalizeNat } from "./plan";

export { NatRuleArgs } from "./args";

interface Published {
  /** project/stack/name: a program run again in the same process (Automation API) replaces its own entries. */
  key: string;
  name: string;
  host: string;
  protocol: string;
  /** 4 or 6: each family has its own ports (a port published on both is two rules). */
  family: number;
  hostIp: string;
  from: number;
  to: number;
}
const published = new Map<string, Published>();

/**
 * Refuses, at preview, a second DNAT of the same host, protocol and address
 * whose ports overlap one declared before in this program (this project and
 * stack). Other stacks' ports are checked on the host at create, where their
 * tags are (several stacks may run in one process through the Automation API).
 */
function registerPublished(name: string, raw: Record<string, unknown>): void {
  if (raw.kind !== "dnat" || containsUnknown(raw)) return;
  let n;
  try {
    n = normalizeNat(raw);
  } catch {
    return; // check() reports invalid input with its field
  }
  if (!n.hostPort) return;
  const program = `${pulumi.getProject()}/${pulumi.getStack()}`;
  const key = `${program}/${name}`;
  const me: Published = { key, name, host: hostIdOf(n.connection), protocol: n.protocol ?? "", family: natFamily(n), hostIp: n.hostIp ?? "*", from: n.hostPort.from, to: n.hostPort.to };
  const clash = [...published.values()].find((p) => p.key !== key && p.key.startsWith(`${program}/`) && p.host === me.host && p.protocol === me.protocol && p.family === me.family && (p.hostIp === me.hostIp || p.hostIp === "*" || me.hostIp === "*") && p.from <= me.to && me.from <= p.to);
  if (clash) {
    throw new Error(`NatRule ${name}: ${me.protocol} port ${me.from === me.to ? me.from : `${me.from}-${me.to}`} on ${me.host} (address ${me.hostIp === "*" ? `any IPv${me.family}` : me.hostIp}) is already published by NatRule ${clash.name}`);
  }
  published.set(key, me);
}

/**
 * A NAT rule in the host's nat table, in our own chains (`HOSTNET-PREROUTING`,
 * `HOSTNET-OUTPUT`, `HOSTNET-POSTROUTING`, each jumped to once from its
 * built-in chain), tagged with `-m comment --comment "hostnet:<stack hash>:nat/…  <project>/<stack>"`:
 * `masquerade` / `snat` for traffic leaving the host, `dnat` for a published
 * port (from outside, and from the host itself). Every field is identity: a
 * change creates the new rule before it deletes the old one.
 */
export class NatRule extends HostnetResource {
  declare readonly connection: pulumi.Output<ConnectionSpec>;
  declare readonly kind: pulumi.Output<string>;
  declare readonly hostId: pulumi.Output<string>;
  /** `hostnet:<stack hash>:nat/… <project>/<stack>`, the comment on our rules (see common/owner.ts). */
  declare readonly tag: pulumi.Output<string>;
  /** `nft` or `legacy`: the iptables flavour in use on the host. */
  declare readonly flavor: pulumi.Output<string>;
  /** False when refresh found some of our rules or jumps missing. */
  declare readonly intact: pulumi.Output<boolean>;
  /** Published ports (dnat): protocol, host port range and where it goes, as applied. */
  declare readonly protocol: pulumi.Output<string | undefined>;
  declare readonly hostPort: pulumi.Output<PortRange | undefined>;
  declare readonly toIp: pulumi.Output<string | undefined>;
  declare readonly toPort: pulumi.Output<PortRange | undefined>;
  /** The source a masquerade or snat rule matches. */
  declare readonly source: pulumi.Output<string | undefined>;

  constructor(name: string, args: NatRuleArgs, opts?: pulumi.CustomResourceOptions) {
    const connection = secretConnection(args.connection);
    const checked = pulumi.all([pulumi.unsecret(connection), args.kind, args.protocol, args.hostPort, args.hostIp, args.to]).apply(([c, kind, protocol, hostPort, hostIp, to]) => {
      registerPublished(name, { connection: c, kind, protocol, hostPort, hostIp, to });
      return c;
    });
    const props = { ...args, owner: ownerLabel(), connection: pulumi.all([connection, checked]).apply(([c]) => c), hostId: undefined, tag: undefined, flavor: undefined, forwardFlavor: undefined, intact: undefined, toIp: undefined, toPort: undefined };
    super("nat", "NatRule", name, props, withSecretConnection(opts));
    trackRegistration(this);
  }
}
