import { strict as assert } from "node:assert";
import { Transaction } from "../../provider/resources/common/transaction";
import { RecordingRunner } from "../helpers/recording";

describe("provider: a transaction's read between phases", () => {
  it("a read that fails after some steps ran undoes them, newest first, and says so", async () => {
    const r = new RecordingRunner("n1:22");
    const tx = new Transaction(r, "attachment of eth0");
    await tx.run([
      { description: "add a", argv: ["ip", "addr", "add", "10.0.0.2/24", "dev", "eth0"], undo: [["ip", "addr", "del", "10.0.0.2/24", "dev", "eth0"]] },
      { description: "up", argv: ["ip", "link", "set", "dev", "eth0", "up"], undo: [["ip", "link", "set", "dev", "eth0", "down"]] },
    ]);
    await assert.rejects(
      tx.read("reading the routes after the change", async () => {
        throw new Error("lost connection to n1:22");
      }),
      /attachment of eth0: reading the routes after the change failed: lost connection to n1:22; the 2 earlier step\(s\) were undone/,
    );
    assert.deepEqual(r.lines().slice(-2), ["ip link set dev eth0 down", "ip addr del 10.0.0.2/24 dev eth0"]);
  });

  it("with nothing done, the read's own error goes on unchanged; a read that succeeds returns its value", async () => {
    const r = new RecordingRunner("n1:22");
    const tx = new Transaction(r, "x");
    assert.equal(await tx.read("read", async () => 7), 7);
    await assert.rejects(tx.read("read", async () => Promise.reject(new Error("boom"))), /^Error: boom$/);
    assert.deepEqual(r.calls, []);
  });
});
