/**
 * How hostnet resources reach their code through Pulumi's Node.js dynamic
 * provider. That provider loads each resource's `__provider` property as a
 * module (`require` from the string, then `exports.handler()`) and calls the
 * object it returns. `pulumi.dynamic.Resource` fills `__provider` by
 * serialising a provider object's closures: ~2.2 KiB of wrappers per
 * resource, stored twice in the state (inputs and outputs) and serialised
 * anew for every resource the program declares. Ours is a module text of
 * ~200 bytes, the same for every resource of a kind, that `require`s
 * handler.ts (the engine writes the whole state after every step, so each
 * byte here is written 2N times per N resources).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** The folders under `provider/resources/` that hold a resource's `provider.ts`. */
export type ProviderFolder = "bridge" | "veth" | "attachment" | "nat" | "hosts" | "vxlan";

/**
 * The `__provider` module text for the resource kind in `folder`: its
 * `handler()` returns {@link of handler.ts's `of(folder)`}, loaded first from
 * the absolute path of this build (the code that defined the resource), then
 * by package name (state written on another machine).
 */
export function providerSource(folder: ProviderFolder): string {
  const absolute = JSON.stringify(path.resolve(__dirname, "handler"));
  const byName = JSON.stringify("pulumi-hostnet/provider/resources/common/handler");
  return `exports.handler=()=>{let h;try{h=require(${absolute})}catch(e){if(e.code!=="MODULE_NOT_FOUND")throw e;h=require(${byName})}return h.of(${JSON.stringify(folder)})}\n`;
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
