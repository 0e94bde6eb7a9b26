import { strict as assert } from "node:assert";
import { entriesIn, hostsBlock, withBlock, withoutBlock } from "../../provider/linux/hostsfile";
import { normalizeHosts } from "../../provider/resources/hosts/plan";
import { ValidationError } from "../../provider/host/errors";
import { hostsEntriesOf } from "../../provider/spec/hosts";
import { Spec } from "../../provider/spec/types";

const DOCKER = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.17.0.5\tapp\n";
const MARK = "hostnet:3f2a9c1d:hosts/app demo/demo";

describe("unit: our block in a container's /etc/hosts", () => {
  it("appends one marked block; reading it back gives the entries; removing it gives the file back byte for byte", () => {
    const entries = [{ address: "172.24.0.3", names: ["db", "database"] }];
    const text = withBlock(DOCKER, MARK, entries);
    assert.equal(text, `${DOCKER}# >>> ${MARK}\n172.24.0.3\tdb database\n# <<< ${MARK}\n`);
    assert.deepEqual(entriesIn(text, MARK), entries);
    assert.equal(withoutBlock(text, MARK), DOCKER);
  });

  it("rewrites its own block in place of the old one and leaves lines added after it, and other stacks' blocks, alone", () => {
    const other = hostsBlock("hostnet:00aa00aa:hosts/app other/x", [{ address: "10.0.0.9", names: ["cache"] }]);
    const first = withBlock(DOCKER + other, MARK, [{ address: "172.24.0.3", names: ["db"] }]) + "10.1.1.1\tadmin-added\n";
    const second = withBlock(first, MARK, [{ address: "172.24.0.4", names: ["db"] }]);
    assert.deepEqual(entriesIn(second, MARK), [{ address: "172.24.0.4", names: ["db"] }]);
    assert.ok(second.includes("10.1.1.1\tadmin-added\n") && second.includes(other));
    assert.equal(withoutBlock(second, MARK), DOCKER + other + "10.1.1.1\tadmin-added\n");
  });

  it("a file without a final newline gets one before the block, and loses it again with the block", () => {
    const bare = "127.0.0.1\tlocalhost";
    const text = withBlock(bare, MARK, [{ address: "fd00::3", names: ["db6"] }]);
    assert.equal(text, `127.0.0.1\tlocalhost\n# >>> ${MARK} (+newline)\nfd00::3\tdb6\n# <<< ${MARK}\n`);
    assert.deepEqual(entriesIn(text, MARK), [{ address: "fd00::3", names: ["db6"] }]);
    assert.equal(withoutBlock(text, MARK), bare);
    assert.equal(withBlock("", MARK, []), `# >>> ${MARK}\n# <<< ${MARK}\n`);
  });

  it("no block: no entries, and removing changes nothing", () => {
    assert.equal(entriesIn(DOCKER, MARK), undefined);
    assert.equal(withoutBlock(DOCKER, MARK), DOCKER);
  });

  it("inputs: a Docker container only, addresses parsed, names checked", () => {
    const conn = { local: true };
    assert.deepEqual(normalizeHosts({ connection: conn, container: { docker: "app" }, entries: [{ address: "fd00:0::3", names: ["db"] }] }).entries, [{ address: "fd00::3", names: ["db"] }]);
    assert.throws(() => normalizeHosts({ connection: conn, container: { netns: "blue" }, entries: [] }), (e: unknown) => e instanceof ValidationError && e.field === "container");
    assert.throws(() => normalizeHosts({ connection: conn, container: { docker: "app" }, entries: [{ address: "300.1.1.1", names: ["db"] }] }), /entries\[0\]\.address/);
    assert.throws(() => normalizeHosts({ connection: conn, container: { docker: "app" }, entries: [{ address: "10.0.0.1", names: ["db x"] }] }), /entries\[0\]\.names\[0\]/);
    assert.throws(() => normalizeHosts({ connection: conn, container: { docker: "app" }, entries: [{ address: "10.0.0.1", names: ["10.0.0.2"] }] }), /host name/);
  });

  it("a spec's hosts list: peers by their first address, aliases by theirs, one line per address", () => {
    const spec = {
      name: "s4",
      hosts: { n: { local: true } },
      containers: [
        { host: "n", name: "app", interfaces: [{ bridge: "br", addresses: ["172.24.0.2/16"] }] },
        { host: "n", name: "db", interfaces: [{ bridge: "br", addresses: ["172.24.0.3/16"] }] },
      ],
    } as unknown as Spec;
    assert.deepEqual(hostsEntriesOf(spec, "n", ["db", { name: "database", address: "172.24.0.3" }, { name: "cache", address: "172.24.0.9" }]), [
      { address: "172.24.0.3", names: ["db", "database"] },
      { address: "172.24.0.9", names: ["cache"] },
    ]);
  });
});
