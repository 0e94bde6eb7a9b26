/**
 * What a resource's `__provider` module text loads (dynamic.ts): the provider
 * of one resource kind, whose methods load `resources/<kind>/provider` on
 * first use and forward to its exports (`delete` to `del`). Kept out of the
 * module text so that text, stored twice per resource in the state and
 * written with the whole state after every step, stays a few hundred bytes.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ProviderFolder } from "./dynamic";

/** The exports of a `resources/<kind>/provider` module that the dynamic provider's calls reach. */
interface ProviderModule {
  check(olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult>;
  diff(id: string, olds: unknown, news: unknown): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: unknown): Promise<pulumi.dynamic.CreateResult>;
  read(id: string, props: unknown): Promise<pulumi.dynamic.ReadResult>;
  update(id: string, olds: unknown, news: unknown): Promise<pulumi.dynamic.UpdateResult>;
  del(id: string, props: unknown): Promise<void>;
}

const FOLDERS: readonly ProviderFolder[] = ["bridge", "veth", "attachment", "nat", "hosts", "vxlan"];

/** The dynamic provider for resources of `folder`'s kind, loading its implementation on first use. */
export function of(folder: ProviderFolder): pulumi.dynamic.ResourceProvider {
  if (!FOLDERS.includes(folder)) throw new Error(`pulumi-hostnet: no resource kind ${JSON.stringify(folder)}`);
  let m: ProviderModule | undefined;
  const l = (): ProviderModule => (m ??= require(`../${folder}/provider`) as ProviderModule);
  return {
    check: (o, n) => l().check(o, n),
    diff: (i, o, n) => l().diff(i, o, n),
    create: (i) => l().create(i),
    read: (i, p) => l().read(i, p),
    update: (i, o, n) => l().update(i, o, n),
    delete: (i, p) => l().del(i, p),
  };
}
