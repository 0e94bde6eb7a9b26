import { strict as assert } from "node:assert";
import { Debouncer, dockerEventsArgv, parseDockerEvent, watchedHosts } from "../../provider/cli/watch";
import { parseCli } from "../../provider/cli/args";
import { followArgv, lineSplitter } from "../../provider/host/runner";
import { parseSpec } from "../../provider/spec/load";
import { planTopology } from "../../provider/topology/plan";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("unit: hostnet watch (what to follow, events, debounce)", () => {
  it("follows the Docker containers of each host; a start re-applies the container's interfaces, its link's pair and its names", () => {
    const spec = parseSpec(`
name: w
hosts: { h1: { local: true }, h2: { netns: n2 } }
bridges: [{ host: h1, name: br0, addresses: [172.16.0.1/16] }]
containers:
  - { host: h1, name: app, docker: app-1, interfaces: [{ bridge: br0, addresses: [172.16.0.2/16] }], hosts: [db] }
  - { host: h1, name: db, interfaces: [{ bridge: br0, addresses: [172.16.0.3/16] }] }
  - { host: h1, name: ns, netns: blue }
links:
  - { host: h1, a: { container: app, ifname: p2p, addresses: [10.0.0.1/32] }, b: { container: ns, addresses: [10.0.0.2/32] } }
`, "w.yaml").spec;
    const w = watchedHosts(spec, planTopology(spec));
    assert.deepEqual(w.map((h) => [h.host, [...h.containers.entries()]]), [
      ["h1", [
        ["app-1", ["h1.app.eth0", "h1.link.app.p2p-ns.eth0.veth", "h1.link.app.p2p-ns.eth0.a", "h1.app.hosts"]],
        ["db", ["h1.db.eth0"]],
      ]],
    ]);
    assert.deepEqual(watchedHosts(spec, planTopology(spec), ["h2"]), []);
    assert.deepEqual(dockerEventsArgv(["app-1", "db"]), ["docker", "events", "--format", "{{json .}}", "--filter", "type=container", "--filter", "event=start", "--filter", "container=app-1", "--filter", "container=db"]);
  });

  it("parses docker events lines; anything else is ignored", () => {
    const line = JSON.stringify({ status: "start", id: "2a78d314b734aa", from: "busybox", Type: "container", Action: "start", Actor: { ID: "2a78d314b734aa", Attributes: { name: "app-1", image: "busybox" } }, time: 1 });
    assert.deepEqual(parseDockerEvent(line), { action: "start", name: "app-1", id: "2a78d314b734aa" });
    assert.equal(parseDockerEvent("not json"), undefined);
    assert.equal(parseDockerEvent(JSON.stringify({ Type: "network", Action: "connect", Actor: { Attributes: { name: "x" } } })), undefined);
  });

  it("debounces a burst into one apply, one apply at a time; what comes during an apply runs after it; stop waits for the apply under way", async () => {
    const applied: string[][] = [];
    let release: () => void = () => undefined;
    const d = new Debouncer(20, async (names) => {
      applied.push(names);
      if (applied.length === 1) await new Promise<void>((r) => (release = r));
    });
    d.add(["b"]);
    d.add(["a", "b"]);
    await sleep(60);
    assert.deepEqual(applied, [["a", "b"]]);
    d.add(["c"]);
    await sleep(60);
    assert.equal(applied.length, 1, "the second waits for the first");
    release();
    await sleep(60);
    assert.deepEqual(applied, [["a", "b"], ["c"]]);
    d.add(["d"]);
    await d.stop();
    await sleep(40);
    assert.equal(applied.length, 2, "pending work is dropped on stop");
  });

  it("a follower ends with its stdin (a constant script, the argv as its parameters); output is split into whole lines", () => {
    assert.deepEqual(followArgv(["docker", "events", "--filter", "container=a b"]).slice(0, 2), ["sh", "-c"]);
    assert.deepEqual(followArgv(["docker", "events", "--filter", "container=a b"]).slice(3), ["sh", "docker", "events", "--filter", "container=a b"]);
    const lines: string[] = [];
    const feed = lineSplitter((l) => lines.push(l));
    feed("{\"a\":");
    feed("1}\n\n{\"b\":2}\n{\"c\"");
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
  });

  it("watch takes --debounce (milliseconds) and the engine options", () => {
    const r = parseCli(["watch", "net.yaml", "--debounce", "250", "--host", "h1"]);
    assert.ok(r.kind === "run" && r.options.debounceMs === 250 && r.options.hosts?.[0] === "h1");
    assert.throws(() => parseCli(["watch", "net.yaml", "--debounce", "soon"]), /--debounce needs milliseconds/);
    assert.ok(parseCli(["up", "net.yaml"]).kind === "run");
  });
});
