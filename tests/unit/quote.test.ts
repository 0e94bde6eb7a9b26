import { strict as assert } from "node:assert";
import { shellJoin, shellQuote } from "../../provider/host/quote";

describe("unit: shell quoting (the one quoting function)", () => {
  const table: [string, string][] = [
    ["", "''"],
    ["plain", "plain"],
    ["a b", "'a b'"],
    ["it's", "'it'\\''s'"],
    ["'", "''\\'''"],
    ['"double"', "'\"double\"'"],
    ["$(reboot)", "'$(reboot)'"],
    ["`id`", "'`id`'"],
    ["a;b", "'a;b'"],
    ["x\ny", "'x\ny'"],
    ["*", "'*'"],
    ["~root", "'~root'"],
    ["-n", "-n"],
    ["192.168.1.1/24", "192.168.1.1/24"],
    ["héllo", "'héllo'"],
    ["\\", "'\\'"],
    ["a|b&c>d<e", "'a|b&c>d<e'"],
    ["#comment", "'#comment'"],
    ["{a,b}", "'{a,b}'"],
    ["hostnet:node1:22/bridge/br0", "hostnet:node1:22/bridge/br0"],
  ];
  for (const [input, expected] of table) {
    it(`quotes ${JSON.stringify(input)} as ${expected}`, () => assert.equal(shellQuote(input), expected));
  }
  it("joins argv with one space and quotes each element once", () => {
    assert.equal(shellJoin(["ip", "link", "set", "dev", "br0", "alias", "hostnet:a b"]), "ip link set dev br0 alias 'hostnet:a b'");
  });
  it("refuses NUL bytes and empty argv", () => {
    assert.throws(() => shellQuote("a\0b"), /NUL/);
    assert.throws(() => shellJoin([]), /empty argv/);
  });
});
