/** CRUD wiring of the `HostsEntries` dynamic resource: read the container's hosts file, rewrite our block, re-read. */
import * as pulumi from "@pulumi/pulumi";
import { CommandError, HostnetError } from "../../host/errors";
import { runnerFor } from "../../host";
import { Runner } from "../../host/runner";
import { inspectContainer } from "../common/container";
import { snapshotOf } from "../common/preflight";
import { entriesIn, withBlock, withoutBlock } from "../../linux/hostsfile";
import { Transaction } from "../common/transaction";
import { Step } from "../common/steps";
import { lockHolder, withHostLock, LockScope } from "../common/lock";
import { ownerFromInput } from "../common/owner";
import { containsUnknown } from "../common/unknown";
import { checkWith, defined, withSecretsRedacted, entryPoints, RunnerFactory } from "../common/crud";
import { HostsInputs, HostsOutputs } from "./args";
import { hostsMark, normalizeHosts } from "./plan";

const catFile = (file: string) => ["cat", "--", file];

/** The hosts file's text. */
async function readFile(runner: Runner, file: string): Promise<string> {
  const argv = catFile(file);
  const res = await runner.run(argv);
  if (res.exitCode !== 0) throw new CommandError({ host: runner.hostId, argv, ...res, context: "read the container's hosts file" });
  return res.stdout;
}

/** The step that writes `after` over the file in place (same inode: Docker bind-mounts it into the container), undone by writing `before` back. */
function rewrite(file: string, before: string, after: string, description: string): Step {
  const tee = ["tee", "--", file];
  return { description, argv: tee, stdin: after, undo: [{ argv: tee, stdin: before }] };
}

/** Edits of the same container's hosts file, one at a time on a host. */
const scopeOf = (container: string): LockScope => `file:hosts/${container}`;

/** The `HostsEntries` provider. Stateless: every call reads the host anew. */
export class HostsProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runners: RunnerFactory = runnerFor) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return checkWith(normalizeHosts, news);
  }

  async diff(_id: string, olds: HostsOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    if (containsUnknown(news)) return { changes: true };
    const n = normalizeHosts(news);
    const replaces = olds.container.docker !== n.container.docker ? ["container"] : [];
    const changes = replaces.length > 0 || olds.present === false || JSON.stringify(olds.entries) !== JSON.stringify(n.entries);
    return { changes, replaces, deleteBeforeReplace: false };
  }

  async create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    const inputs = normalizeHosts(raw);
    return withSecretsRedacted(inputs.connection, async () => {
      const runner = this.runners(inputs.connection);
      const outs = await withHostLock(runner, (r) => this.apply(r, inputs), lockHolder(inputs.owner), scopeOf(inputs.container.docker));
      return { id: `${runner.hostId}/hosts/${inputs.container.docker}`, outs: defined(outs) };
    });
  }

  async update(_id: string, _olds: HostsOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const inputs = normalizeHosts(raw);
    return withSecretsRedacted(inputs.connection, async () => {
      const runner = this.runners(inputs.connection);
      const outs = await withHostLock(runner, (r) => this.apply(r, inputs), lockHolder(inputs.owner), scopeOf(inputs.container.docker));
      return { outs: defined(outs) };
    });
  }

  /** Writes our block with exactly `inputs.entries` (other lines untouched), then re-reads it. */
  private async apply(runner: Runner, inputs: HostsInputs): Promise<HostsOutputs> {
    const name = inputs.container.docker;
    const subject = `hosts entries of container ${name} on ${runner.hostId}`;
    const info = await inspectContainer(runner, name);
    if (!info) throw new HostnetError(`${subject}: container ${name} does not exist`);
    if (!info.hostsPath) throw new HostnetError(`${subject}: Docker gives container ${name} no hosts file (HostsPath is empty; is it in another container's namespace?)`);
    const mark = hostsMark(ownerFromInput(inputs.owner), name);
    const before = await readFile(runner, info.hostsPath);
    const after = withBlock(before, mark, inputs.entries);
    let now = before;
    if (after !== before) {
      // The verifying re-read goes in the write's round trip.
      const reread = await new Transaction(runner, subject).runAndRead([rewrite(info.hostsPath, before, after, `write ${inputs.entries.length} entries`)], [{ argv: catFile(info.hostsPath) }]);
      now = reread?.[0]?.exitCode === 0 ? reread[0].stdout : await readFile(runner, info.hostsPath);
    }
    const written = entriesIn(now, mark);
    if (JSON.stringify(written) !== JSON.stringify(inputs.entries)) throw new HostnetError(`${subject}: the file differs after the write (found ${JSON.stringify(written)})`);
    return { ...inputs, hostId: runner.hostId, containerId: info.id, hostsPath: info.hostsPath, present: true };
  }

  /** What the file holds now: our block's entries (none when a restart rewrote the file), or gone with the container. */
  async read(id: string, props: HostsOutputs): Promise<pulumi.dynamic.ReadResult> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      // A container the spec names was read with the host's other containers (one docker inspect per host).
      const snap = await snapshotOf(runner, props.container);
      const info = snap ? snap.container.info : await inspectContainer(runner, props.container.docker);
      if (!info || !info.hostsPath) return { id: "" };
      const found = entriesIn(await readFile(runner, info.hostsPath), hostsMark(ownerFromInput(props.owner), props.container.docker));
      const outs: HostsOutputs = { ...props, containerId: info.id, hostsPath: info.hostsPath, entries: found ?? [], present: found !== undefined };
      const inputs: HostsInputs = { connection: props.connection, container: props.container, entries: outs.entries, ...(props.owner ? { owner: props.owner } : {}) };
      return { id, props: defined(outs), inputs: defined(inputs) };
    });
  }

  /** Takes our block out; every other byte of the file stays. A container that is gone took its file along. */
  async delete(_id: string, props: HostsOutputs): Promise<void> {
    return withSecretsRedacted(props.connection, async () => {
      const runner = this.runners(props.connection);
      await withHostLock(runner, async (locked) => {
        const info = await inspectContainer(locked, props.container.docker);
        if (!info || !info.hostsPath) return;
        const before = await readFile(locked, info.hostsPath);
        const after = withoutBlock(before, hostsMark(ownerFromInput(props.owner), props.container.docker));
        if (after === before) return;
        await new Transaction(locked, `remove hosts entries of container ${props.container.docker} on ${locked.hostId}`).run([rewrite(info.hostsPath, before, after, "remove our entries")]);
      }, lockHolder(props.owner), scopeOf(props.container.docker));
    });
  }
}

/** Entry points used by the serialised dynamic provider. */
export const { check, diff, create, read, update, del } = entryPoints<HostsOutputs>(new HostsProvider());
