/**
 * `hostnet watch`, the pure parts: what to follow on each host (the Docker
 * containers a spec names there), what a `docker events` line says, which
 * resources re-apply a (re)started container, and the debounce that turns a
 * burst of events into one apply at a time.
 */
import { HostPlan } from "../topology/plan";
import { Spec } from "../spec/types";

/** What `watch` follows on one host: the Docker names, and for each the spec's resources that re-plumb it. */
export interface WatchedHost {
  readonly host: string;
  /** Docker name → the resource names to re-apply when it starts. */
  readonly containers: ReadonlyMap<string, readonly string[]>;
}

/** The hosts of `plans` (among `selected`) with Docker containers, and the resources that re-apply each. */
export function watchedHosts(spec: Spec, plans: readonly HostPlan[], selected?: readonly string[]): WatchedHost[] {
  const out: WatchedHost[] = [];
  for (const p of plans) {
    if (selected && !selected.includes(p.host)) continue;
    const containers = new Map<string, string[]>();
    const dockerName = new Map((spec.containers ?? []).filter((c) => c.host === p.host && !c.netns).map((c) => [c.name, c.docker ?? c.name] as const));
    const add = (container: string, resource: string) => {
      const d = dockerName.get(container);
      if (d === undefined) return;
      containers.set(d, [...(containers.get(d) ?? []), resource]);
    };
    for (const v of p.veths) {
      for (const a of v.attachments) {
        // A point-to-point link's pair went with the old namespace too: it is made anew with the attachment.
        if (v.pair) add(a.container, v.resourceName);
        add(a.container, a.resourceName);
      }
    }
    for (const h of p.hosts) add(h.container, h.resourceName);
    if (containers.size > 0) out.push({ host: p.host, containers });
  }
  return out;
}

/** `docker events --format '{{json .}}' --filter type=container --filter event=start --filter container=…` for these names. */
export function dockerEventsArgv(names: readonly string[]): string[] {
  return ["docker", "events", "--format", "{{json .}}", "--filter", "type=container", "--filter", "event=start", ...names.flatMap((n) => ["--filter", `container=${n}`])];
}

/** A container event: what happened and to which container (its name). */
export interface ContainerEvent {
  readonly action: string;
  readonly name: string;
  readonly id: string;
}

/** Parses one line of `docker events --format '{{json .}}'`; undefined for anything else. */
export function parseDockerEvent(line: string): ContainerEvent | undefined {
  try {
    const e = JSON.parse(line) as { Type?: string; Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    const name = e.Actor?.Attributes?.name;
    if ((e.Type ?? "container") !== "container" || !name) return undefined;
    return { action: e.Action ?? e.status ?? "", name, id: e.id ?? e.Actor?.ID ?? "" };
  } catch {
    return undefined;
  }
}

/**
 * Collects what is to be re-applied and runs `apply` for it once nothing new
 * came for `delayMs`, one apply at a time: what comes in during an apply is
 * applied after it. `idle()` settles when nothing is pending or running.
 */
export class Debouncer {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly delayMs: number, private readonly apply: (names: string[]) => Promise<void>) {}

  /** Adds resources to re-apply and (re)starts the wait. */
  add(names: Iterable<string>): void {
    if (this.stopped) return;
    for (const n of names) this.pending.add(n);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.running || this.pending.size === 0 || this.stopped) return;
    const names = [...this.pending].sort();
    this.pending.clear();
    this.running = this.apply(names).finally(() => {
      this.running = undefined;
      if (this.pending.size > 0 && !this.timer) void this.flush();
    });
    await this.running;
  }

  /** Stops taking events; settles once the apply under way (if any) has finished. Pending ones are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.pending.clear();
    await this.running;
  }
}
