import { strict as assert } from "node:assert";
import { StreamSplitter, sessionPrelude, sessionRequest, sessionSequence } from "../../provider/host/session";

describe("unit: the remote session's framing", () => {
  const end = (seq: number, code?: number) => Buffer.from(`\n@@hostnet-end k ${seq}${code === undefined ? "" : ` ${code}`}\n`);

  it("skips whatever the login shell printed before the ready line with our nonce", () => {
    const p = new StreamSplitter("k");
    assert.deepEqual(p.push(Buffer.from("Welcome!\n@@hostnet-ready other\n")), []);
    assert.equal(p.isReady, false);
    const parts = p.push(Buffer.concat([Buffer.from("@@hostnet-ready k\nhi\n"), end(1, 0)]));
    assert.equal(p.isReady, true);
    assert.deepEqual(parts, [{ seq: 1, exitCode: 0, bytes: Buffer.from("hi\n") }]);
  });

  it("splits parts at every byte boundary, byte-exact (no trailing newline, end-like text with another nonce, multi-byte UTF-8)", () => {
    const a = "line\n@@hostnet-end other 9 9\n日本😀\r";
    const all = Buffer.concat([Buffer.from("@@hostnet-ready k\n"), Buffer.from(a), end(1, 3), end(2, 0), Buffer.from("x"), end(3)]);
    for (let cut = 0; cut <= all.length; cut++) {
      const p = new StreamSplitter("k");
      const parts = [...p.push(all.subarray(0, cut)), ...p.push(all.subarray(cut))];
      assert.deepEqual(parts, [
        { seq: 1, exitCode: 3, bytes: Buffer.from(a) },
        { seq: 2, exitCode: 0, bytes: Buffer.alloc(0) },
        { seq: 3, exitCode: undefined, bytes: Buffer.from("x") },
      ]);
    }
  });

  it("a request execs the quoted argv (never a builtin) with /dev/null or the given bytes as stdin; only printf (a builtin) frames it", () => {
    assert.equal(
      sessionRequest("k", 7, "'ip' 'link'"),
      `(exec 'ip' 'link') </dev/null; s=$?; printf '\\n@@hostnet-end %s %s\\n' k 7 >&2; printf '\\n@@hostnet-end %s %s %s\\n' k 7 "$s"\n`,
    );
    assert.match(sessionRequest("k", 8, "'cat'", "a'b\n"), /^printf %s 'a'\\''b\n' \| \(exec 'cat'\); s=\$\?;/);
    assert.equal(sessionPrelude("k", "/usr/sbin:/usr/bin"), `PATH=/usr/sbin:/usr/bin; export PATH; printf '@@hostnet-ready %s\\n' k; printf '@@hostnet-ready %s\\n' k >&2\n`);
  });

  it("a sequence resets its guard, then runs each request only while every earlier one exited 0; a skipped one says so on its end line", () => {
    const text = sessionSequence("k", 3, [{ argv: "'true'" }, { argv: "'cat'", stdin: "x" }]);
    assert.equal(text.split("\n")[0], "hn_ok=1");
    assert.equal(text.split("\n").length, 4);
    assert.match(text.split("\n")[1], /^if \[ "\$hn_ok" = 1 \]; then \(exec 'true'\) <\/dev\/null; s=\$\?; \[ "\$s" = 0 \] \|\| hn_ok=0; else s=skipped; fi; printf .* k 3 >&2; printf .* k 3 "\$s"$/);
    assert.match(text.split("\n")[2], /^if \[ "\$hn_ok" = 1 \]; then printf %s x \| \(exec 'cat'\);/);
    const p = new StreamSplitter("k");
    assert.deepEqual(p.push(Buffer.from("@@hostnet-ready k\nout\n@@hostnet-end k 3 0\n\n@@hostnet-end k 4 skipped\n")), [
      { seq: 3, exitCode: 0, bytes: Buffer.from("out") },
      { seq: 4, skipped: true, bytes: Buffer.alloc(0) },
    ]);
  });
});
