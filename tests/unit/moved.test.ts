import { strict as assert } from "node:assert";
import { MOVED_DIR, WRITE_RECORD_SCRIPT, allRecordedGone, movedRecordPath, parseRecords, recordMoveStep, recordText, removeRecordsArgv } from "../../provider/resources/common/moved";

describe("unit: records of where our links were moved", () => {
  const r = { alias: "hostnet:0123abcd:veth/hnv-a/peer web/prod", nsPath: "/proc/4242/ns/net", inode: "4026532999" };

  it("a record is one tab-separated line, read back whatever else the files hold", () => {
    assert.equal(recordText(r), "hostnet:0123abcd:veth/hnv-a/peer web/prod\t/proc/4242/ns/net\t4026532999\n");
    assert.deepEqual(parseRecords(recordText(r) + "garbage\nx\t/y\tnot-a-number\n" + recordText({ ...r, nsPath: "/run/netns/n1" })), [r, { ...r, nsPath: "/run/netns/n1" }]);
  });
  it("refuses values that would break the line", () => {
    assert.throws(() => recordText({ ...r, nsPath: "/a\tb" }), /cannot hold/);
    assert.throws(() => recordText({ ...r, inode: "12; rm" }), /not a namespace inode/);
  });
  it("one file per mark under /run/hostnet/moved; writing and removing are argv with the paths as arguments", () => {
    assert.match(movedRecordPath(r.alias), new RegExp(`^${MOVED_DIR}/[0-9a-f]{32}$`));
    assert.notEqual(movedRecordPath(r.alias), movedRecordPath(`${r.alias}x`));
    const step = recordMoveStep(r);
    assert.deepEqual(step.argv, ["sh", "-c", WRITE_RECORD_SCRIPT, "sh", MOVED_DIR, movedRecordPath(r.alias)]);
    assert.equal(step.stdin, recordText(r));
    assert.deepEqual(step.undo, [removeRecordsArgv([r.alias])]);
    assert.deepEqual(removeRecordsArgv([r.alias]), ["sh", "-c", 'rm -f -- "$@"; rmdir "$0" /run/hostnet 2>/dev/null; true', MOVED_DIR, movedRecordPath(r.alias)]);
  });
  it("a link counts as gone with its namespace only when every recorded namespace is gone or is now another one", () => {
    const other = { ...r, nsPath: "/run/netns/n1", inode: "4026533000" };
    assert.equal(allRecordedGone([], new Map()), false, "no record: nothing is known");
    assert.equal(allRecordedGone([r], new Map([[r.nsPath, r.inode]])), false, "still there");
    assert.equal(allRecordedGone([r], new Map()), true, "the path is gone (the container's process ended)");
    assert.equal(allRecordedGone([r], new Map([[r.nsPath, "4026530001"]])), true, "the pid was reused by another namespace");
    assert.equal(allRecordedGone([r, other], new Map([[other.nsPath, other.inode]])), false, "one recorded namespace is still there");
  });
});
