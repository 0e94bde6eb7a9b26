import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { REPO_ROOT } from "../helpers/paths";

describe("unit: schema/hostnet.schema.json", () => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, "schema", "hostnet.schema.json"), "utf8"));
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  it("compiles in ajv strict mode with allErrors", () => assert.equal(typeof validate, "function"));
  it("accepts a host with a bridge", () => {
    assert.ok(validate({ name: "lab", hosts: { node1: { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" } }, bridges: [{ host: "node1", name: "mybr0", addresses: ["192.168.1.1/24"] }] }), JSON.stringify(validate.errors));
  });
  it("reports every error at once, unknown fields included", () => {
    assert.equal(validate({ name: "lab", hosts: { node1: { host: "x", pasword: "p" } }, bridges: [{ host: "node1", name: "name-too-long-for-linux", mtu: 10 }] }), false);
    const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`).sort();
    assert.deepEqual(paths, ["/bridges/0/mtu minimum", "/bridges/0/name pattern", "/hosts/node1 additionalProperties"]);
  });
  it("has a description on every property", () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.properties) for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) if (!v.description && !v.$ref) missing.push(`${at}/${k}`);
      for (const [k, v] of Object.entries(n)) walk(v, `${at}/${k}`);
    };
    walk(schema, "");
    assert.deepEqual(missing, []);
  });
});
