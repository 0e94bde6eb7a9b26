/**
 * `hostnet watch FILE`: follows `docker events` on each host of the spec
 * (over each host's own connection: SSH with its pinned key, local, or a
 * namespace) and, when a container the spec names starts (a `docker restart`,
 * a reboot, a new container of the same name), re-applies that container's
 * resources with a targeted, refreshing `up`: debounced, one apply at a
 * time, each logged. Ctrl-C (SIGINT) or SIGTERM lets the apply under way
 * finish, stops the followers on the hosts, and exits 0.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { runnerFor } from "../provider/host";
import { ConnectionSpec } from "../provider/host/connection";
import { Followed } from "../provider/host/runner";
import { closeAllSsh } from "../provider/host/ssh";
import { Debouncer, WatchedHost, dockerEventsArgv, parseDockerEvent } from "../provider/cli/watch";

/** What the watch needs from the CLI: how to run a targeted up, and where to log. */
export interface WatchDeps {
  readonly stack: Stack;
  readonly hosts: readonly WatchedHost[];
  readonly connections: Readonly<Record<string, ConnectionSpec>>;
  readonly debounceMs: number;
  /** Runs `up` for these resource names (targeted, refreshing); resolves to a summary such as `~ 2 updated`. */
  readonly up: (names: string[]) => Promise<string>;
  /** Resolves when the watch is to stop (SIGINT/SIGTERM); the CLI passes a signal promise, a test another. */
  readonly stopRequested: Promise<void>;
  readonly log?: (line: string) => void;
}

const stamp = () => new Date().toISOString().slice(11, 19);

/** Runs the watch until `stopRequested` settles; resolves once every follower has ended. */
export async function watch(d: WatchDeps): Promise<void> {
  const log = d.log ?? ((l: string) => console.log(`hostnet watch ${stamp()}: ${l}`));
  const debouncer = new Debouncer(d.debounceMs, async (names) => {
    const started = Date.now();
    log(`re-applying ${names.join(", ")}`);
    try {
      const summary = await d.up(names);
      log(`re-applied in ${((Date.now() - started) / 1000).toFixed(1)} s (${summary})`);
    } catch (e) {
      log(`re-applying failed (the next start tries again): ${(e instanceof Error ? e.message : String(e)).split("\n").slice(0, 8).join("\n")}`);
    }
  });
  let stopping = false;
  const followers = new Map<string, Followed>();
  const follow = async (h: WatchedHost): Promise<void> => {
    const runner = runnerFor(d.connections[h.host]);
    if (!runner.follow) throw new Error(`hostnet watch: the runner for ${h.host} cannot follow a command`);
    const f = await runner.follow(dockerEventsArgv([...h.containers.keys()]), (line) => {
      const e = parseDockerEvent(line);
      const names = e && h.containers.get(e.name);
      if (!e || !names) return;
      log(`${h.host}: container ${e.name} ${e.action === "start" ? "started" : e.action} (${e.id.slice(0, 12)})`);
      debouncer.add(names);
    });
    followers.set(h.host, f);
    void f.ended.then((why) => {
      if (stopping) return;
      log(`${h.host}: docker events ended (${why}); following again in 2 s`);
      setTimeout(() => void follow(h).catch((e: unknown) => log(`${h.host}: cannot follow docker events: ${e instanceof Error ? e.message : String(e)}`)), 2000);
    });
  };
  for (const h of d.hosts) await follow(h);
  const count = d.hosts.reduce((n, h) => n + h.containers.size, 0);
  log(`watching ${count} container(s) on ${d.hosts.map((h) => h.host).join(", ")}; Ctrl-C stops`);
  await d.stopRequested;
  stopping = true;
  log("stopping (the apply under way, if any, finishes first)");
  await debouncer.stop();
  await Promise.all([...followers.values()].map((f) => f.stop().catch(() => undefined)));
  closeAllSsh();
  log("stopped");
}
