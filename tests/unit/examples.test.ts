import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadSpec } from "../../provider/spec/load";
import { REPO_ROOT } from "../helpers/paths";

describe("unit: every example spec is valid", () => {
  const dir = path.join(REPO_ROOT, "examples");
  const specs = fs.readdirSync(dir).map((d) => path.join(dir, d, "network.yaml")).filter((f) => fs.existsSync(f));
  it("covers S1 to S6, IPv6, VXLAN and the demo", () => {
    const names = specs.map((f) => path.basename(path.dirname(f))).sort();
    assert.deepEqual(names, ["demo", "ipv6-dual-stack", "s1-bridge-by-hand", "s2-custom-bridge", "s3-nat", "s4-linking", "s5-point-to-point", "s6-multi-host", "vxlan-overlay"]);
  });
  for (const f of specs) it(`${path.relative(REPO_ROOT, f)} validates`, () => assert.doesNotThrow(() => loadSpec(f)));
  for (const f of specs) {
    it(`${path.relative(REPO_ROOT, f)} names its schema for editors on its first line, and the path resolves`, () => {
      const first = fs.readFileSync(f, "utf8").split("\n")[0];
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      assert.ok(m, `first line: ${first}`);
      assert.ok(fs.existsSync(path.resolve(path.dirname(f), m[1])), `${m[1]} exists`);
    });
  }
  it("a spec may name its schema with a top-level $schema key", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hostnet-schema-")), "net.yaml");
    try {
      fs.writeFileSync(file, ["$schema: ../schema/hostnet.schema.json", "name: lab", "hosts:", "  node1: { local: true }", "bridges:", "  - { host: node1, name: br0, addresses: [172.16.0.1/16] }", ""].join("\n"));
      assert.equal(loadSpec(file).spec.bridges?.length, 1);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
