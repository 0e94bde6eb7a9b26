import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Bridge, ContainerAttachment, NatRule, VethPair, Vxlan } from "../../provider";
import { dockerExec, removeContainers, runContainer } from "../helpers/docker";
import { newStack, TestStack } from "../helpers/engine";
import { firewallSnapshot, foreignFirewall } from "../helpers/firewall";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";

/** What the program declares: each operation of the suite turns one shape into another. */
interface Shape {
  bridge?: { addresses: string[]; mtu?: number };
  veth?: { mtu?: number };
  att?: { addresses: string[] };
  /** An attachment that makes its own pair on the bridge (as Topology declares a bridge interface). */
  own?: { addresses: string[]; mtu?: number };
  dnat?: boolean;
  /** A VXLAN device on the bridge, flooding to these members (underlay: the host's own address). */
  vx?: { remotes: string[]; mtu?: number };
}

const B = { addresses: ["172.27.0.1/24"] };
const A = { addresses: ["172.27.0.2/24"] };
const PAIR: Shape = { bridge: B, veth: {} };
const ATTACHED: Shape = { ...PAIR, att: A };

/**
 * One operation: the shape before, the shape wanted. An attachment comes and
 * goes with its pair, as Topology declares them (deleting an attachment
 * deletes the interface it moved in, which is the pair's container end).
 */
const OPERATIONS: [string, Shape, Shape, Shape[]?][] = [
  ["Bridge create", {}, { bridge: B }],
  ["Bridge update (MTU, a second address)", { bridge: { ...B, mtu: 1500 } }, { bridge: { addresses: ["172.27.0.1/24", "172.28.0.1/24"], mtu: 1400 } }],
  ["Bridge delete", { bridge: B }, {}],
  ["VethPair create", { bridge: B }, PAIR],
  ["VethPair update (MTU)", { ...PAIR, veth: { mtu: 1500 } }, { ...PAIR, veth: { mtu: 1400 } }],
  ["VethPair delete", PAIR, { bridge: B }],
  // Two resources: the pair made and its attachment not is each resource as before or as desired.
  ["VethPair and ContainerAttachment create", { bridge: B }, ATTACHED, [PAIR]],
  ["ContainerAttachment update (address)", ATTACHED, { ...PAIR, att: { addresses: ["172.27.0.3/24"] } }],
  ["VethPair and ContainerAttachment delete", ATTACHED, { bridge: B }],
  ["NatRule create (published port)", ATTACHED, { ...ATTACHED, dnat: true }],
  ["NatRule delete", { ...ATTACHED, dnat: true }, ATTACHED],
  // Last: each operation ends in its "before" shape, and an attachment making its own pair holds the container's eth0,
  // which the moved-in attachment of the shapes above cannot take while it is there (two resources, made before deleted).
  ["ContainerAttachment with its own pair create", { bridge: B }, { bridge: B, own: A }],
  ["ContainerAttachment with its own pair update (address, MTU)", { bridge: B, own: { ...A, mtu: 1500 } }, { bridge: B, own: { addresses: ["172.27.0.3/24"], mtu: 1400 } }],
  ["ContainerAttachment with its own pair delete", { bridge: B, own: A }, { bridge: B }],
  // On the hard host's INPUT (it holds a foreign rule) the tunnel's accepts go into HOSTNET-INPUT: chain, jump and rules are steps too.
  ["Vxlan create", { bridge: B }, { bridge: B, vx: { remotes: ["192.0.2.2", "192.0.2.3"] } }],
  ["Vxlan update (a member leaves, another joins, MTU)", { bridge: B, vx: { remotes: ["192.0.2.2", "192.0.2.3"], mtu: 1450 } }, { bridge: B, vx: { remotes: ["192.0.2.2", "192.0.2.4"], mtu: 1400 } }],
  ["Vxlan delete", { bridge: B, vx: { remotes: ["192.0.2.2"] } }, { bridge: B }],
];

/** Tallies for the note. */
const tally = { injected: 0, asBefore: 0, asDesired: 0, perResource: 0, recovered: 0, other: 0, converged: 0, foreignTouched: 0 };

/**
 * Issue 9's fault-injection suite: for each resource kind and each of its
 * create, update and delete, the k-th command that changes the host fails
 * (HOSTNET_TEST_FAULTS, k = 1, 2, … until the operation completes without
 * meeting it), on a test host as hard as a Docker/ufw server. After each
 * failed `up` the host (its links and addresses, the container's interfaces
 * and routes, iptables-save of both flavours and the nft ruleset) must be
 * exactly as before the operation or exactly as desired; the error names the
 * host and the injected step; a second `up` converges; the host's own
 * (foreign) firewall rules are never touched.
 */
describe("integration: fault injection at every mutating step of every resource's create, update and delete", function () {
  let host: TestHost;
  let t: TestStack;
  let container = "";
  let shape: Shape = {};

  /** The host as the comparisons see it: everything but counters, ifindexes and random veth MACs. */
  async function state(): Promise<string> {
    type Link = { ifname: string; mtu: number; flags: string[]; master?: string; ifalias?: string; linkinfo?: { info_kind?: string }; addr_info?: { local: string; prefixlen: number; scope: string }[] };
    const norm = (links: Link[]) =>
      links
        .map((l) => ({
          name: l.ifname, kind: l.linkinfo?.info_kind ?? "", mtu: l.mtu, up: l.flags.includes("UP"), master: l.master ?? "", alias: l.ifalias ?? "",
          addrs: (l.addr_info ?? []).filter((a) => a.scope === "global").map((a) => `${a.local}/${a.prefixlen}`).sort(),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    const hostLinks = norm(JSON.parse(await host.exec(["ip", "-j", "-d", "addr", "show"])) as Link[]);
    const inside = norm(JSON.parse((await dockerExec(container, ["ip", "-j", "-d", "addr", "show"])).stdout || "[]") as Link[]);
    const routes = (await dockerExec(container, ["ip", "route"])).stdout;
    // A VXLAN device's members are its flood entries (learnt ones come and go with traffic).
    const members = await host.exec(["sh", "-c", "bridge fdb show dev hnvx-f 2>/dev/null | grep '^00:00:00:00:00:00' || true"]);
    return JSON.stringify({ hostLinks, inside, routes, members }, null, 1) + "\n" + (await firewallSnapshot(host));
  }

  async function up(to: Shape): Promise<{ ok: boolean; out: string }> {
    shape = to;
    try {
      const r = await t.stack.up({ color: "never" });
      return { ok: true, out: r.stdout };
    } catch (e) {
      return { ok: false, out: String((e as Error).message) };
    }
  }
  /** Engine output of the last `up`s, for the message when a comparison fails. */
  const outputs: string[] = [];
  async function mustUp(to: Shape, what: string): Promise<void> {
    const r = await up(to);
    outputs.push(`--- ${what} (${JSON.stringify(to)}):\n${r.out}`);
    if (outputs.length > 3) outputs.shift();
    assert.ok(r.ok, `${what}: up failed:\n${r.out}`);
  }

  before(async () => {
    requireRoot();
    host = await TestHost.create("faults", { hard: true });
    container = await runContainer("faults");
    const conn = host.connection();
    t = await newStack("faults", async () => {
      const s = shape;
      const br = s.bridge ? new Bridge("br", { connection: conn, name: "hnbr-f", addresses: s.bridge.addresses, ...(s.bridge.mtu ? { mtu: s.bridge.mtu } : {}) }) : undefined;
      const v = s.veth ? new VethPair("v", { connection: conn, name: "hnv-f", peerName: "hnv-fc", ...(br ? { bridge: br.name } : {}), ...(s.veth.mtu ? { mtu: s.veth.mtu } : {}) }) : undefined;
      const a = s.att && v ? new ContainerAttachment("a", { connection: conn, container: { docker: container }, interface: v.peerName, addresses: s.att.addresses, gateway: "172.27.0.1" }) : undefined;
      if (s.own && br) new ContainerAttachment("o", { connection: conn, container: { docker: container }, interface: "hnv-fo", bridge: br.name, addresses: s.own.addresses, gateway: "172.27.0.1", ...(s.own.mtu ? { mtu: s.own.mtu } : {}) });
      if (s.vx && br) new Vxlan("vx", { connection: conn, name: "hnvx-f", vni: 99, local: host.address, remotes: s.vx.remotes, bridge: br.name, ...(s.vx.mtu ? { mtu: s.vx.mtu } : {}) });
      if (s.dnat) new NatRule("web", { connection: conn, kind: "dnat", protocol: "tcp", hostPort: 8080, to: `${(s.att?.addresses[0] ?? "172.27.0.2/24").split("/")[0]}:80` }, { dependsOn: a ? [a] : [] });
    });
  });
  after(async () => {
    delete process.env.HOSTNET_TEST_FAULTS;
    console.log(`      fault-injection figures: ${JSON.stringify(tally)}`);
    await t?.cleanup().catch(() => undefined);
    await removeContainers(container ? [container] : []);
    await host?.destroy();
  });

  for (const [name, from, to, between = []] of OPERATIONS) {
    it(`${name}: every step failing leaves the host as before or as desired, names host and step, and the next up converges`, async () => {
      await mustUp(from, "setup");
      const before = await state();
      const foreignBefore = await foreignFirewall(host);
      const middles: string[] = [];
      for (const b of between) {
        await mustUp(b, "a state between");
        middles.push(await state());
      }
      await mustUp(to, "without faults");
      const desired = await state();
      assert.notEqual(desired, before, "the operation changes the host");
      await mustUp(from, "reset");
      assert.equal(await state(), before, `reset to before; the last ups said:\n${outputs.join("\n")}`);
      const outcomes: string[] = [];
      const trace = path.join(host.dir, "faults-trace");
      /**
       * Fails the k-th mutating command, k = 1, 2, … on top of the faults of
       * `prefix` (each of which was met and recovered from), until a run no
       * longer meets the new fault. A fault that a run recovers from by
       * itself (the one-round-trip create's probes fall back to reading and
       * planning) leaves the host as desired; the steps of the path it fell
       * back to are then failed in turn the same way (one level: two faults,
       * the first of which changed nothing, never a fault in an undo).
       */
      const explore = async (prefix: { k: number; line: string }[]): Promise<void> => {
        const label = (k: number) => [...prefix.map((p) => p.k), k].join("+");
        const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        for (let k = 1; k <= 60; k++) {
          fs.writeFileSync(trace, "");
          // A fault recovered from is pinned to its command (the first run of it), so that the new fault's count cannot move it onto another one (an undo).
          const faults = [...prefix.map((p) => ({ host: `${host.address}:22`, mutating: true, match: `^${escape(p.line)}$`, nth: 1 })), { host: `${host.address}:22`, mutating: true, nth: k }];
          process.env.HOSTNET_TEST_FAULTS = JSON.stringify(faults);
          process.env.HOSTNET_TEST_TRACE = trace;
          let r;
          try {
            r = await up(to);
          } finally {
            delete process.env.HOSTNET_TEST_FAULTS;
            delete process.env.HOSTNET_TEST_TRACE;
          }
          const met = new Map(fs.readFileSync(trace, "utf8").split("\n").filter((l) => l.split("\t")[1] === "#fault").map((l) => [Number(l.split("\t")[2]), l.split("\t").slice(3).join("\t")] as const));
          const now = await state();
          if (r.ok && !met.has(prefix.length)) {
            // The operation has fewer than k mutating commands (after the prefix's): it completed.
            assert.equal(now, desired, `${name}: completed without meeting fault ${label(k)}`);
            await mustUp(from, "reset");
            return;
          }
          tally.injected++;
          if ((await foreignFirewall(host)) !== foreignBefore) tally.foreignTouched++;
          if (r.ok) {
            // Met and recovered from within the same run: the host must be as desired.
            assert.equal(now, desired, `${name}, fault ${label(k)}: the run succeeded but the host is not as desired`);
            const line = met.get(prefix.length) ?? "";
            outcomes.push(`recovered(${label(k)}: ${line.slice(0, 40)})`);
            tally.recovered++;
            tally.converged++;
            await mustUp(from, "reset");
            assert.equal(await state(), before, "reset to before");
            if (prefix.length === 0) await explore([{ k, line }]);
            continue;
          }
          const outcome = now === before ? "as-before" : now === desired ? "as-desired" : middles.includes(now) ? "per-resource" : "other";
          outcomes.push(prefix.length ? `${outcome}(${label(k)})` : outcome);
          if (outcome === "as-before") tally.asBefore++;
          else if (outcome === "as-desired") tally.asDesired++;
          else if (outcome === "per-resource") tally.perResource++;
          else tally.other++;
          assert.match(r.out, /injected fault \(HOSTNET_TEST_FAULTS\)/, `${name}, fault ${label(k)}: the error shows the failed command`);
          assert.ok(r.out.includes(`${host.address}:22`), `${name}, fault ${label(k)}: the error names the host`);
          assert.notEqual(outcome, "other", `${name}, fault ${label(k)}: the host is neither as before nor as desired:\n${r.out}\n--- now:\n${now}\n--- before:\n${before}\n--- desired:\n${desired}`);
          await mustUp(to, `${name}, fault ${label(k)}: converge`);
          assert.equal(await state(), desired, `${name}, fault ${label(k)}: the next up converges`);
          tally.converged++;
          await mustUp(from, "reset");
          assert.equal(await state(), before, "reset to before");
        }
        assert.fail(`${name}: still meeting fault ${label(60)}`);
      };
      await explore([]);
      assert.ok(outcomes.length > 0, `${name}: at least one step was failed`);
      console.log(`      ${name}: ${outcomes.length} fault(s): ${outcomes.join(", ")}`);
    });
  }

  it("no fault touched a foreign object, and every one converged", () => {
    assert.equal(tally.foreignTouched, 0);
    assert.equal(tally.other, 0);
    assert.equal(tally.converged, tally.injected);
  });
});
