import { strict as assert } from "node:assert";
import { createHmac } from "node:crypto";
import { fingerprint, keysFromKnownHosts, parsePublicKey } from "../../provider/host/knownhosts";

describe("unit: known_hosts matching", () => {
  const key = "AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyBlobOnlyForTests0000000000000";
  it("parses a pinned key", () => {
    assert.deepEqual(parsePublicKey(`ssh-ed25519 ${key} comment`), { type: "ssh-ed25519", blob: key });
    assert.equal(parsePublicKey("garbage"), undefined);
  });
  it("matches plain, [host]:port and hashed entries, and nothing else", () => {
    const salt = Buffer.from("0123456789abcdefghij");
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("10.0.0.9").digest("base64")}`;
    const text = [`# comment`, `10.0.0.5,node1 ssh-ed25519 ${key}`, `[10.0.0.6]:2222 ssh-ed25519 ${key}`, `${hashed} ssh-ed25519 ${key}`, `10.0.0.7 ssh-rsa AAAAB3`].join("\n");
    assert.equal(keysFromKnownHosts(text, "10.0.0.5", 22).length, 1);
    assert.equal(keysFromKnownHosts(text, "node1", 22).length, 1);
    assert.equal(keysFromKnownHosts(text, "10.0.0.6", 2222).length, 1);
    assert.equal(keysFromKnownHosts(text, "10.0.0.6", 22).length, 0);
    assert.equal(keysFromKnownHosts(text, "10.0.0.9", 22).length, 1);
    assert.equal(keysFromKnownHosts(text, "10.0.0.8", 22).length, 0);
  });
});

describe("unit: host key fingerprints", () => {
  it("are OpenSSH's SHA256 fingerprints (as ssh-keygen -lf prints them)", () => {
    // ssh-keygen -lf of this key printed: 256 SHA256:zoQHMuJAXdoLoTlslp2YVhscvSD7sVmoz97T4ocVeko x (ED25519)
    assert.equal(fingerprint("AAAAC3NzaC1lZDI1NTE5AAAAIJvUAFMSzuUcZyOfFE/ZFiWEjfp7+p8QuR61TXgL3/po"), "SHA256:zoQHMuJAXdoLoTlslp2YVhscvSD7sVmoz97T4ocVeko");
  });
});
