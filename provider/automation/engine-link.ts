/**
 * The link between an inline program (Automation API) and the Pulumi engine.
 *
 * When a `RegisterResource` call fails with gRPC UNAVAILABLE or CANCELLED,
 * the Node SDK assumes the engine is shutting down: it stops all further
 * calls and the inline program ends *without an error*. The engine, which is
 * still running, then sees a program that declared fewer resources (often
 * none) and deletes the rest — a whole host's network. Seen in our fault
 * suite: `14 UNAVAILABLE: No connection established. Last error: null`, which
 * grpc-js reports when a new channel picks up a pooled subchannel to the same
 * `127.0.0.1:port` that an earlier engine of this process used and that is
 * still backing off.
 *
 * Two defences, both for programs run from this process:
 * - {@link isolateEngineLinks}: every gRPC client the SDK makes gets its own
 *   subchannel pool, so a new engine's port is never reached through a
 *   connection left over from an earlier run.
 * - {@link guardedProgram}: after the program, every hostnet resource it
 *   declared must have been registered; if a registration was lost to the
 *   link, the program fails with an ordinary error, and a failed program makes
 *   the engine delete nothing.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type * as pulumi from "@pulumi/pulumi";

/** Resources declared by the program running in this async context. */
const declared = new AsyncLocalStorage<pulumi.Resource[]>();

/** Called by every hostnet resource's constructor: the guard of the running program (if any) checks it was registered. */
export function trackRegistration(resource: pulumi.Resource): void {
  declared.getStore()?.push(resource);
}

/** The gRPC status codes on which the Node SDK silently stops a program. */
const LINK_LOST_CODES = new Set([1 /* CANCELLED */, 14 /* UNAVAILABLE */]);

/** Words every guard failure starts with (tests and the CLI recognise it). */
export const ENGINE_LINK_LOST = "the link between this program and the Pulumi engine was lost";

/**
 * The first registration that the engine link lost, given each declared
 * resource's name and how its URN settled; `undefined` when none was lost
 * (a resource that failed for another reason is the engine's to report).
 */
export function lostRegistration(settled: { name: string; result: PromiseSettledResult<unknown> }[]): { name: string; message: string } | undefined {
  for (const { name, result } of settled) {
    if (result.status !== "rejected") continue;
    const e = result.reason as { code?: unknown; message?: unknown } | undefined;
    if (typeof e?.code === "number" && LINK_LOST_CODES.has(e.code)) return { name, message: String(e.message ?? e) };
  }
  return undefined;
}

/** The URN promise of a resource (Output.promise is the SDK's own way to await an output, rejections included). */
function urnOf(r: pulumi.Resource): Promise<unknown> {
  return (r.urn as unknown as { promise(): Promise<unknown> }).promise();
}

/** The SDK's stores (runtime/state.js, not in its typings); `terminated` is set when a call was lost to the link. */
interface SdkStore {
  terminated?: unknown;
}
interface SdkState {
  getLocalStore?: () => SdkStore | undefined;
}

/**
 * The SDK's "calls to the engine were stopped" flags as seen from this run:
 * its own store's, and the process-wide fallback store's (where the flag
 * lands when the SDK sets it from a gRPC callback that lost the run's async
 * context). `undefined` when the SDK does not expose them (a unit test pins
 * the shape, so an SDK upgrade that moves them fails there first).
 */
export function sdkTerminated(): { local: boolean; global: boolean } | undefined {
  const state = require("@pulumi/pulumi/runtime/state") as SdkState;
  const local = state.getLocalStore?.();
  const global = (globalThis as { globalStore?: SdkStore }).globalStore;
  if (typeof local?.terminated !== "boolean" && typeof global?.terminated !== "boolean") return undefined;
  return { local: local?.terminated === true, global: global?.terminated === true };
}

/** A check that this run's calls were stopped: a flag that was already set when the run began (by an earlier run) does not count. */
function terminationWatch(): (() => boolean) | undefined {
  const start = sdkTerminated();
  if (!start) return undefined;
  return () => {
    const now = sdkTerminated();
    return Boolean(now && ((now.local && !start.local) || (now.global && !start.global)));
  };
}

/**
 * How each URN in `made` (which may grow) settled; as soon as the SDK has
 * stopped the run's calls, the first one still unsettled is reported lost
 * (the SDK leaves the URN of a registration lost to the link unresolved for ever).
 */
async function registrations(made: pulumi.Resource[], stopped: () => boolean): Promise<{ name: string; result: PromiseSettledResult<unknown> }[]> {
  const settled: { name: string; result: PromiseSettledResult<unknown> }[] = [];
  while (settled.length < made.length) {
    const batch = made.slice(settled.length);
    const results: (PromiseSettledResult<unknown> | undefined)[] = batch.map(() => undefined);
    const all = Promise.all(
      batch.map((r, i) =>
        urnOf(r).then(
          (value) => void (results[i] = { status: "fulfilled", value }),
          (reason: unknown) => void (results[i] = { status: "rejected", reason }),
        ),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const halted = new Promise<"stopped">((resolve) => {
      timer = setInterval(() => stopped() && resolve("stopped"), 50);
    });
    const first = await Promise.race([all, halted]).finally(() => clearInterval(timer));
    if (first === "stopped") {
      // Let registrations already answered settle, then name the first that never will.
      await new Promise((r) => setTimeout(r, 200));
      const i = Math.max(0, results.findIndex((x) => x === undefined));
      return [...settled, { name: nameOf(batch[i]), result: { status: "rejected", reason: { code: 14, message: "the SDK stopped calling the engine after a gRPC UNAVAILABLE or CANCELLED" } } }];
    }
    batch.forEach((r, i) => settled.push({ name: nameOf(r), result: results[i] as PromiseSettledResult<unknown> }));
  }
  return settled;
}

function nameOf(r: pulumi.Resource): string {
  return (r as unknown as { __name?: string }).__name ?? "?";
}

/**
 * Wraps an inline program so that a registration lost to the engine link
 * fails the run (and so deletes nothing) instead of ending it as a success.
 */
export function guardedProgram<T>(program: () => Promise<T>): () => Promise<T> {
  return () => {
    const made: pulumi.Resource[] = [];
    return declared.run(made, async () => {
      const watch = terminationWatch();
      const out = await program();
      // Without the SDK's flag the URN of a lost registration would be awaited for ever: nothing to guard with.
      if (!watch) return out;
      const lost = lostRegistration(await registrations(made, watch));
      if (lost) {
        throw new Error(
          `${ENGINE_LINK_LOST} while registering ${lost.name} (${lost.message}); ` +
            `the run is stopped as failed so that the engine deletes nothing. Nothing on the hosts was removed by this run; run it again.`,
        );
      }
      return out;
    });
  };
}

/** The SDK's gRPC client options (exported by its settings module, not in its typings). */
interface SdkSettings {
  grpcClientOptions?: Record<string, unknown>;
}

/**
 * Gives every gRPC client the Pulumi SDK creates in this process its own
 * subchannel pool (`grpc.use_local_subchannel_pool`). Idempotent; returns
 * false if the SDK no longer exposes its client options (the guard still
 * holds then).
 */
export function isolateEngineLinks(): boolean {
  const settings = require("@pulumi/pulumi/runtime/settings") as SdkSettings;
  if (!settings.grpcClientOptions || typeof settings.grpcClientOptions !== "object") return false;
  settings.grpcClientOptions["grpc.use_local_subchannel_pool"] = 1;
  return true;
}
