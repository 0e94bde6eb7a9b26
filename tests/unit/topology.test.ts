import { strict as assert } from "node:assert";
import { parseSpec } from "../../provider/spec/load";
import { planTopology, resourceNamesOf } from "../../provider/topology/plan";
import { engineParallel } from "../../bin/hostnet";
import { Spec } from "../../provider/spec/types";
import { toDot, toMermaid } from "../../provider/topology/graph";
import { PreviewStep, changeSummary, changesOf, previewMarkdown, showValue } from "../../provider/cli/markdown";
import { vethNames } from "../../provider/spec/names";

const SPEC = `
name: lab
hosts:
  node1: { host: 10.0.0.5, hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl }
  node2: { host: 10.0.0.6, hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl }
bridges:
  - { host: node1, name: br0, addresses: [172.16.0.1/16] }
  - { host: node2, name: br0, addresses: [172.17.0.1/16] }
containers:
  - host: node1
    name: web
    interfaces: [{ bridge: br0, addresses: [172.16.0.2/16], gateway: 172.16.0.1 }]
  - { host: node1, name: test1 }
  - { host: node1, name: test2 }
  - host: node2
    name: db
    interfaces: [{ bridge: br0, ifname: eth1, addresses: [172.17.0.2/16], gateway: 172.17.0.1 }]
links:
  - host: node1
    a: { container: test1, ifname: vethB, addresses: [10.0.0.2/32] }
    b: { container: test2, ifname: vethA, addresses: [10.0.0.1/32] }
nat:
  masquerade: [{ host: node1, bridge: br0 }]
  publish: [{ host: node1, container: web, hostPort: 8080, port: 80 }]
`;

describe("unit: Topology planning, graph and preview summary", () => {
  const spec = parseSpec(SPEC, "net.yaml").spec;
  it("plans stable resource names per host and short stable veth names", () => {
    const plans = planTopology(spec);
    // A bridge interface is one resource (its attachment makes the pair); a point-to-point link is a VethPair and two attachments.
    assert.deepEqual([...resourceNamesOf(plans)], [
      "node1.bridge.br0", "node1.web.eth0", "node1.link.test1.vethB-test2.vethA.veth", "node1.link.test1.vethB-test2.vethA.a", "node1.link.test1.vethB-test2.vethA.b",
      "node1.masquerade.br0", "node1.publish.web.tcp.8080",
      "node2.bridge.br0", "node2.db.eth1",
    ]);
    assert.deepEqual(plans[0].veths.map((v) => v.pair), [false, true]);
    const v = vethNames("node1", "web", "eth0");
    assert.deepEqual(v, vethNames("node1", "web", "eth0"), "stable");
    assert.ok(v.name.length <= 15 && v.peerName.length <= 15);
    const link = plans[0].veths[1];
    assert.deepEqual(link.attachments.map((a) => a.routes), [[{ to: "10.0.0.1/32" }], [{ to: "10.0.0.2/32" }]], "each end routes to the other");
    assert.deepEqual(plans[0].nat.map((n) => n.rule), [
      { kind: "masquerade", source: "172.16.0.0/16", notOutInterface: "br0" },
      { kind: "dnat", protocol: "tcp", hostPort: 8080, to: "172.16.0.2:80", hairpinSource: "172.16.0.0/16" },
    ]);
  });

  it("IPv6: masquerade makes one rule per subnet family of the bridge, publish one DNAT per family the container has (hostIp: its family only); gateway6 goes to the attachment", () => {
    const spec = parseSpec(`
name: v6
hosts: { node1: { local: true } }
bridges: [{ host: node1, name: br0, addresses: [172.16.0.1/16, "fd00:16::1/64"] }]
containers:
  - { host: node1, name: web, interfaces: [{ bridge: br0, addresses: [172.16.0.2/16, "fd00:16::2/64"], gateway: 172.16.0.1, gateway6: "fd00:16::1" }] }
  - { host: node1, name: v6, interfaces: [{ bridge: br0, addresses: ["fd00:16::3/64"], routes: [{ to: "::/0", via: "fd00:16::1" }] }] }
nat:
  masquerade: [{ host: node1, bridge: br0 }]
  publish:
    - { host: node1, container: web, hostPort: 8080, port: 80 }
    - { host: node1, container: v6, hostPort: 8081, port: 80 }
    - { host: node1, container: web, hostPort: 8082, port: 80, hostIp: "fd00:1::5" }
`, "v6.yaml").spec;
    const [p] = planTopology(spec);
    assert.deepEqual(p.nat.map((n) => `${n.resourceName} ${JSON.stringify(n.rule)}`), [
      `node1.masquerade.br0 {"kind":"masquerade","source":"172.16.0.0/16","notOutInterface":"br0"}`,
      `node1.masquerade6.br0 {"kind":"masquerade","source":"fd00:16::/64","notOutInterface":"br0"}`,
      `node1.publish.web.tcp.8080 {"kind":"dnat","protocol":"tcp","hostPort":8080,"to":"172.16.0.2:80","hairpinSource":"172.16.0.0/16"}`,
      `node1.publish6.web.tcp.8080 {"kind":"dnat","protocol":"tcp","hostPort":8080,"to":"[fd00:16::2]:80","hairpinSource":"fd00:16::/64"}`,
      `node1.publish6.v6.tcp.8081 {"kind":"dnat","protocol":"tcp","hostPort":8081,"to":"[fd00:16::3]:80","hairpinSource":"fd00:16::/64"}`,
      `node1.publish6.web.tcp.8082 {"kind":"dnat","protocol":"tcp","hostPort":8082,"hostIp":"fd00:1::5","to":"[fd00:16::2]:80","hairpinSource":"fd00:16::/64"}`,
    ]);
    const web = p.veths.find((v) => v.attachments[0].container === "web")?.attachments[0];
    assert.equal(web?.gateway6, "fd00:16::1");
  });

  it("editing one container's addresses changes no other resource name", () => {
    const edited = parseSpec(SPEC.replace("172.16.0.2/16", "172.16.0.9/16"), "net.yaml").spec;
    const names = (s: typeof spec) => planTopology(s).flatMap((p) => p.veths.map((v) => `${v.resourceName} ${v.name} ${v.peerName}`));
    assert.deepEqual(names(edited), names(spec));
  });

  it("Mermaid has a subgraph per host, nodes and edges for bridges, containers, links and NAT", () => {
    const m = toMermaid(spec);
    for (const want of [
      'subgraph host_node1["host node1"]',
      'subgraph host_node2["host node2"]',
      'node1_br_br0[["bridge br0 172.16.0.1/16"]]',
      'node1_c_web["container web"]',
      'node1_c_web ---|"eth0 172.16.0.2/16"| node1_br_br0',
      'node1_c_test1 ---|"p2p vethB 10.0.0.2/32 / vethA 10.0.0.1/32"| node1_c_test2',
      'node1_br_br0 -.->|"masquerade 172.16.0.0/16"| node1_outside',
      'node1_port_tcp_8080 -->|"dnat 172.16.0.2:80"| node1_c_web',
      'node2_c_db ---|"eth1 172.17.0.2/16"| node2_br_br0',
    ]) assert.ok(m.includes(want), `missing: ${want}\n${m}`);
  });

  it("Mermaid of a preview marks added, changed and removed resources (green, amber, dashed red), and lists what left the spec", () => {
    const changes = new Map([
      ["node1.web.eth0", "changed"],
      ["node1.publish.web.tcp.8080", "added"],
      ["node2.bridge.br0", "added"],
      ["node2.db.eth1", "added"],
      ["node2.bridge.old", "removed"],
    ] as const);
    const m = toMermaid(spec, changes);
    const edges = m.split("\n").filter((l) => /^ {2}\S+ (---|-->|-\.->)\|/.test(l));
    const edgeIndex = (needle: string) => edges.findIndex((l) => l.includes(needle));
    for (const want of [
      "  classDef added fill:#e6ffe6",
      "  classDef removed fill:#ffebe9",
      "  class node1_c_web changed",
      "  class node1_port_tcp_8080 added",
      "  class node2_br_br0 added",
      "  class node2_c_db added",
      'host_node2_removed["removed: node2.bridge.old"]',
      "  class host_node2_removed removed",
      `  linkStyle ${edgeIndex('"eth0 172.16.0.2/16"')} stroke:#9a6700`,
      `  linkStyle ${edgeIndex('"dnat 172.16.0.2:80"')} stroke:#1a7f37`,
    ]) assert.ok(m.includes(want), `missing: ${want}\n${m}`);
    assert.ok(!m.includes("class node1_br_br0"), "an unchanged bridge is drawn plainly");
    assert.ok(!toMermaid(spec).includes("classDef"), "graph without a preview: no styles");
  });

  it("names that differ only in - and _ are two nodes in Mermaid and DOT (node-1, node_1)", () => {
    const twins = parseSpec(
      `
name: twins
hosts:
  h-1: { host: 10.0.0.5, hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl }
  h_1: { host: 10.0.0.6, hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl }
bridges:
  - { host: h-1, name: br-0, addresses: [172.16.0.1/16] }
  - { host: h-1, name: br_0, addresses: [172.18.0.1/16] }
  - { host: h_1, name: br0, addresses: [172.17.0.1/16] }
containers:
  - { host: h-1, name: node-1, interfaces: [{ bridge: br-0, addresses: [172.16.0.2/16] }] }
  - { host: h-1, name: node_1, interfaces: [{ bridge: br_0, addresses: [172.18.0.3/16] }] }
`,
      "twins.yaml",
    ).spec;
    const m = toMermaid(twins);
    for (const want of [
      'subgraph host_h_1["host h-1"]',
      'subgraph host_h_1_2["host h_1"]',
      'h_1_c_node_1["container node-1"]',
      'h_1_c_node_1_2["container node_1"]',
      'h_1_c_node_1 ---|"eth0 172.16.0.2/16"| h_1_br_br_0',
      'h_1_c_node_1_2 ---|"eth0 172.18.0.3/16"| h_1_br_br_0_2',
    ]) assert.ok(m.includes(want), `missing: ${want}\n${m}`);
    const d = toDot(twins);
    assert.ok(d.includes("subgraph cluster_h_1 {") && d.includes("subgraph cluster_h_1_2 {"), d);
    assert.ok(d.includes('h_1_c_node_1_2 -- h_1_br_br_0_2 [label="eth0 172.18.0.3/16"];'), d);
  });

  it("DOT has a cluster per host and the same edges", () => {
    const d = toDot(spec);
    assert.ok(d.startsWith("graph hostnet {"));
    assert.ok(d.includes("subgraph cluster_node1 {"));
    assert.ok(d.includes('node1_c_web -- node1_br_br0 [label="eth0 172.16.0.2/16"];'));
    assert.ok(d.includes('node1_port_tcp_8080 -- node1_c_web [label="dnat 172.16.0.2:80", dir=forward];'));
  });

  it("the preview summary has a table per host with the changed fields", () => {
    const md = previewMarkdown("net.yaml", spec, [
      { op: "create", name: "node1.bridge.br0", type: "pulumi-nodejs:dynamic/hostnet:Bridge", diffs: [] },
      { op: "update", name: "node1.web.eth0", type: "pulumi-nodejs:dynamic/hostnet:ContainerAttachment", diffs: ["addresses"] },
      { op: "same", name: "node2.bridge.br0", type: "pulumi-nodejs:dynamic/hostnet:Bridge", diffs: [] },
    ]);
    assert.ok(md.includes("### host `node1` — 1 create, 1 update"));
    assert.ok(md.includes("| update | `node1.web.eth0` | ContainerAttachment | addresses |"));
    assert.ok(md.includes("### host `node2` — 1 same\n\nNo changes."));
    assert.ok(md.includes("```mermaid\nflowchart LR"));
  });

  it("the preview shows each changed field as old → new (a published port moved to another host port too), lists deletes and replacements first under ⚠, names stack and backend, and hides credentials", () => {
    const rule = { kind: "dnat", protocol: "tcp", to: "172.16.0.2:80", hairpinSource: "172.16.0.0/16" };
    const steps: PreviewStep[] = [
      { op: "update", name: "node1.web.eth0", type: "pulumi-nodejs:dynamic/hostnet:ContainerAttachment", diffs: ["addresses", "connection"], values: { addresses: { old: ["172.16.0.2/16"], new: ["172.16.0.9/16"] }, connection: { old: { host: "a", privateKey: "SECRET" }, new: { host: "b", privateKey: "SECRET2" } } } },
      // The engine reports a moved port as the delete of one rule and the create of another (the name holds the port).
      { op: "delete", name: "node1.publish.web.tcp.8080", type: "pulumi-nodejs:dynamic/hostnet:NatRule", diffs: [], inputs: { ...rule, hostPort: 8080 } },
      { op: "create", name: "node1.publish.web.tcp.8081", type: "pulumi-nodejs:dynamic/hostnet:NatRule", diffs: [], inputs: { ...rule, hostPort: 8081 } },
      { op: "delete", name: "node1.bridge.old", type: "pulumi-nodejs:dynamic/hostnet:Bridge", diffs: [] },
    ];
    const md = previewMarkdown("net.yaml", spec, steps, undefined, { stack: "dev", backend: "file:///srv/state" });
    assert.ok(md.includes("Spec `net.yaml`, stack `dev`, backend `file:///srv/state`."), md);
    const warn = md.indexOf("### ⚠ 2 delete(s) and replacement(s)");
    assert.ok(warn > 0 && warn < md.indexOf("### host `node1`"), "the ⚠ section comes before the hosts");
    assert.ok(md.includes("- **replace** `node1.publish.web.tcp.8081` (NatRule): hostPort: 8080 → 8081"), md);
    assert.ok(md.includes("- **delete** `node1.bridge.old` (Bridge)"), md);
    assert.ok(md.includes("| update | `node1.web.eth0` | ContainerAttachment | addresses: 172.16.0.2/16 → 172.16.0.9/16; connection: (credentials) → (credentials) |"), md);
    assert.ok(md.includes("| ⚠ replace | `node1.publish.web.tcp.8081` | NatRule | hostPort: 8080 → 8081 |"), md);
    assert.ok(!md.includes("SECRET"), "no credential is shown");
    const term = changeSummary(changesOf(steps));
    assert.deepEqual(term.trim().split("\n"), [
      "Changes:",
      "  ⚠ replace node1.publish.web.tcp.8081 (NatRule): hostPort: 8080 → 8081",
      "  ⚠ delete node1.bridge.old (Bridge)",
      "  update node1.web.eth0 (ContainerAttachment): addresses: 172.16.0.2/16 → 172.16.0.9/16; connection: (credentials) → (credentials)",
    ]);
    assert.equal(showValue("to", { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "x" }), "[secret]");
    assert.equal(changeSummary([]), "");
  });

  it("a failed preview's Markdown says so first, with the error", () => {
    const md = previewMarkdown("net.yaml", spec, [], "up failed:\n  node1.bridge.br0: host key mismatch");
    assert.ok(md.startsWith("## hostnet preview: `net.yaml`\n\n**The preview failed**"), md);
    assert.ok(md.includes("~~~\nup failed:\n  node1.bridge.br0: host key mismatch\n~~~"), md);
  });
});

describe("unit: hostnet's engine parallelism", () => {
  it("8 operations per host of the spec, at least 8, at most 64; --parallel wins", () => {
    const hosts = (n: number) => ({ hosts: Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i}`, { host: `10.0.0.${i + 1}` }])) }) as unknown as Spec;
    assert.deepEqual([1, 3, 8, 50].map((n) => engineParallel(hosts(n))), [8, 24, 64, 64]);
    assert.equal(engineParallel(hosts(50), 4), 4);
  });
});
