import { strict as assert } from "node:assert";
import { isolateEngineLinks, lostRegistration, sdkTerminated } from "../../provider/automation/engine-link";

describe("unit: lostRegistration (which declared resource the engine link lost)", () => {
  const ok = (name: string) => ({ name, result: { status: "fulfilled", value: `urn:${name}` } as PromiseSettledResult<unknown> });
  const bad = (name: string, reason: unknown) => ({ name, result: { status: "rejected", reason } as PromiseSettledResult<unknown> });

  it("none lost when every URN resolved", () => {
    assert.equal(lostRegistration([ok("a"), ok("b")]), undefined);
  });
  it("a resource that failed for its own reasons is the engine's to report, not a lost link", () => {
    assert.equal(lostRegistration([ok("a"), bad("b", new Error("resource b [hostnet:Bridge] failed to register"))]), undefined);
  });
  it("UNAVAILABLE and CANCELLED are lost links; the first one is named", () => {
    const unavailable = Object.assign(new Error("Resource monitor is terminating"), { code: 14 });
    const cancelled = Object.assign(new Error("cancelled"), { code: 1 });
    assert.deepEqual(lostRegistration([ok("a"), bad("b", unavailable), bad("c", cancelled)]), { name: "b", message: "Resource monitor is terminating" });
    assert.deepEqual(lostRegistration([bad("c", cancelled)]), { name: "c", message: "cancelled" });
  });
  it("other gRPC codes are not", () => {
    assert.equal(lostRegistration([bad("a", Object.assign(new Error("bad"), { code: 3 }))]), undefined);
  });
});

describe("unit: the SDK internals the guard reads", () => {
  it("the SDK's stores have a boolean `terminated` (an SDK upgrade that moves it must fail here, not hang a run)", () => {
    require("@pulumi/pulumi/runtime/state").getStore(); // creates the process-wide store, as any SDK call outside a run does
    assert.deepEqual(sdkTerminated(), { local: false, global: false });
  });
  it("the SDK's gRPC client options are reachable, so each run's links are isolated", () => {
    assert.equal(isolateEngineLinks(), true);
  });
});
