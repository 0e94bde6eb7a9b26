import { strict as assert } from "node:assert";
import { FaultRunner, faultsFromEnv } from "../../provider/host/faults";
import { RecordingRunner } from "../helpers/recording";

describe("provider: the test-only fault hook (HOSTNET_TEST_FAULTS)", () => {
  it("fails the matching commands of the named host without running them, runs the rest", async () => {
    const r = new RecordingRunner("h0:22");
    const f = new FaultRunner(r, [{ host: "h0:22", match: "^ip link add name br1 " }, { host: "other:22", match: "." }]);
    const failed = await f.run(["ip", "link", "add", "name", "br1", "type", "bridge"]);
    assert.equal(failed.exitCode, 1);
    assert.match(failed.stderr, /injected fault/);
    assert.equal((await f.run(["ip", "link", "add", "name", "br2", "type", "bridge"])).exitCode, 0);
    assert.deepEqual(r.lines(), ["ip link add name br2 type bridge"], "the failed command never ran");
  });
  it("is off unless the variable is set, and refuses a malformed one", () => {
    assert.deepEqual(faultsFromEnv({}), []);
    assert.deepEqual(faultsFromEnv({ HOSTNET_TEST_FAULTS: '[{"match":"x"}]' }), [{ match: "x" }]);
    assert.throws(() => faultsFromEnv({ HOSTNET_TEST_FAULTS: '{"match":1}' }), /expected a JSON list/);
  });
});
