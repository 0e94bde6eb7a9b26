import { strict as assert } from "node:assert";
import { sh, tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";

/**
 * Why forward accepts go into the host's iptables FORWARD chain (HOSTNET-FORWARD)
 * and not into a `forward` base chain of our own `table inet hostnet`: measured
 * on a bridge with br_netfilter and Docker's `FORWARD` policy DROP, an accept in
 * another base chain (even at an earlier priority) does not stop Docker's chain
 * from dropping the packet; an accept reached from FORWARD does.
 */
describe("integration: where a forward accept must live on a host whose FORWARD drops (measured)", function () {
  const tag = `${process.pid % 100000}`;
  const [h, a, b] = ["h", "a", "b"].map((x) => `hnt-fw${x}-${tag}`);
  const ping = async () => (await tryRun(["ip", "netns", "exec", a, "busybox", "ping", "-c", "1", "-W", "1", "10.77.0.3"])).exitCode === 0;
  before(async () => {
    requireRoot();
    for (const n of [h, a, b]) await sh(["ip", "netns", "add", n]);
    await sh(["ip", "-n", h, "link", "add", "br0", "type", "bridge"]);
    await sh(["ip", "-n", h, "link", "set", "br0", "up"]);
    for (const [end, ns, addr] of [["va", a, "10.77.0.2/24"], ["vb", b, "10.77.0.3/24"]]) {
      await sh(["ip", "-n", h, "link", "add", end, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await sh(["ip", "-n", h, "link", "set", end, "master", "br0", "up"]);
      await sh(["ip", "-n", ns, "addr", "add", addr, "dev", "eth0"]);
      await sh(["ip", "-n", ns, "link", "set", "eth0", "up"]);
    }
    await sh(["ip", "netns", "exec", h, "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"]);
  });
  after(async () => {
    for (const n of [h, a, b]) await tryRun(["ip", "netns", "del", n]);
  });

  it("Docker's FORWARD DROP drops bridged traffic; our own nft forward chain cannot let it through; an accept from FORWARD can", async () => {
    assert.equal(await ping(), true, "open host: traffic flows");
    await sh(["ip", "netns", "exec", h, "iptables-nft", "-w", "-P", "FORWARD", "DROP"]);
    assert.equal(await ping(), false, "FORWARD DROP + br_netfilter: bridged traffic is dropped");
    const table = 'table inet hostnet {\n chain forward {\n  type filter hook forward priority -10; policy accept;\n  iifname "br0" accept\n }\n}\n';
    await sh(["ip", "netns", "exec", h, "nft", "-f", "-"], table);
    assert.equal(await ping(), false, "an accept in another base chain does not override Docker's drop");
    await sh(["ip", "netns", "exec", h, "nft", "delete", "table", "inet", "hostnet"]);
    await sh(["ip", "netns", "exec", h, "iptables-nft", "-w", "-I", "FORWARD", "1", "-i", "br0", "-j", "ACCEPT"]);
    assert.equal(await ping(), true, "an accept reached from FORWARD does");
  });
});
