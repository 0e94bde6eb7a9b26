import { strict as assert } from "node:assert";
import { checkIfName, checkMac, checkMtu, parseCidr, parseIp } from "../../provider/linux/names";
import { checkConnection } from "../../provider/host/connection";

describe("unit: validation of values that reach commands", () => {
  it("accepts interface names of 1-15 chars [A-Za-z0-9_.-]", () => {
    for (const ok of ["a", "br0", "mybr0", "veth-web_c.1", "abcdefghijklmno"]) assert.equal(checkIfName(ok, "name"), ok);
  });
  it("refuses bad interface names with the field and what was expected", () => {
    for (const bad of ["", "abcdefghijklmnop", "br 0", "br/0", "$(x)", ".", "..", "é", 5, undefined]) {
      assert.throws(() => checkIfName(bad, "name"), /name: expected an interface name of 1-15 characters/);
    }
  });
  it("canonicalises CIDRs", () => {
    assert.equal(parseCidr("192.168.1.1/24", "a").text, "192.168.1.1/24");
    assert.equal(parseCidr("FD00:0:0::1/64", "a").text, "fd00::1/64");
    assert.equal(parseCidr("fd00::1/64", "a").family, 6);
  });
  it("refuses unparsable or shorthand addresses", () => {
    for (const bad of ["192.168.1.1", "10.1/8", "300.1.1.1/24", "10.0.0.1/33", "fd00::1/129", "x/24", "", 7]) {
      assert.throws(() => parseCidr(bad, "addresses[0]"), /addresses\[0\]: expected/);
    }
    assert.equal(parseIp("10.0.0.1", "gateway"), "10.0.0.1");
    assert.throws(() => parseIp("10.0.0", "gateway"), /gateway: expected an IPv4 or IPv6 address/);
  });
  it("checks MAC and MTU", () => {
    assert.equal(checkMac("02:AA:bb:00:00:01", "mac"), "02:aa:bb:00:00:01");
    assert.throws(() => checkMac("01:00:5e:00:00:01", "mac"), /unicast/);
    assert.throws(() => checkMac("02:00:00:00:00", "mac"), /expected a MAC/);
    assert.equal(checkMtu(1500, "mtu"), 1500);
    for (const bad of [67, 65536, 1500.5, "1500"]) assert.throws(() => checkMtu(bad, "mtu"), /mtu: expected an integer MTU/);
  });
  it("requires host key verification unless explicitly skipped", () => {
    assert.throws(() => checkConnection({ host: "10.0.0.5" }), /host key of 10\.0\.0\.5 must be verified: pin it with hostKey/);
    assert.doesNotThrow(() => checkConnection({ host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" }));
    assert.doesNotThrow(() => checkConnection({ host: "10.0.0.5", insecureIgnoreHostKey: true }));
    assert.throws(() => checkConnection({ host: "10.0.0.5", local: true }), /exactly one of/);
    assert.throws(() => checkConnection({ netns: "a b" }), /connection.netns/);
  });
});
