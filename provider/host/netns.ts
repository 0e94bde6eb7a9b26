/** Runs commands inside a named network namespace of this machine (`ip netns exec NAME …`). */
import { spawnCollect, spawnFollowed, spawnHeld } from "./local";
import { Followed, Held, LineListener, NoteListener, RunOptions, RunResult, Runner } from "./runner";
import { checkNetnsName } from "../linux/names";

/** A named network namespace on this machine (`{ netns: "blue" }`). */
export class NetnsRunner implements Runner {
  readonly hostId: string;
  constructor(readonly netns: string) {
    checkNetnsName(netns, "connection.netns");
    this.hostId = `netns:${netns}`;
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return spawnCollect(["ip", "netns", "exec", this.netns, ...argv], opts);
  }
  hold(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held> {
    return spawnHeld(["ip", "netns", "exec", this.netns, ...argv], timeoutMs, onNote);
  }
  follow(argv: readonly string[], onLine: LineListener): Promise<Followed> {
    return spawnFollowed(["ip", "netns", "exec", this.netns, ...argv], onLine);
  }
}
