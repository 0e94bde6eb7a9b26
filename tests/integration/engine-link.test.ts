import { strict as assert } from "node:assert";
import { createRequire } from "node:module";
import { Bridge, VethPair } from "../../provider";
import { ENGINE_LINK_LOST } from "../../provider/automation/engine-link";
import { newStack, TestStack } from "../helpers/engine";
import { linkAndAddrSnapshot, linkOf } from "../helpers/kernel";
import { requireRoot } from "../helpers/root";
import { TestHost } from "../helpers/testhost";

/** grpc-js as the Pulumi SDK loads it (its own dependency, not ours). */
const grpc = createRequire(require.resolve("@pulumi/pulumi"))("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
/** The SDK's client options: every gRPC client it makes for a run takes its interceptors from here. */
const sdkClientOptions = createRequire(require.resolve("@pulumi/pulumi"))("@pulumi/pulumi/runtime/settings").grpcClientOptions as { interceptors: unknown[] };

/**
 * Fails the `nth` RegisterResource call of the program with gRPC UNAVAILABLE
 * "No connection established" — what grpc-js answered in CI when a run's new
 * channel picked up a pooled connection to an earlier engine's port. The call
 * never reaches the engine, which stays up and waits for the program to end.
 */
function failRegistration(nth: number): () => void {
  let seen = 0;
  const interceptor = (options: { method_definition: { path: string } }, nextCall: (o: unknown) => import("@grpc/grpc-js").InterceptingCall) => {
    if (options.method_definition.path !== "/pulumirpc.ResourceMonitor/RegisterResource" || ++seen !== nth) return new grpc.InterceptingCall(nextCall(options));
    // The call never starts: it ends with the status grpc-js gives a call it has no connection for.
    return new grpc.InterceptingCall(nextCall(options), {
      start(_metadata, listener) {
        setImmediate(() => listener.onReceiveStatus({ code: grpc.status.UNAVAILABLE, details: "No connection established (injected by the test)", metadata: new grpc.Metadata() }));
      },
    });
  };
  sdkClientOptions.interceptors.push(interceptor);
  return () => {
    const i = sdkClientOptions.interceptors.indexOf(interceptor);
    if (i >= 0) sdkClientOptions.interceptors.splice(i, 1);
  };
}

/** A one-method gRPC service over raw bytes, for the pooled-connection case below. */
const PING = {
  ping: {
    path: "/hostnet.test.T/Ping",
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};
const PingClient = grpc.makeGenericClientConstructor(PING, "T");

/** One call from a new client; the client is left open (as the SDK leaves each run's clients) until `clients` are closed. */
const clients: import("@grpc/grpc-js").Client[] = [];
function ping(options: Record<string, unknown>, port: number): Promise<string> {
  const client = new PingClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  clients.push(client);
  return new Promise<string>((resolve) => {
    (client as unknown as { ping(req: Buffer, md: import("@grpc/grpc-js").Metadata, o: { deadline: number }, cb: (e: Error | null) => void): void }).ping(Buffer.from("x"), new grpc.Metadata(), { deadline: Date.now() + 3000 }, (e) => resolve(e ? e.message : "ok"));
  });
}

async function listen(port = 0): Promise<{ port: number; stop(): void }> {
  const server = new grpc.Server();
  server.addService(PING, { ping: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from("y")) });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port: bound, stop: () => server.forceShutdown() };
}

describe("integration: gRPC links to a new engine on a port an earlier engine of this process used (loopback only)", function () {
  /** The options the SDK gives every client, minus its tracing interceptor, with or without our isolation. */
  const options = (isolated: boolean) => {
    // The SDK's options as they are before isolateEngineLinks() (which earlier suites of this process have run).
    const sdk: Record<string, unknown> = { ...(sdkClientOptions as Record<string, unknown>) };
    delete sdk["grpc.use_local_subchannel_pool"];
    return { ...sdk, interceptors: [], ...(isolated ? { "grpc.use_local_subchannel_pool": 1 } : {}) };
  };

  for (const isolated of [false, true]) {
    it(isolated ? "with our isolation, the new client connects" : "with grpc-js's shared pool, the new client fails at once as in CI: 'No connection established. Last error: null'", async () => {
      const first = await listen();
      first.stop();
      // An earlier run's client, now talking to a port nobody listens on: its connection backs off in the pool.
      assert.match(await ping(options(isolated), first.port), /UNAVAILABLE/);
      const second = await listen(first.port);
      try {
        const r = await ping(options(isolated), second.port);
        if (isolated) assert.equal(r, "ok");
        else assert.match(r, /14 UNAVAILABLE: No connection established\. Last error: null/);
      } finally {
        second.stop();
        for (const c of clients.splice(0)) c.close();
      }
    });
  }
});

describe("integration: a lost link between the program and the engine deletes nothing", function () {
  let host: TestHost;
  const stacks: TestStack[] = [];
  let restore: (() => void) | undefined;
  before(async () => {
    requireRoot();
    host = await TestHost.create("elink");
  });
  afterEach(() => restore?.());
  after(async () => {
    restore?.();
    for (const s of stacks) await s.cleanup().catch(() => undefined);
    await host?.destroy();
  });

  async function twoResources(guard: boolean, tag: string): Promise<TestStack> {
    const conn = host.connection();
    const t = await newStack(
      `elink-${tag}`,
      async () => {
        const br = new Bridge("br", { connection: conn, name: `hnbr-${tag}` });
        new VethPair("v", { connection: conn, name: `hnv-${tag}`, peerName: `hnv-${tag}-c`, bridge: br.name });
      },
      { guard, retry: false },
    );
    stacks.push(t);
    assert.deepEqual((await t.stack.up({ color: "never" })).summary.resourceChanges, { create: 3 });
    return t;
  }

  it("without the guard, the SDK ends the program as a success and the engine deletes what was not registered (why the guard exists)", async () => {
    const t = await twoResources(false, "u");
    restore = failRegistration(3); // the Stack, the bridge, then the pair
    const r = await t.stack.up({ color: "never" });
    restore();
    assert.equal(r.summary.result, "succeeded");
    assert.equal(r.summary.resourceChanges?.delete, 1, `the engine deleted the pair:\n${r.stdout}`);
    assert.equal(await linkOf(host, "hnv-u"), undefined);
    await t.stack.destroy({ color: "never" });
  });

  it("with the guard (CLI and tests), the run fails naming the lost registration, nothing is deleted, and the next up has no changes", async () => {
    const before = await linkAndAddrSnapshot(host);
    const t = await twoResources(true, "g");
    const made = await linkAndAddrSnapshot(host);
    restore = failRegistration(3);
    const err = await t.stack.up({ color: "never" }).then(
      () => undefined,
      (e: Error) => e,
    );
    restore();
    assert.ok(err, "the up fails");
    assert.ok(err.message.includes(ENGINE_LINK_LOST), err.message);
    assert.match(err.message, /while registering v \(/);
    assert.doesNotMatch(err.message, /deleted/);
    assert.deepEqual(await linkAndAddrSnapshot(host), made, "the bridge and the pair are still on the host");
    const state = (await t.stack.exportStack()).deployment as { resources?: { type: string }[] };
    assert.equal(state.resources?.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/hostnet:")).length, 2, "both are still in the stack's state");
    const again = await t.stack.up({ color: "never" });
    assert.deepEqual(again.summary.resourceChanges, { same: 3 });
    await t.stack.destroy({ color: "never" });
    assert.deepEqual(await linkAndAddrSnapshot(host), before);
  });
});
