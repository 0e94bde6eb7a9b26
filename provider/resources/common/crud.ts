/** Helpers shared by the providers: secret redaction around a call, and check() from a normaliser. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec, secretsOf } from "../../host/connection";
import { Runner } from "../../host/runner";
import { HostnetError, ValidationError, redact } from "../../host/errors";
import { containsUnknown } from "./unknown";

/** Runs `fn` and removes the connection's secrets from the message of any error it throws. */
export function withSecretsRedacted<T>(conn: ConnectionSpec | undefined, fn: () => Promise<T>): Promise<T> {
  return fn().catch((e: unknown) => {
    if (e instanceof Error) e.message = redact(e.message, secretsOf(conn));
    throw e;
  });
}

/**
 * A `check` that validates with `normalize` and reports a {@link ValidationError} as a failure of its property.
 * With `keepRaw` the inputs pass on as given (for resources whose normal form is not valid input).
 */
export function checkWith<T>(normalize: (raw: Record<string, unknown>) => T, news: Record<string, unknown>, keepRaw = false): pulumi.dynamic.CheckResult {
  if (containsUnknown(news)) return { inputs: news };
  try {
    const normal = normalize(news) as unknown as Record<string, unknown>;
    return { inputs: keepRaw ? news : normal };
  } catch (e) {
    if (e instanceof ValidationError) return { inputs: news, failures: [{ property: e.field.split(/[.[]/)[0], reason: e.message }] };
    throw e;
  }
}

/** Drops keys whose value is undefined (the engine's struct encoding rejects them), recursively. */
export function defined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(defined) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = defined(v);
    return out as T;
  }
  return value;
}

/** The CRUD methods a provider class implements. */
interface Crud<O> {
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult>;
  diff(id: string, olds: O, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult>;
  read(id: string, props: O): Promise<pulumi.dynamic.ReadResult>;
  update(id: string, olds: O, news: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult>;
  delete(id: string, props: O): Promise<void>;
}

/**
 * The input `Topology` sets when a resource this one is fed by failed in the
 * same run (its name). Such a resource keeps the state it has (diff reports
 * no change, so the engine keeps it registered and deletes nothing), and one
 * that does not exist yet is not created: its create fails once with
 * "skipped because … failed" instead of with an error of its own.
 */
export const BLOCKED_BY = "blockedBy";

function blockedBy(news: Record<string, unknown>): string | undefined {
  const b = news[BLOCKED_BY];
  return typeof b === "string" && b !== "" ? b : undefined;
}

/** `news` without {@link BLOCKED_BY}. */
function unblocked(news: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(news).filter(([k]) => k !== BLOCKED_BY));
}

/** The module-level entry points that the serialised dynamic provider calls (`del` for `delete`). */
export function entryPoints<O>(p: Crud<O>) {
  return {
    check: async (o: Record<string, unknown>, n: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> => {
      const b = blockedBy(n);
      if (b === undefined) return p.check(o, n);
      const res = await p.check(o, unblocked(n));
      // Validation still applies; reads of the host are the resource's own business once it can run.
      return { ...res, inputs: { ...(res.inputs ?? {}), [BLOCKED_BY]: b } };
    },
    diff: async (id: string, o: O, n: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> => (blockedBy(n) !== undefined ? { changes: false } : p.diff(id, o, n)),
    create: async (i: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> => {
      const b = blockedBy(i);
      if (b !== undefined) throw new HostnetError(`skipped because ${b} failed in this run (it feeds this resource); the next \`up\` creates it`);
      return p.create(i);
    },
    read: (id: string, props: O) => p.read(id, props),
    update: async (id: string, o: O, n: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> => (blockedBy(n) !== undefined ? { outs: o as unknown as Record<string, unknown> } : p.update(id, o, n)),
    del: (id: string, props: O) => p.delete(id, props),
  };
}

/** Makes a runner for a connection; provider tests pass a recording one. */
export type RunnerFactory = (c: ConnectionSpec) => Runner;
