import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseLinks, sortCidrs } from "../../provider/linux/parse";
import { REPO_ROOT } from "../helpers/paths";

const fixture = (name: string) => readFileSync(join(REPO_ROOT, "tests", "fixtures", name), "utf8");

describe("unit: parsers of real `ip -j -d addr show` output", () => {
  it("reads a bridge with alias, MTU, IPv4+IPv6 and a veth pair", () => {
    const links = parseLinks(fixture("ip-addr-bridge-veth.json"));
    assert.deepEqual(links.map((l) => [l.name, l.kind]), [["lo", ""], ["br9", "bridge"], ["v2", "veth"], ["v1", "veth"]]);
    const br = links[1];
    assert.equal(br.alias, "hostnet:x");
    assert.equal(br.mtu, 1400);
    assert.equal(br.up, true);
    assert.equal(br.stp, false);
    assert.equal(br.vlanFiltering, false);
    assert.deepEqual(br.addresses, ["10.9.0.1/24", "fd00::1/64"]);
    assert.match(br.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(links[2].up, false);
    assert.equal(links[2].stp, undefined);
  });
  it("reads STP state and the master of a bridge port, and leaves link-local addresses out", () => {
    const links = parseLinks(fixture("ip-addr-bridge-stp-member.json"));
    const br = links.find((l) => l.name === "br9");
    const port = links.find((l) => l.name === "v1");
    assert.equal(br?.stp, true);
    assert.equal(port?.master, "br9");
    assert.ok(links.every((l) => l.addresses.every((a) => !a.startsWith("fe80:"))));
  });
  it("treats empty output as no links", () => {
    assert.deepEqual(parseLinks(""), []);
    assert.deepEqual(parseLinks("[]"), []);
  });
  it("sorts IPv4 before IPv6", () => {
    assert.deepEqual(sortCidrs(["fd00::1/64", "10.0.0.2/24", "10.0.0.1/24"]), ["10.0.0.1/24", "10.0.0.2/24", "fd00::1/64"]);
  });
});

describe("unit: veth peers in real `ip -j link` output", () => {
  it("names the peer when it is in the same namespace", () => {
    const [e0] = parseLinks(fixture("ip-link-veth-same-ns.json"));
    assert.equal(e0.peer, "e1");
    assert.equal(e0.peerNetnsId, undefined);
  });
});
