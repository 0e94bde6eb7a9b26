import { strict as assert } from "node:assert";
import type * as command from "@pulumi/command";
import { Connection, checkConnection } from "../../provider/host/connection";
import { ValidationError } from "../../provider/host/errors";
import { BridgeArgs } from "../../provider/resources/bridge/args";
import { ContainerAttachmentArgs } from "../../provider/resources/attachment/args";

describe("unit: @pulumi/command's remote.ConnectionArgs is a hostnet connection, unchanged", () => {
  const viaJump: command.types.input.remote.ConnectionArgs = {
    host: "10.0.0.5",
    user: "admin",
    port: 2222,
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----…",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    perDialTimeout: 10,
    proxy: { host: "jump.example.com", user: "jump", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" },
  };

  it("compiles: the object a remote.Command takes is a hostnet Connection and a resource's connection input", () => {
    // These assignments are the test: tsc refuses them if a field of ConnectionArgs has no counterpart here.
    const asConnection: Connection = viaJump;
    const bridge: BridgeArgs = { connection: viaJump, name: "br0" };
    const attachment: Pick<ContainerAttachmentArgs, "connection"> = { connection: viaJump };
    assert.equal(asConnection, viaJump);
    assert.equal(bridge.connection, attachment.connection);
  });

  it("at run time its plain form passes the same checks as a hostnet connection, proxy included", () => {
    assert.equal(checkConnection(viaJump).proxy?.host, "jump.example.com");
  });

  it("without hostKey the error says how to pin the key, or to name a known_hosts file, or to skip the check", () => {
    const unpinned: command.types.input.remote.ConnectionArgs = { host: viaJump.host, user: viaJump.user, privateKey: viaJump.privateKey };
    assert.throws(
      () => checkConnection(unpinned),
      (e: unknown) =>
        e instanceof ValidationError &&
        /pin it with hostKey: "ssh-ed25519 AAAA…" \(`ssh-keyscan -t ed25519 10\.0\.0\.5` prints it/.test(e.message) &&
        /knownHostsFile/.test(e.message) &&
        /insecureIgnoreHostKey: true/.test(e.message),
    );
  });
});
