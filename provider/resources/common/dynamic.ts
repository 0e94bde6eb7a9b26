/**
 * How hostnet resources reach their code through Pulumi's Node.js dynamic
 * provider. That provider loads each resource's `__provider` property as a
 * module (`require` from the string, then `exports.handler()`) and calls the
 * object it returns. `pulumi.dynamic.Resource` fills `__provider` by
 * serialising a provider object's closures: ~2.2 KiB of wrappers per
 * resource, stored twice in the state (inputs and outputs) and serialised
 * anew for every resource the program declares. Ours is the module text
 * itself, a few hundred bytes the same for every resource of a kind: it
 * `require`s the implementation, first from the absolute path of this build
 * (the code that defined the resource), then by package name (state written
 * on another machine).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** The folders under `provider/resources/` that hold a resource's `provider.ts`. */
export type ProviderFolder = "bridge" | "veth" | "attachment" | "nat";

/**
 * The `__provider` module text for the resource kind in `folder`: its
 * `handler()` returns a provider whose methods load `<folder>/provider` on
 * first use and forward to its exports (`delete` to `del`).
 */
export function providerSource(folder: ProviderFolder): string {
  const absolute = JSON.stringify(path.resolve(__dirname, "..", folder, "provider"));
  const byName = JSON.stringify(`pulumi-hostnet/provider/resources/${folder}/provider`);
  return [
    "exports.handler = () => {",
    "  let m;",
    `  const l = () => m || (m = (() => { try { return require(${absolute}); } catch (e) { if (e.code !== "MODULE_NOT_FOUND") throw e; return require(${byName}); } })());`,
    "  return { check: (o, n) => l().check(o, n), diff: (i, o, n) => l().diff(i, o, n), create: (i) => l().create(i), read: (i, p) => l().read(i, p), update: (i, o, n) => l().update(i, o, n), delete: (i, p) => l().del(i, p) };",
    "};",
    "",
  ].join("\n");
}

/**
 * A resource served by Pulumi's Node.js dynamic provider (type
 * `pulumi-nodejs:dynamic/hostnet:<Kind>`, as `pulumi.dynamic.Resource`
 * names it, so stacks made before keep their URNs), with
 * {@link providerSource} as its `__provider`.
 */
export abstract class HostnetResource extends pulumi.CustomResource {
  protected constructor(folder: ProviderFolder, kind: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(`pulumi-nodejs:dynamic/hostnet:${kind}`, name, { ...props, __provider: providerSource(folder) }, opts);
  }
}

/** Resource options of every hostnet resource: the connection (which may hold credentials) is a secret output. */
export function withSecretConnection(opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] };
}

/** The owning stack of resources made by this program: `project/stack`, part of every ownership mark. */
export function ownerLabel(): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}`;
}
