import * as fs from "node:fs";
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { TestHost } from "../helpers/testhost";
import { sh } from "../helpers/procs";
import { requireRoot } from "../helpers/root";
import { SshRunner, closeAllSsh, sshChannelCount, sshConnectionCount, sshRoundTrips } from "../../provider/host/ssh";
import { HARD_HOST_USERS } from "../helpers/testhost";
import { runnerFor } from "../../provider/host";
import { ConnectionLostError } from "../../provider/host/errors";
import { fingerprint } from "../../provider/host/knownhosts";
import { runInOrder } from "../../provider/host/runner";
import { Step } from "../../provider/resources/common/steps";
import { Transaction } from "../../provider/resources/common/transaction";

/** Random strings rich in shell metacharacters, newlines and non-ASCII. */
function awkwardStrings(n: number): string[] {
  const pieces = ["'", '"', "\\", "$(id)", "`id`", "$HOME", "${x}", "\n", "\t", " ", ";", "&&", "|", "*", "?", "~", "#", "!", "%", "é", "日本", "😀", "\r", "-n", "--", "{a,b}", "[x]", ">", "<", "'\\''", "\u00a0"];
  const out = ["", " ", "'", "''", '"', "\n", "-e", "-n", "%s", "\\n"];
  while (out.length < n) {
    let s = "";
    const len = 1 + (randomBytes(1)[0] % 8);
    for (let i = 0; i < len; i++) {
      const b = randomBytes(2);
      s += b[0] % 3 === 0 ? String.fromCharCode(33 + (b[1] % 94)) : pieces[b[1] % pieces.length];
    }
    out.push(s);
  }
  return out;
}

describe("transport: SSH runner against a real sshd", function () {
  let host: TestHost;
  before(async () => {
    requireRoot();
    host = await TestHost.create("ssh");
  });
  after(async () => {
    closeAllSsh();
    await host?.destroy();
  });

  it("round-trips 250 awkward strings byte for byte through the real sshd (printf %s)", async () => {
    const runner = new SshRunner(host.connection());
    const strings = awkwardStrings(250);
    for (const s of strings) {
      const r = await runner.run(["printf", "%s", s]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, s, `round trip of ${JSON.stringify(s)}`);
    }
  });

  it("keeps argument boundaries: many awkward arguments in one command", async () => {
    const runner = new SshRunner(host.connection());
    const strings = awkwardStrings(60).filter((s) => s !== "");
    const r = await runner.run(["printf", "%s\\0", ...strings]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.split("\0").slice(0, -1), strings);
  });

  it("passes stdin, exit codes and stderr through", async () => {
    const runner = new SshRunner(host.connection());
    const r = await runner.run(["sh", "-c", "cat; echo oops >&2; exit 3"], { stdin: "hello\n" });
    assert.deepEqual(r, { stdout: "hello\n", stderr: "oops\n", exitCode: 3 });
  });

  it("opens one pooled connection per host for many concurrent commands", async () => {
    closeAllSsh();
    await new Promise((r) => setTimeout(r, 200));
    const before = host.acceptedConnections();
    const dialsBefore = sshConnectionCount();
    const runners = Array.from({ length: 5 }, () => runnerFor(host.connection()));
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => runners[i % 5].run(["echo", String(i)])));
    assert.deepEqual(results.map((r) => r.stdout.trim()), Array.from({ length: 40 }, (_, i) => String(i)));
    assert.equal(sshConnectionCount() - dialsBefore, 1);
    assert.equal(host.acceptedConnections() - before, 1);
  });

  it("refuses a wrong host key with a clear error and runs nothing", async () => {
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOn0tTheRightKeyAtAllJustForTheTestXXXXXXXXXX";
    const runner = new SshRunner(host.connection({ hostKey: other, hostId: "wrong-key-host" }));
    await assert.rejects(runner.run(["true"]), /cannot connect to wrong-key-host: host key mismatch: the server offered a ssh-ed25519 key that is not the pinned one/);
    // Both fingerprints, as ssh-keygen -lf prints them, and how to update the pin.
    const offered = fingerprint(host.hostKey.split(/\s+/)[1]);
    const pinned = fingerprint(other.split(/\s+/)[1]);
    await assert.rejects(runner.run(["true"]), (e: Error) => e.message.includes(`Offered: ssh-ed25519 ${offered}; pinned: ${pinned}.`) && e.message.includes(`ssh-keyscan -p 22 ${host.address} | ssh-keygen -lf -) and update hostKey`));
  });

  it("refuses a host missing from the known_hosts file", async () => {
    const fs = await import("node:fs");
    const file = `${host.dir}/known_hosts_empty`;
    fs.writeFileSync(file, "# nothing\n");
    const runner = new SshRunner({ ...host.connection({ hostId: "unknown-host" }), hostKey: undefined, knownHostsFile: file });
    await assert.rejects(runner.run(["true"]), /no known host key for .* set hostKey or add it to/);
  });

  it("accepts the host through a known_hosts file", async () => {
    const fs = await import("node:fs");
    const file = `${host.dir}/known_hosts`;
    fs.writeFileSync(file, `${host.address} ${host.hostKey}\n`);
    const runner = new SshRunner({ ...host.connection({ hostId: "kh-host" }), hostKey: undefined, knownHostsFile: file });
    assert.equal((await runner.run(["echo", "ok"])).stdout, "ok\n");
  });

  it("withHostLock holds a flock on the host while mutations follow each other (one holder for them), so another process waits; let go shortly after the last", async () => {
    const { lockFilePath, withHostLock } = await import("../../provider/resources/common/lock");
    const runner = new SshRunner(host.connection());
    const inode = await host.netnsInode();
    const file = lockFilePath(inode);
    const other = () => host.exec(["flock", "-n", file, "true"]).then(() => "free", () => "locked");
    const holder = () => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
    const during = await withHostLock(runner, async () => other());
    assert.equal(during, "locked", "another process cannot take the lock while a mutation runs");
    const first = holder();
    assert.match(first, / pid \d+\n$/, "the holder says who holds it");
    // A mutation that follows at once runs under the same hold: no second holder (and no second login shell).
    assert.equal(await withHostLock(runner, async () => holder()), first);
    const started = Date.now();
    while (fs.existsSync(file) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fs.existsSync(file), false, "let go shortly after the last mutation, the holder leaves no lock file behind");
    assert.equal(await other(), "free", "released afterwards");
  });

  it("reaches a host that only a jump host can reach, through `proxy` (both host keys verified)", async () => {
    const inner = await TestHost.create("inner", { behind: host });
    try {
      // No traffic is sent to prove it: the root namespace simply has no route to the inner host's link (only the default one).
      const routes = JSON.parse(await sh(["ip", "-j", "route", "show", "match", inner.address])) as { dst: string }[];
      assert.deepEqual(routes.map((r) => r.dst).filter((d) => d !== "default"), [], "the inner host is not reachable from here except through the jump host");
      const viaJump = new SshRunner({ ...inner.connection(), proxy: host.connection() });
      const addrs = JSON.parse((await viaJump.run(["ip", "-j", "-4", "addr", "show", "dev", "eth0"])).stdout) as { addr_info: { local: string }[] }[];
      assert.equal(addrs[0].addr_info[0].local, inner.address, "the command ran on the inner host");
      const wrongInnerKey = new SshRunner({ ...inner.connection({ hostKey: host.hostKey, hostId: "inner-wrong-key" }), proxy: host.connection() });
      await assert.rejects(wrongInnerKey.run(["true"]), /inner-wrong-key: host key mismatch/);
    } finally {
      await inner.destroy();
    }
  });

  it("a connection cut mid-command is reported as lost (host, command, may or may not have applied); the next command reconnects once sshd is back", async () => {
    const runner = new SshRunner(host.connection());
    await runner.run(["true"]);
    const running = runner.run(["sleep", "30"]);
    await new Promise((r) => setTimeout(r, 500));
    await host.cutSsh();
    await assert.rejects(running, (e: Error) => {
      assert.ok(e instanceof ConnectionLostError, `${e.name}: ${e.message}`);
      assert.match(e.message, new RegExp(`^lost the connection to ${host.address.replace(/\./g, "\\.")}:22 while \`sleep 30\` was running [(].+[)]: that command may or may not have taken effect; the next \`up\` reads the host again and converges$`));
      return true;
    });
    await host.restartSshd();
    assert.equal((await runner.run(["echo", "back"])).stdout, "back\n");
  });

  it("gives up after dialErrorLimit failed dials with a connection error", async () => {
    const runner = new SshRunner({ host: host.rootAddress, port: 2, user: "root", insecureIgnoreHostKey: true, dialErrorLimit: 2, perDialTimeout: 2 });
    await assert.rejects(runner.run(["true"]), /cannot connect to .*:2: .*(ECONNREFUSED|Timed out)/);
  });
});

describe("transport: one remote session per channel, the login shell once per session (a real sshd, a sudo user with a chatty, slow ~/.bashrc)", function () {
  let host: TestHost;
  before(async () => {
    requireRoot();
    host = await TestHost.create("sess", { hard: true });
    // What a version manager's init does to every login shell: prints, warns, takes its time.
    fs.writeFileSync(`${host.dir}/home-${HARD_HOST_USERS.sudo}/.bashrc`, 'echo "welcome from .bashrc"\necho "bashrc warns" >&2\necho run >> ~/.bashrc-runs\nsleep 0.1\n');
  });
  after(async () => {
    closeAllSsh();
    await host?.destroy();
  });

  it("runs 60 commands through at most 6 sessions: .bashrc runs once per session and none of its output reaches a command's", async () => {
    closeAllSsh();
    const channelsBefore = sshChannelCount();
    const runner = runnerFor(host.connection({ user: HARD_HOST_USERS.sudo, sudo: true }));
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => runner.run(i % 2 ? ["id", "-u"] : ["printf", "%s", String(i)])));
    results.forEach((r, i) => assert.deepEqual(r, { stdout: i % 2 ? "0\n" : String(i), stderr: "", exitCode: 0 }));
    const runs = fs.readFileSync(`${host.dir}/home-${HARD_HOST_USERS.sudo}/.bashrc-runs`, "utf8").split("\n").filter(Boolean).length;
    const opened = sshChannelCount() - channelsBefore;
    assert.ok(opened >= 1 && opened <= 6, `${opened} channels`);
    assert.equal(runs, opened, "the login shell ran once per session");
  });

  it("round-trips awkward strings, stdin and exit codes through sudo in a session, byte for byte", async () => {
    const runner = runnerFor(host.connection({ user: HARD_HOST_USERS.sudo, sudo: true }));
    for (const s of awkwardStrings(80)) assert.equal((await runner.run(["printf", "%s", s])).stdout, s);
    assert.deepEqual(await runner.run(["sh", "-c", "cat; echo oops >&2; exit 3"], { stdin: "a'b\n\\x" }), { stdout: "a'b\n\\x", stderr: "oops\n", exitCode: 3 });
  });

  it("a command that outlives its timeout is reported as timed out (its session is closed), and the next command gets a fresh session", async () => {
    const runner = new SshRunner(host.connection());
    const r = await runner.run(["sleep", "30"], { timeoutMs: 500 });
    assert.equal(r.exitCode, -1);
    assert.match(r.stderr, /timed out after 500 ms/);
    assert.equal((await runner.run(["echo", "next"])).stdout, "next\n");
  });

  it("a transaction's steps go to the host in one round trip through sudo; a failing step stops the rest, the earlier ones are undone, the error names the step", async () => {
    const runner = runnerFor(host.connection({ user: HARD_HOST_USERS.sudo, sudo: true }));
    const dir = `/tmp/hostnet-seq-${process.pid}`;
    const mk = (n: number): Step => ({ description: `make ${n}`, argv: ["mkdir", `${dir}/${n}`], undo: [["rmdir", `${dir}/${n}`]] });
    await runner.run(["rm", "-rf", dir]);
    await runner.run(["mkdir", dir]);
    try {
      const seq = await runInOrder(runner, [mk(1), mk(2)].map((x) => ({ argv: x.argv })));
      assert.deepEqual(seq.results.map((r) => r.exitCode), [0, 0]);
      const fail: Step = { description: "fail on purpose", argv: ["sh", "-c", "echo nope >&2; exit 9"], undo: [] };
      const tx = new Transaction(runner, "seq test");
      await assert.rejects(tx.run([mk(3), mk(4), fail, mk(5)]), /seq test: step 3\/4 \(sh -c echo nope >&2; exit 9\) failed on .* with exit code 9: nope; undid 2 completed step/);
      assert.equal((await runner.run(["ls", dir])).stdout, "1\n2\n", "3 and 4 undone, 5 never made");
      // As root (no sudo), the same through the plain SSH runner.
      const root = new SshRunner(host.connection());
      const again = await root.runSequence([{ argv: ["printf", "%s", "a'b"] }, { argv: ["cat"], stdin: "in\n" }]);
      assert.deepEqual(again, { results: [{ stdout: "a'b", stderr: "", exitCode: 0 }, { stdout: "in\n", stderr: "", exitCode: 0 }] });
    } finally {
      await runner.run(["rm", "-rf", dir]);
    }
  });

  it("commands that pile up while every session is busy go together in one round trip, each with its own result; one with its own timeout goes alone", async () => {
    const runner = runnerFor(host.connection({ user: HARD_HOST_USERS.sudo, sudo: true }));
    await runner.run(["true"]);
    const before = sshRoundTrips();
    const odd = awkwardStrings(300);
    const jobs = odd.map((x, i) => runner.run(i % 3 === 0 ? ["sh", "-c", 'printf %s "$1"; exit 3', "sh", x] : i % 3 === 1 ? ["cat"] : ["printf", "%s", x], i % 3 === 1 ? { stdin: x } : undefined));
    const slow = runner.run(["sleep", "5"], { timeoutMs: 300 });
    const results = await Promise.all(jobs);
    results.forEach((r, i) => assert.deepEqual(r, { stdout: odd[i], stderr: "", exitCode: i % 3 === 0 ? 3 : 0 }, `command ${i}`));
    const trips = sshRoundTrips() - before;
    assert.ok(trips < 100, `300 commands in ${trips} round trips`);
    const s = await slow;
    assert.equal(s.exitCode, -1, "its own timeout applied");
    assert.match(s.stderr, /timed out after 300 ms/);
  });

  it("a command cannot end or change the session: builtins are not run, the program on PATH is", async () => {
    const runner = new SshRunner(host.connection());
    const cwd = (await runner.run(["pwd"])).stdout;
    const exit = await runner.run(["exit", "7"]);
    assert.equal(exit.exitCode, 127, "no program named exit");
    const cd = await runner.run(["cd", "/tmp"]);
    assert.equal(cd.exitCode, 127, "no program named cd");
    assert.equal((await runner.run(["pwd"])).stdout, cwd, "the session's directory did not change");
    assert.equal((await runner.run(["echo", "still here"])).stdout, "still here\n");
  });
});
