import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PULUMI_BIN_ENV, PULUMI_VERSION, chooseEngine, engineCandidates, versionAtLeast } from "../../provider/automation/engine";

describe("unit: which Pulumi CLI a run uses", () => {
  it("compares versions as pulumi version prints them", () => {
    assert.ok(versionAtLeast("v3.274.1", "v3.274.1"));
    assert.ok(versionAtLeast("v3.280.0", "v3.274.1"));
    assert.ok(versionAtLeast("v4.0.0-alpha.1", "v3.274.1"));
    assert.ok(!versionAtLeast("v3.274.0", "v3.274.1"));
    assert.ok(!versionAtLeast("v3.99.9", "v3.274.1"));
    assert.ok(!versionAtLeast("garbage", "v3.274.1"));
  });

  it("looks where it is told first, else setup.sh's build, PATH, then the official installer's places", () => {
    const env = { PATH: "/a:/b", PULUMI_HOME: "/ph" };
    const c = engineCandidates(undefined, env);
    assert.deepEqual(c.map((x) => x.source), ["scripts/setup.sh", "PATH", "PATH", "$PULUMI_HOME/bin", "~/.pulumi/bin"]);
    assert.deepEqual(c.slice(1, 3).map((x) => x.bin), ["/a/pulumi", "/b/pulumi"]);
    assert.deepEqual(engineCandidates("/opt/p/bin/pulumi", env), [{ bin: "/opt/p/bin/pulumi", source: "--pulumi" }]);
    assert.deepEqual(engineCandidates(undefined, { ...env, [PULUMI_BIN_ENV]: "/x/pulumi" }), [{ bin: "/x/pulumi", source: PULUMI_BIN_ENV }]);
  });

  it("refuses a CLI older than the supported one, saying which and where", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostnet-old-pulumi-"));
    try {
      const bin = path.join(dir, "pulumi");
      fs.writeFileSync(bin, "#!/bin/sh\necho v3.100.0\n", { mode: 0o755 });
      assert.throws(() => chooseEngine(bin), (e: Error) => e.message.includes(`no Pulumi CLI ${PULUMI_VERSION} or newer found`) && e.message.includes(`${bin} (--pulumi): v3.100.0, older than ${PULUMI_VERSION}`));
      fs.writeFileSync(bin, `#!/bin/sh\necho ${PULUMI_VERSION}\n`, { mode: 0o755 });
      const ok = chooseEngine(bin);
      assert.equal(ok.version, PULUMI_VERSION);
      assert.equal(ok.shimBeside, false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
