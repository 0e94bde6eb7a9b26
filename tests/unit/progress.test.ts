import { strict as assert } from "node:assert";
import { SEE_BELOW, engineOutputFilter } from "../../provider/cli/progress";
import { engineErrors, failureMessage } from "../../provider/cli/failure";

/** A failed `up` as the engine streamed it (captured from spec-cli's run, host address shortened). */
const FAILED = `Updating (partial):

 +  pulumi:pulumi:Stack s6-partial creating (0s) 
 +  hostnet:index:Topology topology creating (0s) 
@ updating....
    pulumi-nodejs:dynamic/hostnet:Bridge h1.bridge.hnbr-s6a  error: pulumi-nodejs:dynamic/hostnet:Bridge resource 'h1.bridge.hnbr-s6a': property name value {hnbr-s6a} has a problem: a bridge named hnbr-s6a already exists on 10.0.0.5:22 and belongs to another hostnet stack s6/s6; choose another name, or destroy it in that stack first
 +  pulumi:pulumi:Stack s6-partial created 
    pulumi-nodejs:dynamic/hostnet:Bridge h1.bridge.hnbr-s6a **failed** 1 error
 +  pulumi-nodejs:dynamic/hostnet:NatRule h1.publish.web.tcp.8083 creating (0s) error: skipped because h1.web.eth0 failed in this run (it feeds this resource); the next \`up\` creates it
 +  pulumi-nodejs:dynamic/hostnet:NatRule h1.publish.web.tcp.8083 **creating failed** error: skipped because h1.web.eth0 failed in this run (it feeds this resource); the next \`up\` creates it
Diagnostics:
  pulumi-nodejs:dynamic/hostnet:Bridge (h1.bridge.hnbr-s6a):
    error: pulumi-nodejs:dynamic/hostnet:Bridge resource 'h1.bridge.hnbr-s6a': property name value {hnbr-s6a} has a problem: a bridge named hnbr-s6a already exists on 10.0.0.5:22 and belongs to another hostnet stack s6/s6; choose another name, or destroy it in that stack first

  pulumi-nodejs:dynamic/hostnet:ContainerAttachment (h1.web.eth0):
    warning: something to know
    error: step 2/3 (add address) failed on 10.0.0.5:22 with exit code 2:
      RTNETLINK answers: File exists

Resources:
    + 2 created
    1 errored

Duration: 2s
`;

/** Runs `text` through the filter in chunks of `size` characters. */
function filtered(text: string, size: number): string {
  let out = "";
  const f = engineOutputFilter((x) => (out += x));
  for (let i = 0; i < text.length; i += size) f.push(text.slice(i, i + size));
  f.end();
  return out;
}

describe("unit: the engine's progress, each error said once", () => {
  it("the live line says 'see below', the Diagnostics' errors go (the summary says them), warnings stay; any chunking", () => {
    for (const size of [1, 7, 64, FAILED.length]) {
      const out = filtered(FAILED, size);
      assert.ok(out.includes(`    pulumi-nodejs:dynamic/hostnet:Bridge h1.bridge.hnbr-s6a  ${SEE_BELOW}\n`), out);
      assert.equal(out.split("already exists").length - 1, 0, out);
      assert.equal(out.split("skipped because").length - 1, 0, out);
      assert.ok(out.includes(` +  pulumi-nodejs:dynamic/hostnet:NatRule h1.publish.web.tcp.8083 creating (0s) ${SEE_BELOW}\n +  pulumi-nodejs:dynamic/hostnet:NatRule h1.publish.web.tcp.8083 **creating failed** ${SEE_BELOW}\n`), out);
      assert.ok(out.includes("Diagnostics:\n  pulumi-nodejs:dynamic/hostnet:ContainerAttachment (h1.web.eth0):\n    warning: something to know\n\nResources:\n"), out);
      assert.doesNotMatch(out, /RTNETLINK|\(h1\.bridge\.hnbr-s6a\):/, out);
      assert.ok(out.includes(" +  pulumi:pulumi:Stack s6-partial created \n"), "other lines as they were");
      assert.ok(out.endsWith("Duration: 2s\n"));
    }
  });

  it("a run without errors passes unchanged", () => {
    const ok = "Updating (s6):\n +  pulumi:pulumi:Stack s6 created \nResources:\n    + 2 created\n";
    assert.equal(filtered(ok, 5), ok);
  });

  it("the summary names each resource once, without the engine's 'property … has a problem' wrapping", () => {
    const errors = engineErrors(FAILED);
    assert.deepEqual(errors.map((e) => e.resource), ["h1.bridge.hnbr-s6a", "h1.web.eth0"]);
    assert.equal(errors[0].message, "name: a bridge named hnbr-s6a already exists on 10.0.0.5:22 and belongs to another hostnet stack s6/s6; choose another name, or destroy it in that stack first");
    const msg = failureMessage("up", errors) ?? "";
    assert.equal(msg.split("already exists").length - 1, 1);
    assert.match(msg, /RTNETLINK answers: File exists/);
  });
});
