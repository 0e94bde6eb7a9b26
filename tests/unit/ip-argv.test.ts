import { strict as assert } from "node:assert";
import * as ip from "../../provider/linux/ip";

describe("unit: ip argv builders", () => {
  it("ipLinkAddBridge with every option", () => {
    assert.deepEqual(ip.ipLinkAddBridge("mybr0", { mtu: 1400, mac: "02:00:00:00:00:01", stp: true, vlanFiltering: false }), [
      "ip", "link", "add", "name", "mybr0", "mtu", "1400", "address", "02:00:00:00:00:01", "type", "bridge", "stp_state", "1", "vlan_filtering", "0",
    ]);
  });
  it("ipLinkAddBridge with no options", () => {
    assert.deepEqual(ip.ipLinkAddBridge("br0"), ["ip", "link", "add", "name", "br0", "type", "bridge"]);
  });
  it("address add: IPv4 plain, IPv6 with nodad", () => {
    assert.deepEqual(ip.ipAddrAdd("br0", "10.0.0.1/24"), ["ip", "addr", "add", "10.0.0.1/24", "dev", "br0"]);
    assert.deepEqual(ip.ipAddrAdd("br0", "fd00::1/64"), ["ip", "addr", "add", "fd00::1/64", "dev", "br0", "nodad"]);
    assert.deepEqual(ip.ipAddrDel("br0", "10.0.0.1/24"), ["ip", "addr", "del", "10.0.0.1/24", "dev", "br0"]);
  });
  it("link set and delete", () => {
    assert.deepEqual(ip.ipLinkSetMtu("br0", 9000), ["ip", "link", "set", "dev", "br0", "mtu", "9000"]);
    assert.deepEqual(ip.ipLinkSetUp("br0", false), ["ip", "link", "set", "dev", "br0", "down"]);
    assert.deepEqual(ip.ipLinkSetAlias("br0", "hostnet:x"), ["ip", "link", "set", "dev", "br0", "alias", "hostnet:x"]);
    assert.deepEqual(ip.ipLinkClearAlias("br0"), ["ip", "link", "set", "dev", "br0", "alias", ""]);
    assert.deepEqual(ip.ipLinkSetMac("br0", "02:00:00:00:00:02"), ["ip", "link", "set", "dev", "br0", "address", "02:00:00:00:00:02"]);
    assert.deepEqual(ip.ipLinkSetBridgeStp("br0", true), ["ip", "link", "set", "dev", "br0", "type", "bridge", "stp_state", "1"]);
    assert.deepEqual(ip.ipLinkSetBridgeVlanFiltering("br0", true), ["ip", "link", "set", "dev", "br0", "type", "bridge", "vlan_filtering", "1"]);
    assert.deepEqual(ip.ipLinkDel("br0"), ["ip", "link", "del", "dev", "br0"]);
  });
  it("reads as JSON with details", () => {
    assert.deepEqual(ip.ipAddrShowDev("br0"), ["ip", "-j", "-d", "addr", "show", "dev", "br0"]);
    assert.deepEqual(ip.ipAddrShowAll(), ["ip", "-j", "-d", "addr", "show"]);
  });
});
