/**
 * Builds the tiny provider object that Pulumi serialises into state. It holds
 * no state and captures no modules: each call `require`s the implementation,
 * first from the absolute path of this build (the code that defined the
 * resource), then by package name (state written on another machine).
 */
import * as pulumi from "@pulumi/pulumi";

/** The CRUD functions every resource's `provider.ts` exports. */
export interface ProviderModule {
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult>;
  diff(id: string, olds: never, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult>;
  read(id: string, props: never): Promise<pulumi.dynamic.ReadResult>;
  update(id: string, olds: never, news: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult>;
  del(id: string, props: never): Promise<void>;
}

/** A forwarding provider for the module at `resources/<folder>/provider`. */
export function forwardingProvider(folder: string): pulumi.dynamic.ResourceProvider {
  const absolute = `${__dirname}/../${folder}/provider`;
  const byName = `pulumi-hostnet/provider/resources/${folder}/provider`;
  const load = (): ProviderModule => {
    try {
      return require(absolute);
    } catch (e) {
      if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
      return require(byName);
    }
  };
  return {
    check: (o, n) => load().check(o, n),
    diff: (id, o, n) => load().diff(id, o as never, n),
    create: (i) => load().create(i),
    read: (id, p) => load().read(id, p as never),
    update: (id, o, n) => load().update(id, o as never, n),
    delete: (id, p) => load().del(id, p as never),
  };
}

/** Resource options of every hostnet resource: the connection (which may hold credentials) is a secret output. */
export function withSecretConnection(opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] };
}

/** The owning stack of resources made by this program: `project/stack`, part of every ownership mark. */
export function ownerLabel(): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}`;
}
