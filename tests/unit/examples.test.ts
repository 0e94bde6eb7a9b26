import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec } from "../../provider/spec/load";
import { REPO_ROOT } from "../helpers/paths";

describe("unit: every example spec is valid", () => {
  const dir = path.join(REPO_ROOT, "examples");
  const specs = fs.readdirSync(dir).map((d) => path.join(dir, d, "network.yaml")).filter((f) => fs.existsSync(f));
  it("covers S1 to S6 and the demo", () => {
    const names = specs.map((f) => path.basename(path.dirname(f))).sort();
    assert.deepEqual(names, ["demo", "s1-bridge-by-hand", "s2-custom-bridge", "s3-nat", "s4-linking", "s5-point-to-point", "s6-multi-host"]);
  });
  for (const f of specs) it(`${path.relative(REPO_ROOT, f)} validates`, () => assert.doesNotThrow(() => loadSpec(f)));
});
