/**
 * Test hosts: a network namespace joined to the root namespace by a veth with
 * a private /30, running its own sshd with generated host and client keys.
 * Everything is torn down by `destroy()` (processes by PID, link, namespace,
 * files), which every test registers before it creates anything; a root hook
 * destroys whatever is still alive at the end of the run.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ConnectionSpec } from "../../provider/host/connection";
import { NetnsRunner } from "../../provider/host/netns";
import { SELF_NETNS, statInode } from "../../provider/linux/netns";
import { lockFilePath } from "../../provider/resources/common/lock";
import { forwardMarkPath } from "../../provider/resources/nat/forwarding";
import { processTree, sh, sleep, tryRun } from "./procs";

const live = new Set<TestHost>();
let counter = 0;

/** Picks a /30 in 10.231.0.0/16 that no address of the root namespace already uses. */
async function freeSubnet(): Promise<[string, string]> {
  const used = await sh(["ip", "-j", "addr", "show"]);
  for (let tries = 0; tries < 16384; tries++) {
    const n = ((process.pid * 4 + counter * 4 + tries * 4) & 0xffff) & ~3;
    const base = `10.231.${n >> 8}.`;
    const low = n & 0xff;
    if (!used.includes(`"${base}${low + 1}"`)) return [`${base}${low + 1}`, `${base}${low + 2}`];
  }
  throw new Error("no free /30 in 10.231.0.0/16");
}

function waitForBanner(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host, port });
      s.setTimeout(1000);
      s.once("data", (d) => {
        s.destroy();
        if (d.toString().startsWith("SSH-")) resolve();
        else retry(new Error(`unexpected banner ${d.toString()}`));
      });
      s.once("error", retry);
      s.once("timeout", () => retry(new Error("timeout")));
      function retry(e: Error) {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on ${host}:${port} did not answer: ${e.message}`));
        else setTimeout(attempt, 100);
      }
    };
    attempt();
  });
}

/** What a process needs to find a running test host again. */
export interface SavedHost {
  label: string;
  netns: string;
  rootIf: string;
  dir: string;
  address: string;
  rootAddress: string;
  hostKey: string;
  sshdPid: number;
}

/**
 * What makes a test host as hard as a real Debian server with Docker and ufw
 * (`TestHost.create(label, { hard: true })`):
 * - filter table of the host's flavour (iptables-nft): `FORWARD` policy
 *   `DROP`, Docker's `DOCKER-USER`/`DOCKER-FORWARD` chains jumped to from
 *   `FORWARD`, a foreign filter rule and a foreign nat rule (Docker's
 *   MASQUERADE of its own subnet) that must survive; `ip_forward=1` (Docker
 *   turns it on); `bridge-nf-call-iptables=1`, so bridged traffic crosses
 *   `FORWARD`; the same for IPv6 (ufw's `ip6tables` `FORWARD` policy `DROP`
 *   with a chain of its own, `bridge-nf-call-ip6tables=1`); ufw's `INPUT`
 *   for both families ({@link UFW_INPUT_RULES}: only SSH, ICMP and replies
 *   reach the host itself);
 * - `/bin/sh` is bash for every process of its sshd (a private mount
 *   namespace with bash bind-mounted over dash; the machine's own is untouched);
 * - besides root, a user `deploy` (passwordless sudo, Debian's `secure_path`,
 *   and sshd's default PATH for non-root users, which lacks /usr/sbin) and a
 *   user `nopass` whose sudo needs a password; both exist only in that mount
 *   namespace (its own /etc/passwd, /etc/shadow, /etc/group, /etc/sudoers).
 */
export const HARD_HOST_RULES = {
  filter: [
    ["-P", "FORWARD", "DROP"],
    ["-N", "DOCKER-USER"],
    ["-N", "DOCKER-FORWARD"],
    ["-A", "FORWARD", "-j", "DOCKER-USER"],
    ["-A", "FORWARD", "-j", "DOCKER-FORWARD"],
    ["-A", "DOCKER-USER", "-j", "RETURN"],
    ["-A", "DOCKER-FORWARD", "-o", "docker0", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
    ["-A", "INPUT", "-p", "tcp", "--dport", "9999", "-m", "comment", "--comment", "foreign admin rule", "-j", "ACCEPT"],
  ],
  /** ufw's IPv6 side (and Docker's with IPv6): `ip6tables` `FORWARD` drops too. */
  filter6: [
    ["-P", "FORWARD", "DROP"],
    ["-N", "ufw6-before-forward"],
    ["-A", "FORWARD", "-j", "ufw6-before-forward"],
    ["-A", "ufw6-before-forward", "-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "128", "-m", "comment", "--comment", "foreign ufw6 rule", "-j", "ACCEPT"],
  ],
  nat: [
    ["-N", "DOCKER"],
    ["-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"],
    ["-A", "OUTPUT", "!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"],
    ["-A", "POSTROUTING", "-s", "172.17.0.0/16", "!", "-o", "docker0", "-j", "MASQUERADE"],
  ],
} as const;

/**
 * ufw's `INPUT` (`ufw default deny incoming` with `ufw allow ssh`), both
 * families, as every hard host has it: policy `DROP`; loopback, replies, ICMP
 * echo (and, for IPv6, neighbour and router discovery, as ufw's before6.rules)
 * and SSH accepted. Traffic that ends on the host itself and is none of these
 * (a VXLAN tunnel's UDP) is dropped unless something accepts it.
 */
export const UFW_INPUT_RULES = {
  ipv4: [
    ["-N", "ufw-before-input"],
    ["-A", "INPUT", "-j", "ufw-before-input"],
    ["-A", "ufw-before-input", "-i", "lo", "-j", "ACCEPT"],
    ["-A", "ufw-before-input", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
    ["-A", "ufw-before-input", "-p", "icmp", "--icmp-type", "echo-request", "-j", "ACCEPT"],
    ["-A", "ufw-before-input", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"],
    ["-P", "INPUT", "DROP"],
  ],
  ipv6: [
    ["-N", "ufw6-before-input"],
    ["-A", "INPUT", "-j", "ufw6-before-input"],
    ["-A", "ufw6-before-input", "-i", "lo", "-j", "ACCEPT"],
    ["-A", "ufw6-before-input", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
    ...[133, 134, 135, 136].map((t) => ["-A", "ufw6-before-input", "-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", String(t), "-m", "hl", "--hl-eq", "255", "-j", "ACCEPT"]),
    ["-A", "ufw6-before-input", "-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "128", "-j", "ACCEPT"],
    ["-A", "ufw6-before-input", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"],
    ["-P", "INPUT", "DROP"],
  ],
} as const;

/** Users of a hard host besides root. */
export const HARD_HOST_USERS = { sudo: "deploy", nopass: "nopass" } as const;

/** A test host: netns + veth + sshd. */
export class TestHost {
  /** Namespace name (also usable as `{ netns }` connection). */
  readonly netns: string;
  /** Name of the veth end in the root namespace. */
  readonly rootIf: string;
  /** Address of the root side of the /30. */
  rootAddress = "";
  /** Address of the test host (where sshd listens). */
  address = "";
  /** Temp dir with keys, config and logs. */
  readonly dir: string;
  /** `ssh-ed25519 AAAA…` of the host key. */
  hostKey = "";
  /** The client private key (OpenSSH format). */
  privateKey = "";
  private sshd?: ChildProcess;
  /** PID of sshd when this host was loaded from a saved description (a sandbox that outlives its process). */
  private sshdPid?: number;
  private destroyed = false;
  private detached = false;
  /** A host reachable only through another test host (its link goes to that namespace, not to the root one). */
  private behind?: TestHost;
  /** A host like a real Debian server with Docker and ufw (see {@link HARD_HOST_RULES}). */
  hard = false;

  private constructor(readonly label: string, saved?: SavedHost) {
    if (saved) {
      this.address = saved.address;
      this.rootAddress = saved.rootAddress;
      this.hostKey = saved.hostKey;
      this.netns = saved.netns;
      this.rootIf = saved.rootIf;
      this.dir = saved.dir;
      this.privateKey = fs.readFileSync(path.join(saved.dir, "id_ed25519"), "utf8");
      this.sshdPid = saved.sshdPid;
      return;
    }
    counter++;
    const tag = `${process.pid % 100000}${counter}`.slice(-8);
    this.netns = `hnt-${label}-${tag}`.slice(0, 40);
    this.rootIf = `hnr${tag}`.slice(0, 15);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `hostnet-${label}-`));
  }

  /** A description to find this host again from another process (the demo's sandbox host). */
  save(): SavedHost {
    const pid = this.sshd?.pid ?? this.sshdPid;
    if (!pid) throw new Error("sshd is not running");
    return { label: this.label, netns: this.netns, rootIf: this.rootIf, dir: this.dir, address: this.address, rootAddress: this.rootAddress, hostKey: this.hostKey, sshdPid: pid };
  }

  /** Re-attaches to a host saved by {@link save}; undefined when its namespace is gone. */
  static async load(saved: SavedHost): Promise<TestHost | undefined> {
    const list = await tryRun(["ip", "netns", "list"]);
    if (!list.stdout.split("\n").some((l) => l.split(" ")[0] === saved.netns)) return undefined;
    return new TestHost(saved.label, saved);
  }

  /** Creates a test host; on any failure tears down what was made and rethrows. With `detached`, sshd outlives this process. */
  static async create(label = "host", opts: { detached?: boolean; behind?: TestHost; hard?: boolean } = {}): Promise<TestHost> {
    const h = new TestHost(label);
    h.detached = opts.detached ?? false;
    h.behind = opts.behind;
    h.hard = opts.hard ?? false;
    live.add(h);
    try {
      await h.setUp();
      return h;
    } catch (e) {
      await h.destroy();
      throw e;
    }
  }

  /** Every test host not yet destroyed. */
  static live(): TestHost[] {
    return [...live];
  }

  /** A runner that executes inside the namespace (for assertions). */
  get runner(): NetnsRunner {
    return new NetnsRunner(this.netns);
  }

  /** SSH connection to this host, host key pinned. */
  connection(extra: Partial<ConnectionSpec> = {}): ConnectionSpec {
    return { host: this.address, port: 22, user: "root", privateKey: this.privateKey, hostKey: this.hostKey, ...extra };
  }

  /** PID of this host's sshd (its sessions run under it), when it runs. */
  get sshdProcess(): number | undefined {
    return this.sshd?.pid ?? this.sshdPid;
  }

  /** Path of sshd's log. */
  get sshdLog(): string {
    return path.join(this.dir, "sshd.log");
  }

  /** How many SSH sessions (connections) sshd has accepted so far. */
  acceptedConnections(): number {
    if (!fs.existsSync(this.sshdLog)) return 0;
    return fs.readFileSync(this.sshdLog, "utf8").split("\n").filter((l) => l.includes("Accepted publickey")).length;
  }

  /** Runs argv inside the namespace and returns stdout (throws on failure). */
  async exec(argv: readonly string[]): Promise<string> {
    return sh(["ip", "netns", "exec", this.netns, ...argv]);
  }

  /** The namespace's inode, which names the files the providers keep for this host (host lock, recorded ip_forward). */
  async netnsInode(): Promise<string> {
    return (await this.exec(statInode(SELF_NETNS))).trim();
  }

  private async setUp(): Promise<void> {
    const [rootAddr, nsAddr] = await freeSubnet();
    this.rootAddress = rootAddr;
    this.address = nsAddr;
    await sh(["ip", "netns", "add", this.netns]);
    // The far end of the link lives in the root namespace, or in the namespace of the host this one sits behind.
    const far = this.behind ? ["ip", "netns", "exec", this.behind.netns] : [];
    await sh([...far, "ip", "link", "add", this.rootIf, "type", "veth", "peer", "name", "eth0", "netns", this.netns]);
    await sh([...far, "ip", "addr", "add", `${rootAddr}/30`, "dev", this.rootIf]);
    await sh([...far, "ip", "link", "set", this.rootIf, "up"]);
    await this.exec(["ip", "addr", "add", `${nsAddr}/30`, "dev", "eth0"]);
    await this.exec(["ip", "link", "set", "eth0", "up"]);
    await this.exec(["ip", "link", "set", "lo", "up"]);
    const hostKeyPath = path.join(this.dir, "ssh_host_ed25519_key");
    const clientKeyPath = path.join(this.dir, "id_ed25519");
    await sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hostnet-test-host", "-f", hostKeyPath]);
    await sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hostnet-test-client", "-f", clientKeyPath]);
    this.hostKey = fs.readFileSync(`${hostKeyPath}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    this.privateKey = fs.readFileSync(clientKeyPath, "utf8");
    fs.copyFileSync(`${clientKeyPath}.pub`, path.join(this.dir, "authorized_keys"));
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    if (this.hard) await this.hardenFirewall();
    const config = [
      `ListenAddress ${nsAddr}`,
      "Port 22",
      `HostKey ${hostKeyPath}`,
      `AuthorizedKeysFile ${path.join(this.dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "LogLevel VERBOSE",
      "MaxStartups 100",
      `PidFile ${path.join(this.dir, "sshd.pid")}`,
      "",
    ].join("\n");
    const cfgPath = path.join(this.dir, "sshd_config");
    fs.writeFileSync(cfgPath, config);
    const sshd = ["/usr/sbin/sshd", "-D", "-f", cfgPath, "-E", this.sshdLog];
    this.sshdArgv = this.hard ? this.privateMountsArgv(sshd) : sshd;
    await this.startSshd();
  }

  private sshdArgv: string[] = [];

  private async startSshd(): Promise<void> {
    this.sshd = spawn("ip", ["netns", "exec", this.netns, ...this.sshdArgv], { stdio: "ignore", detached: this.detached });
    if (this.detached) {
      this.sshd.unref();
      live.delete(this);
    }
    if (this.behind) await this.waitForBannerBehind(this.address);
    else await waitForBanner(this.address, 22, 10_000);
  }

  /**
   * Cuts every SSH connection to this host, as when sshd dies or the host
   * reboots: SIGKILL to our sshd and to every process it started (sessions
   * and their commands), found by parent PID. Nothing else is touched.
   */
  async cutSsh(): Promise<void> {
    const root = this.sshd?.pid;
    if (!root) throw new Error("sshd of this test host is not running");
    const tree = processTree(root);
    for (const pid of tree) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    const exited = this.sshd as ChildProcess;
    if (exited.exitCode === null && exited.signalCode === null) await new Promise((r) => exited.once("exit", r));
  }

  /** Starts sshd again after {@link cutSsh}, with the same config and host key. */
  async restartSshd(): Promise<void> {
    await this.startSshd();
  }

  /** The firewall of a Debian host running Docker and ufw, in the namespace's iptables-nft tables. */
  private async hardenFirewall(): Promise<void> {
    const tables: [string, string, readonly (readonly string[])[]][] = [
      ["iptables-nft", "filter", HARD_HOST_RULES.filter],
      ["iptables-nft", "nat", HARD_HOST_RULES.nat],
      ["ip6tables-nft", "filter", HARD_HOST_RULES.filter6],
      ["iptables-nft", "filter", UFW_INPUT_RULES.ipv4],
      ["ip6tables-nft", "filter", UFW_INPUT_RULES.ipv6],
    ];
    for (const [bin, table, rules] of tables) for (const r of rules) await this.exec([bin, "-w", "-t", table, ...r]);
    await this.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    await this.exec(["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"]);
    await this.exec(["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-ip6tables=1"]);
  }

  /**
   * argv that runs `cmd` in a private mount namespace where /bin/sh is bash and
   * /etc knows the users deploy and nopass (files under this host's dir).
   */
  private privateMountsArgv(cmd: readonly string[]): string[] {
    // sshd reads authorized_keys as the user logging in.
    fs.chmodSync(this.dir, 0o755);
    fs.chmodSync(path.join(this.dir, "authorized_keys"), 0o644);
    const etc = path.join(this.dir, "etc");
    fs.mkdirSync(etc);
    const users = Object.values(HARD_HOST_USERS);
    for (const u of users) fs.mkdirSync(path.join(this.dir, `home-${u}`), { mode: 0o755 });
    const passwd = fs.readFileSync("/etc/passwd", "utf8") + users.map((u, i) => `${u}:x:${4240 + i}:${4240 + i}::${path.join(this.dir, `home-${u}`)}:/bin/bash\n`).join("");
    const group = fs.readFileSync("/etc/group", "utf8") + users.map((u, i) => `${u}:x:${4240 + i}:\n`).join("");
    const shadow = fs.readFileSync("/etc/shadow", "utf8") + users.map((u) => `${u}:*:19000:0:99999:7:::\n`).join("");
    const sudoers = [
      "Defaults env_reset",
      "Defaults mail_badpass",
      'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
      "root ALL=(ALL:ALL) ALL",
      `${HARD_HOST_USERS.sudo} ALL=(root) NOPASSWD: ALL`,
      `${HARD_HOST_USERS.nopass} ALL=(root) ALL`,
      "",
    ].join("\n");
    for (const [name, text, mode] of [["passwd", passwd, 0o644], ["group", group, 0o644], ["shadow", shadow, 0o640], ["sudoers", sudoers, 0o440]] as const) {
      fs.writeFileSync(path.join(etc, name), text, { mode });
      fs.chmodSync(path.join(etc, name), mode);
    }
    for (const [i, u] of users.entries()) fs.chownSync(path.join(this.dir, `home-${u}`), 4240 + i, 4240 + i);
    const script = [
      "set -e",
      // /bin/sh -> dash: bash over dash makes every `sh` of this host's sessions bash.
      'mount --bind /usr/bin/bash "$(readlink -f /bin/sh)"',
      'for f in passwd group shadow sudoers; do mount --bind "$1/$f" "/etc/$f"; done',
      'shift; exec "$@"',
    ].join("\n");
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", etc, ...cmd];
  }

  private async waitForBannerBehind(addr: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await tryRun(["ip", "netns", "exec", (this.behind as TestHost).netns, "timeout", "1", "busybox", "nc", addr, "22"]);
      if (r.stdout.startsWith("SSH-")) return;
      await sleep(100);
    }
    throw new Error(`sshd on ${addr} (behind ${this.behind?.netns}) did not answer`);
  }

  /** Tears everything down; safe to call twice and after a partial setup. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    if (this.sshd && this.sshd.pid && this.sshd.exitCode === null) {
      const exited = new Promise((r) => this.sshd?.once("exit", r));
      this.sshd.kill("SIGTERM");
      await Promise.race([exited, sleep(3000)]);
      if (this.sshd.exitCode === null) this.sshd.kill("SIGKILL");
    } else if (this.sshdPid) {
      try {
        process.kill(this.sshdPid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
    // Processes started inside the namespace by tests (never ours to guess: only those whose netns is this one).
    const pids = await tryRun(["ip", "netns", "pids", this.netns]);
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    // Files the providers keep on the host, named for this namespace (host lock, recorded ip_forward).
    const inode = await tryRun(["ip", "netns", "exec", this.netns, ...statInode(SELF_NETNS)]);
    if (inode.exitCode === 0 && /^\d+$/.test(inode.stdout.trim())) {
      fs.rmSync(lockFilePath(inode.stdout.trim()), { force: true });
      fs.rmSync(forwardMarkPath(inode.stdout.trim()), { force: true });
      fs.rmSync(forwardMarkPath(inode.stdout.trim(), 6), { force: true });
    }
    await tryRun([...(this.behind ? ["ip", "netns", "exec", this.behind.netns] : []), "ip", "link", "del", this.rootIf]);
    await tryRun(["ip", "netns", "del", this.netns]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
