/**
 * An "outside" host for NAT tests: a second namespace joined only to a test
 * host by a veth with a /30 (10.232.x.y) and an IPv6 /64 (fd99:x::/64). Servers it runs are started here and
 * ended by PID in destroy().
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sh, sleep, tryRun } from "./procs";
import { TestHost } from "./testhost";

let seq = 0;

/** A client namespace linked to a test host. */
export class OutsideClient {
  readonly netns: string;
  /** The test host's address on the link (what the client talks to). */
  hostAddress = "";
  /** The client's own address. */
  address = "";
  /** The test host's IPv6 address on the link. */
  hostAddress6 = "";
  /** The client's own IPv6 address. */
  address6 = "";
  private readonly hostIf: string;
  private readonly dir: string;
  private procs: ChildProcess[] = [];
  private constructor(readonly host: TestHost) {
    seq++;
    this.netns = `hnt-client-${process.pid}-${seq}`;
    this.hostIf = `hnc${process.pid % 10000}${seq}`.slice(0, 15);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostnet-client-"));
  }

  /** Creates the client; tears down what it made if a step fails. */
  static async create(host: TestHost): Promise<OutsideClient> {
    const c = new OutsideClient(host);
    try {
      const n = (process.pid * 4 + seq * 4) & 0xfffc;
      const base = `10.232.${n >> 8}.`;
      c.hostAddress = `${base}${(n & 0xff) + 1}`;
      c.address = `${base}${(n & 0xff) + 2}`;
      await sh(["ip", "netns", "add", c.netns]);
      await host.exec(["ip", "link", "add", c.hostIf, "type", "veth", "peer", "name", "eth0", "netns", c.netns]);
      await host.exec(["ip", "addr", "add", `${c.hostAddress}/30`, "dev", c.hostIf]);
      await host.exec(["ip", "link", "set", c.hostIf, "up"]);
      await c.exec(["ip", "addr", "add", `${c.address}/30`, "dev", "eth0"]);
      await c.exec(["ip", "link", "set", "eth0", "up"]);
      await c.exec(["ip", "link", "set", "lo", "up"]);
      c.hostAddress6 = `fd99:${n.toString(16)}::1`;
      c.address6 = `fd99:${n.toString(16)}::2`;
      await host.exec(["ip", "addr", "add", `${c.hostAddress6}/64`, "dev", c.hostIf, "nodad"]);
      await c.exec(["ip", "addr", "add", `${c.address6}/64`, "dev", "eth0", "nodad"]);
      return c;
    } catch (e) {
      await c.destroy();
      throw e;
    }
  }

  /** Runs argv in the client namespace; returns stdout, throws on failure. */
  exec(argv: readonly string[]): Promise<string> {
    return sh(["ip", "netns", "exec", this.netns, ...argv]);
  }

  /** Fetches a URL from the client with busybox wget; undefined when it fails. */
  async fetch(url: string): Promise<string | undefined> {
    // (busybox-static's wget crashes with -T; coreutils timeout bounds it instead)
    const r = await tryRun(["ip", "netns", "exec", this.netns, "timeout", "3", "busybox", "wget", "-q", "-O", "-", url]);
    return r.exitCode === 0 ? r.stdout : undefined;
  }

  /** Starts busybox httpd on `port` in the client; returns the path of its log (one line per request, with the peer address). */
  async serve(port: number): Promise<string> {
    const www = path.join(this.dir, "www");
    fs.mkdirSync(www, { recursive: true });
    fs.writeFileSync(path.join(www, "index.html"), "outside\n");
    const log = path.join(this.dir, `httpd-${port}.log`);
    const out = fs.openSync(log, "a");
    const p = spawn("ip", ["netns", "exec", this.netns, "busybox", "httpd", "-f", "-vv", "-p", String(port), "-h", www], { stdio: ["ignore", out, out] });
    this.procs.push(p);
    for (let i = 0; i < 50 && (await tryRun(["ip", "netns", "exec", this.netns, "busybox", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}/`])).exitCode !== 0; i++) await sleep(100);
    return log;
  }

  /** Ends the servers (by PID) and removes the link and the namespace. */
  async destroy(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null) p.kill("SIGKILL");
    this.procs = [];
    await tryRun(["ip", "netns", "exec", this.host.netns, "ip", "link", "del", this.hostIf]);
    await tryRun(["ip", "netns", "del", this.netns]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
