import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { newStack, TestStack } from "../helpers/engine";
import { globalAddrs, linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/paths";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";

describe("integration: the root Pulumi.yaml program applies the spec named in hostnet:spec", function () {
  let host: TestHost;
  let t: TestStack | undefined;
  let specFile = "";
  before(async () => {
    requireRoot();
    host = await TestHost.create("rootprog");
  });
  after(async () => {
    await t?.cleanup().catch(() => undefined);
    await host?.destroy();
    if (specFile) fs.rmSync(specFile, { force: true });
  });

  it("runs dist/bin/program.js with stack config, on a host reached as a named network namespace", async () => {
    const before = await linkAndAddrSnapshot(host);
    specFile = path.join(REPO_ROOT, ".test-work", `root-program-${process.pid}.yaml`);
    fs.mkdirSync(path.dirname(specFile), { recursive: true });
    fs.writeFileSync(specFile, `name: root-program\nhosts:\n  lab:\n    netns: ${host.netns}\nbridges:\n  - { host: lab, name: hnbr-root, addresses: [10.66.0.1/24] }\n`);
    const program = path.join(REPO_ROOT, "dist", "bin", "program.js");
    t = await newStack("root-program", async () => {
      delete require.cache[require.resolve(program)];
      return require(program);
    });
    await t.stack.setConfig("hostnet:spec", { value: specFile });
    const up = await t.stack.up({ color: "never" });
    assert.equal(up.summary.resourceChanges?.create, 3, "stack, Topology, bridge");
    assert.deepEqual((up.outputs.inventory.value as Record<string, { bridges: string[] }>).lab.bridges, ["hnbr-root"]);
    assert.deepEqual(globalAddrs(await linkOf(host, "hnbr-root")), ["10.66.0.1/24"]);
    await t.stack.destroy({ color: "never" });
    assert.deepEqual(await linkAndAddrSnapshot(host), before);
  });
});
