import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { spawnHeld } from "../../provider/host/local";
import { shellJoin } from "../../provider/host/quote";
import { RemoteSession } from "../../provider/host/session";
import { MOVED_DIR, parseRecords, recordMoveStep, removeRecordsArgv } from "../../provider/resources/common/moved";
import { moveLinkBack } from "../../provider/linux/netns";
import { holdLockArgv } from "../../provider/resources/common/lock";
import { sh, tryRun } from "../helpers/procs";
import { requireRoot } from "../helpers/root";

/** The shells a host's `/bin/sh` may be: Debian's, RHEL/Fedora/Arch's, Alpine's. */
const SHELLS: Record<string, string[]> = { dash: ["dash"], bash: ["bash"], "busybox sh": ["busybox", "sh"] };

/** An argv whose leading `sh` runs as the given shell instead. */
const as = (shell: string[], argv: readonly string[]) => (argv[0] === "sh" ? [...shell, ...argv.slice(1)] : [...argv]);

for (const [name, shell] of Object.entries(SHELLS)) {
  describe(`integration: host-side scripts under ${name} as sh`, function () {
    const tag = `${process.pid % 10000}${name.replace(/\W/g, "")}`.slice(0, 12);
    const host = `hnt-shh-${tag}`;
    const box = `hnt-shb-${tag}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostnet-shells-"));
    before(async () => {
      requireRoot();
      await sh(["ip", "netns", "add", host]);
      await sh(["ip", "netns", "add", box]);
    });
    after(async () => {
      await tryRun(["ip", "netns", "del", host]);
      await tryRun(["ip", "netns", "del", box]);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("moveLinkBack brings a moved veth end back into the namespace the command runs in", async () => {
      await sh(["ip", "-n", host, "link", "add", "hnsx0", "type", "veth", "peer", "name", "hnsx1"]);
      await sh(["ip", "-n", host, "link", "set", "hnsx1", "netns", box]);
      assert.doesNotMatch(await sh(["ip", "-n", host, "-br", "link"]), /hnsx1/);
      const r = await tryRun(["ip", "netns", "exec", host, ...as(shell, moveLinkBack(`/run/netns/${box}`, "hnsx1"))]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(await sh(["ip", "-n", host, "-br", "link"]), /^hnsx1@hnsx0 /m, "the end is back on the host");
      assert.doesNotMatch(await sh(["ip", "-n", box, "-br", "link"]), /hnsx1/);
      const again = await tryRun(["ip", "netns", "exec", host, ...as(shell, moveLinkBack(`/run/netns/${box}`, "hnsx1"))]);
      assert.notEqual(again.exitCode, 0, "a failure is reported, not swallowed");
    });

    it("the lock holder writes who holds it, makes a second holder wait with a note naming the first, times out naming it, and removes the file on release", async () => {
      const file = path.join(dir, "lock");
      const first = await spawnHeld(as(shell, holdLockArgv(file, "stack p/one", 30)), 10_000);
      const text = fs.readFileSync(file, "utf8");
      const m = /^stack p\/one since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ pid (\d+)\n$/.exec(text);
      assert.ok(m, text);
      assert.ok(fs.existsSync(`/proc/${m[1]}`), "the PID written is the live holder");
      const notes: string[] = [];
      const second = spawnHeld(as(shell, holdLockArgv(file, "stack p/two", 30)), 10_000, (n) => notes.push(n));
      const timedOut = await spawnHeld(as(shell, holdLockArgv(file, "stack p/three", 1)), 10_000).then(
        () => "took the lock",
        (e: Error) => e.message,
      );
      assert.match(timedOut, /exited with 3: held by stack p\/one since/);
      await first.release();
      const s = await second;
      assert.equal(notes.length, 1);
      assert.match(notes[0], /^waiting for the host lock .*lock, held by stack p\/one since .* pid \d+$/);
      assert.match(fs.readFileSync(file, "utf8"), /^stack p\/two since /, "the waiter took over (on a fresh file: the first one removed its own)");
      await s.release();
      assert.equal(fs.existsSync(file), false, "the last holder leaves no lock file behind");
    });

    it("the remote session protocol: byte-exact output and stdin, exit codes, no output without a newline lost, a builtin name runs no builtin; a sequence in one write stops at its first failure", async () => {
      const p = spawn(shell[0], [...shell.slice(1), "-s"], { stdio: ["pipe", "pipe", "pipe"] });
      const channel = { write: (d: string) => p.stdin.write(d), end: () => p.stdin.end(), close: () => p.kill(), on: (ev: "data" | "close", cb: (d: Buffer) => void) => (ev === "data" ? p.stdout.on("data", cb) : p.on("close", () => cb(Buffer.alloc(0)))), stderr: p.stderr };
      const session = new RemoteSession(channel, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      try {
        await session.ready(10_000);
        const odd = "a'b\"c\\n$(id)`id`\n\t日本 %s -n\r";
        assert.deepEqual(await session.run(shellJoin(["printf", "%s", odd]), undefined, 10_000), { seq: 1, exitCode: 0, stdout: odd, stderr: "" });
        assert.deepEqual(await session.run(shellJoin(["sh", "-c", "cat; printf err >&2; exit 5"]), odd, 10_000), { seq: 2, exitCode: 5, stdout: odd, stderr: "err" });
        assert.equal((await session.run(shellJoin(["cat"]), undefined, 10_000)).stdout, "", "a command without stdin reads /dev/null, not the session's script");
        assert.equal((await session.run(shellJoin(["exit", "3"]), undefined, 10_000)).exitCode, 127, "no program named exit: the session goes on");
        assert.equal((await session.run(shellJoin(["echo", "alive"]), undefined, 10_000)).stdout, "alive\n");
        // A sequence: one write, replies in order; after the failing command the rest are skipped, not run.
        const marker = path.join(dir, `seq-${process.pid}`);
        const seq = await session.runSequence(
          [
            { argv: shellJoin(["printf", "%s", odd]) },
            { argv: shellJoin(["sh", "-c", "cat; printf e1 >&2"]), stdin: odd },
            { argv: shellJoin(["sh", "-c", "printf no >&2; exit 4"]) },
            { argv: shellJoin(["touch", marker]) },
          ],
          10_000,
        );
        assert.equal(seq.error, undefined);
        assert.deepEqual(seq.replies, [
          { seq: 6, exitCode: 0, stdout: odd, stderr: "" },
          { seq: 7, exitCode: 0, stdout: odd, stderr: "e1" },
          { seq: 8, exitCode: 4, stdout: "", stderr: "no" },
          { seq: 9, exitCode: -1, stdout: "", stderr: "", skipped: true },
        ]);
        assert.equal(fs.existsSync(marker), false, "the command after the failure did not run");
        const next = await session.runSequence([{ argv: shellJoin(["true"]) }, { argv: shellJoin(["echo", "again"]) }], 10_000);
        assert.deepEqual(next.replies.map((r) => r.stdout), ["", "again\n"], "the next sequence starts afresh");
      } finally {
        session.end();
      }
    });

    it("the moved-link record is written and removed by its argv", async () => {
      const rec = { alias: "hostnet:0123abcd:veth/hnsx/peer shells/test", nsPath: `/run/netns/${box}`, inode: "42" };
      const step = recordMoveStep(rec);
      const dirArg = step.argv[4];
      const fileArg = step.argv[5];
      // Run against a scratch directory instead of /run/hostnet/moved: the script takes both paths as arguments.
      const scratch = path.join(dir, "moved");
      const w = await tryRun([...as(shell, [...step.argv.slice(0, 4), scratch, path.join(scratch, path.basename(fileArg))])], step.stdin);
      assert.equal(w.exitCode, 0, w.stderr);
      assert.equal(dirArg, MOVED_DIR);
      assert.deepEqual(parseRecords(fs.readFileSync(path.join(scratch, path.basename(fileArg)), "utf8")), [rec]);
      const rm = removeRecordsArgv([rec.alias]);
      const r = await tryRun(as(shell, [rm[0], rm[1], rm[2], scratch, path.join(scratch, path.basename(fileArg))]));
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(fs.existsSync(scratch), false, "the empty directory goes too");
    });
  });
}
