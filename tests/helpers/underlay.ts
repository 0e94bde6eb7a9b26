/**
 * The network between test hosts, for overlays: a namespace of its own with a
 * bridge (a switch), and a veth from it into each test host's namespace with
 * an address in 10.250.N.0/24 and one in fd50:0:N::/64. Nothing of it is in the root namespace; the
 * namespace and its links go in destroy().
 */
import { sh, sleep, tryRun } from "./procs";
import { TestHost } from "./testhost";

let seq = 0;

/** A switch between test hosts. */
export class Underlay {
  readonly netns: string;
  private readonly subnet: number;
  private readonly members6 = new Map<TestHost, string>();
  private constructor() {
    seq++;
    this.netns = `hnt-ul-${process.pid}-${seq}`;
    this.subnet = (process.pid + seq) % 200 + 20;
  }

  /** Creates the switch; it is torn down again if that fails. */
  static async create(): Promise<Underlay> {
    const u = new Underlay();
    try {
      await sh(["ip", "netns", "add", u.netns]);
      await u.exec(["ip", "link", "add", "ul0", "type", "bridge"]);
      await u.exec(["ip", "link", "set", "ul0", "up"]);
      return u;
    } catch (e) {
      await u.destroy();
      throw e;
    }
  }

  private exec(argv: readonly string[]): Promise<string> {
    return sh(["ip", "netns", "exec", this.netns, ...argv]);
  }

  /** Plugs a host in (its `index`-th addresses, 1-based); returns its IPv4 underlay address ({@link address6} has the IPv6 one). */
  async plug(host: TestHost, index: number): Promise<string> {
    const address = `10.250.${this.subnet}.${index}`;
    const address6 = `fd50:0:${this.subnet}::${index}`;
    const port = `ulp${index}`;
    await this.exec(["ip", "link", "add", port, "type", "veth", "peer", "name", "hnul0", "netns", host.netns]);
    await this.exec(["ip", "link", "set", port, "master", "ul0", "up"]);
    await host.exec(["ip", "addr", "add", `${address}/24`, "dev", "hnul0"]);
    await host.exec(["ip", "addr", "add", `${address6}/64`, "dev", "hnul0", "nodad"]);
    await host.exec(["ip", "link", "set", "hnul0", "up"]);
    // The kernel reports carrier and adds the link-local address a moment later (linkwatch): wait, so a snapshot taken now stays true.
    for (let i = 0; i < 50; i++) {
      const [l] = JSON.parse(await host.exec(["ip", "-j", "addr", "show", "dev", "hnul0"])) as { operstate?: string; addr_info?: { scope?: string }[] }[];
      if (l?.operstate === "UP" && (l.addr_info ?? []).some((a) => a.scope === "link")) break;
      await sleep(100);
    }
    this.members6.set(host, address6);
    return address;
  }

  /** The IPv6 underlay address of a plugged host. */
  address6(host: TestHost): string {
    const a = this.members6.get(host);
    if (!a) throw new Error(`${host.netns} is not plugged into ${this.netns}`);
    return a;
  }

  /** Removes the namespace (and with it every link it holds: the veths' other ends go too). */
  async destroy(): Promise<void> {
    await tryRun(["ip", "netns", "del", this.netns]);
  }
}
