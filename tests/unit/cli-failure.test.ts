import { strict as assert } from "node:assert";
import { engineErrors, failureMessage } from "../../provider/cli/failure";

/** The shape of a failed `pulumi up` as the automation API reports it: the engine's output in the error, twice. */
const RUN = `Updating (test):

 +  pulumi-nodejs:dynamic/hostnet:ContainerAttachment h1.web.eth0 creating (0s) error: attachment of eth0 to docker:web on 10.0.0.5:22: step 4/4 failed
 +  pulumi-nodejs:dynamic/hostnet:ContainerAttachment h1.web.eth0 **creating failed** error: attachment of eth0 to docker:web on 10.0.0.5:22: step 4/4 failed
    pulumi:pulumi:Stack hostnet-net-dev running error: update failed
Diagnostics:
  pulumi-nodejs:dynamic/hostnet:ContainerAttachment (h1.web.eth0):
    error: attachment of eth0 to docker:web on 10.0.0.5:22 (host end hn1 on br0): step 4/4 (nsenter --net=/proc/7/ns/net -- ip -batch -) failed on 10.0.0.5:22 with exit code 2: RTNETLINK answers: File exists; undid 3 completed step(s)

  pulumi-nodejs:dynamic/hostnet:Bridge (h2.bridge.br0):
    error: host key mismatch for 10.0.0.6:22
      expected SHA256:abc, got SHA256:def

  pulumi:pulumi:Stack (hostnet-net-dev):
    error: update failed

Resources:
    2 unchanged
    2 errored

Duration: 4s
`;

describe("unit: one clean message for a failed engine run", () => {
  it("keeps each resource's error once, with its continuation lines, and drops the stack's 'update failed'", () => {
    const text = `code: 1\n stdout: ${RUN}\n stderr: Command failed with exit code 1: pulumi up\n${RUN}`;
    assert.deepEqual(engineErrors(text), [
      { resource: "h1.web.eth0", message: "attachment of eth0 to docker:web on 10.0.0.5:22 (host end hn1 on br0): step 4/4 (nsenter --net=/proc/7/ns/net -- ip -batch -) failed on 10.0.0.5:22 with exit code 2: RTNETLINK answers: File exists; undid 3 completed step(s)" },
      { resource: "h2.bridge.br0", message: "host key mismatch for 10.0.0.6:22\nexpected SHA256:abc, got SHA256:def" },
    ]);
    const m = failureMessage("up", engineErrors(text)) ?? "";
    assert.equal(m.split("\n")[0], "up failed:");
    assert.equal((m.match(/RTNETLINK answers/g) ?? []).length, 1, "said once");
    assert.ok(!m.includes("update failed"));
  });

  it("keeps a generic error when it is all there is, and says nothing without diagnostics", () => {
    assert.deepEqual(engineErrors("Diagnostics:\n  pulumi:pulumi:Stack (s):\n    error: update failed\n"), [{ resource: "s", message: "update failed" }]);
    assert.equal(failureMessage("up", engineErrors("connection refused")), undefined);
  });
});
