import { strict as assert } from "node:assert";
import { ProviderFolder, providerSource } from "../../provider/resources/common/dynamic";

/** Loads a `__provider` module text as Pulumi's Node.js dynamic provider does: compiled as a module, then `exports.handler()`. */
function load(source: string): Record<string, (...a: unknown[]) => Promise<unknown>> {
  const exports: { handler?: () => Record<string, (...a: unknown[]) => Promise<unknown>> } = {};
  new Function("exports", "require", source)(exports, require);
  assert.equal(typeof exports.handler, "function");
  return exports.handler!();
}

describe("unit: the __provider module text of each resource kind", () => {
  for (const folder of ["bridge", "veth", "attachment", "nat"] as ProviderFolder[]) {
    it(`${folder}: small, and forwards the six methods to resources/${folder}/provider`, async () => {
      const src = providerSource(folder);
      // Stored twice per resource in the state; the serialised closures it replaces took ~2.2 KiB.
      assert.ok(src.length < 300, `${src.length} bytes`);
      const p = load(src);
      assert.deepEqual(Object.keys(p).sort(), ["check", "create", "delete", "diff", "read", "update"]);
      for (const f of Object.values(p)) assert.equal(typeof f, "function");
      // A check of empty inputs reaches the real module: it fails validation without touching any host.
      const res = (await p.check({}, {})) as { failures?: { property: string }[] };
      assert.ok((res.failures?.length ?? 0) > 0, JSON.stringify(res));
    });
  }

  it("is the same text for every resource of a kind (the dynamic provider loads it once)", () => {
    assert.equal(providerSource("nat"), providerSource("nat"));
    assert.notEqual(providerSource("nat"), providerSource("bridge"));
  });
});
