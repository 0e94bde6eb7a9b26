import { strict as assert } from "node:assert";
import { HOST_PARALLELISM, withHostLock } from "../../provider/resources/common/lock";
import { RecordingRunner } from "../helpers/recording";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("provider: mutations on one host run side by side by scope, bounded", () => {
  it(`different scopes run at once, at most ${HOST_PARALLELISM} (HOSTNET_PARALLEL) on a host; one scope runs one at a time; other hosts are not held back`, async () => {
    const r = new RecordingRunner("p1:22");
    const other = new RecordingRunner("p2:22");
    let running = 0;
    let peak = 0;
    const perScope = new Map<string, number>();
    const work = (scope: string) => async () => {
      running++;
      peak = Math.max(peak, running);
      perScope.set(scope, (perScope.get(scope) ?? 0) + 1);
      assert.equal(perScope.get(scope), 1, `two mutations of ${scope} at once`);
      await tick();
      perScope.set(scope, (perScope.get(scope) ?? 0) - 1);
      running--;
    };
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) jobs.push(withHostLock(r, work(`link:v${i}`), "t", `link:v${i}`));
    for (let i = 0; i < 5; i++) jobs.push(withHostLock(r, work("firewall"), "t"));
    for (let i = 0; i < 3; i++) jobs.push(withHostLock(r, work("netns:docker:a"), "t", "netns:docker:a"));
    let otherRan = false;
    jobs.push(withHostLock(other, async () => void (otherRan = true), "t", "firewall"));
    await Promise.all(jobs);
    assert.equal(peak, HOST_PARALLELISM, "bounded, and the bound is reached");
    assert.ok(otherRan);
  });

  it("a failed mutation lets the next of its scope run", async () => {
    const r = new RecordingRunner("p3:22");
    await assert.rejects(withHostLock(r, async () => Promise.reject(new Error("boom")), "t"), /boom/);
    assert.equal(await withHostLock(r, async () => "ran", "t"), "ran");
  });
});
