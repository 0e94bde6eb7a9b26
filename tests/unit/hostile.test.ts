import { strict as assert } from "node:assert";
import { checkConnection } from "../../provider/host/connection";
import { ValidationError } from "../../provider/host/errors";
import { restoreScript } from "../../provider/linux/iptables";
import { nftQuoted } from "../../provider/linux/nftables";
import { natRules, natTag, normalizeNat } from "../../provider/resources/nat/plan";
import { nftRules } from "../../provider/resources/nat/nftables";
import { checkOwnerLabel, ownerOf } from "../../provider/resources/common/owner";
import { HOSTILE } from "../helpers/hostile";


describe("unit: hostile values never reach a script", () => {
  const base = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" };
  it("a hostile hostId is refused by connection validation, naming the field", () => {
    for (const v of HOSTILE) {
      assert.throws(() => checkConnection({ ...base, hostId: v }), (e: Error) => e instanceof ValidationError && e.field === "connection.hostId", JSON.stringify(v));
    }
    assert.equal(checkConnection({ ...base, hostId: "node-1.example.com:22" }).hostId, "node-1.example.com:22");
  });
  it("a hostile SSH host string is refused; names and addresses pass", () => {
    for (const v of HOSTILE) assert.throws(() => checkConnection({ ...base, host: v }), ValidationError, JSON.stringify(v));
    for (const ok of ["10.0.0.5", "fd00::5", "node-1.example.com", "build_box"]) assert.equal(checkConnection({ ...base, host: ok }).host, ok);
  });
  it("the iptables-restore renderer refuses what it cannot carry (quotes, line breaks)", () => {
    for (const v of HOSTILE.filter((x) => /["'\\\r\n]/.test(x) || x === "")) {
      assert.throws(() => restoreScript("-A", [{ chain: "HOSTNET-POSTROUTING", spec: ["-m", "comment", "--comment", v, "-j", "MASQUERADE"] }]), /refusing to render/, JSON.stringify(v));
    }
    assert.equal(restoreScript("-A", [{ chain: "C", spec: ["--comment", "hostnet:1a2b3c4d:bridge/br0 p/s"] }]), '*nat\n-A C --comment "hostnet:1a2b3c4d:bridge/br0 p/s"\nCOMMIT\n');
  });
  it("the nft renderer refuses anything that could end a string or a statement", () => {
    for (const v of HOSTILE.filter((x) => x !== "a b" && x !== "../../etc/passwd" && x.length <= 100)) assert.throws(() => nftQuoted(v), /refusing to render/, JSON.stringify(v));
    const n = normalizeNat({ connection: base, kind: "masquerade", source: "172.16.0.0/16" });
    assert.throws(() => nftRules(n, 'x"; flush ruleset; "'), /refusing to render/);
    assert.match(nftRules(n, natTag(ownerOf("p/s"), n))[0].text, /comment "hostnet:[0-9a-f]{8}:nat\/masquerade-[0-9a-f]{12} p\/s"$/);
  });
  it("rendered tags hold no host identity at all: only the owner hash, the object and the stack label", () => {
    const n = normalizeNat({ connection: { ...base, hostId: "node1" }, kind: "dnat", protocol: "tcp", hostPort: 80, to: "172.16.0.2" });
    const tag = natTag(ownerOf("p/s"), n);
    assert.ok(!tag.includes("node1"));
    assert.ok(restoreScript("-A", natRules(n, tag)).split("\n").length === 5);
  });
  it("owner labels are checked", () => {
    for (const v of HOSTILE.filter((x) => x !== "../../etc/passwd" && x.length <= 100)) assert.throws(() => checkOwnerLabel(v), ValidationError, JSON.stringify(v));
    assert.equal(checkOwnerLabel("my-project/dev.eu"), "my-project/dev.eu");
  });
});
