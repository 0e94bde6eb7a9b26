/**
 * One long-lived remote shell per SSH channel: the login shell (and the
 * user's `~/.bashrc`) runs once per session instead of once per command.
 *
 * The channel execs `exec /bin/sh -s`; the client writes shell text to its
 * stdin: first the PATH, then one command per request. The command's stdout and stderr go
 * straight to the channel's two streams, each followed by an end line that
 * only this session knows (a random nonce, never on any command line):
 *
 *   stdout: <bytes>\n@@hostnet-end <nonce> <seq> <exit status>\n
 *   stderr: <bytes>\n@@hostnet-end <nonce> <seq>\n
 *
 * Several requests can be written at once (a sequence, one round trip): each
 * but the first runs only if every earlier one of the sequence exited 0;
 * a request that did not run says `skipped` instead of a status.
 *
 * The leading newline of the end line is part of it, so the bytes before it
 * are exactly what the command wrote. Only shell builtins (`printf`) frame a
 * reply: the command is the only process a request starts. A command's stdin
 * is `/dev/null` or the request's bytes, never the session's own stdin (the
 * script). Everything the login shell prints before the session starts (a
 * chatty `.bashrc`) is skipped up to a ready line carrying the nonce.
 */
import { randomBytes } from "node:crypto";
import { shellQuote } from "./quote";

/** What the session channel must be: an ssh2 ClientChannel or anything shaped like it. */
export interface SessionChannel {
  write(data: string): unknown;
  end(): unknown;
  close(): unknown;
  on(event: "data", cb: (d: Buffer) => void): unknown;
  on(event: "close", cb: () => void): unknown;
  stderr: { on(event: "data", cb: (d: Buffer) => void): unknown };
}

/** The command the channel is opened with. */
export const SESSION_COMMAND = "exec /bin/sh -s";

/** The first bytes written to the session: its PATH, then the ready line on both streams. */
export function sessionPrelude(nonce: string, path: string): string {
  const n = shellQuote(nonce);
  return `PATH=${shellQuote(path)}; export PATH; printf '@@hostnet-ready %s\\n' ${n}; printf '@@hostnet-ready %s\\n' ${n} >&2\n`;
}

/**
 * The shell text of one request: `argv` (already joined and quoted) run by
 * `exec` in a subshell — always the program on PATH, never a shell builtin
 * that could change the session — with its stdin, then the end lines.
 */
export function sessionRequest(nonce: string, seq: number, argv: string, stdin?: string, guarded = false): string {
  const command = `(exec ${argv})`;
  const input = stdin === undefined || stdin === "" ? `${command} </dev/null` : `printf %s ${shellQuote(stdin)} | ${command}`;
  const n = shellQuote(nonce);
  const run = guarded ? `if [ "$hn_ok" = 1 ]; then ${input}; s=$?; [ "$s" = 0 ] || hn_ok=0; else s=skipped; fi` : `${input}; s=$?`;
  return `${run}; printf '\\n@@hostnet-end %s %s\\n' ${n} ${seq} >&2; printf '\\n@@hostnet-end %s %s %s\\n' ${n} ${seq} "$s"\n`;
}

/** The shell text of a sequence: each request after the first runs only while every earlier one exited 0. */
export function sessionSequence(nonce: string, firstSeq: number, requests: readonly { argv: string; stdin?: string }[]): string {
  return `hn_ok=1\n${requests.map((r, i) => sessionRequest(nonce, firstSeq + i, r.argv, r.stdin, true)).join("")}`;
}

/** One command's output on one stream, with the exit status when it came on stdout. */
export interface StreamPart {
  readonly seq: number;
  readonly exitCode?: number;
  /** The request did not run (an earlier one of its sequence failed). */
  readonly skipped?: boolean;
  readonly bytes: Buffer;
}

/**
 * Incremental splitter of one of the session's streams: `push` bytes, get
 * the parts completed so far. Before the ready line (with the nonce)
 * everything is skipped.
 */
export class StreamSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private ready = false;
  private readonly readyLine: Buffer;
  private readonly endLine: Buffer;
  constructor(nonce: string) {
    this.readyLine = Buffer.from(`@@hostnet-ready ${nonce}\n`);
    this.endLine = Buffer.from(`\n@@hostnet-end ${nonce} `);
  }

  /** Whether the ready line has been seen. */
  get isReady(): boolean {
    return this.ready;
  }

  push(data: Buffer): StreamPart[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const out: StreamPart[] = [];
    if (!this.ready) {
      const at = this.buf.indexOf(this.readyLine);
      if (at < 0) {
        // Keep only what could be the start of the ready line.
        if (this.buf.length > this.readyLine.length) this.buf = this.buf.subarray(this.buf.length - this.readyLine.length);
        return out;
      }
      this.ready = true;
      this.buf = this.buf.subarray(at + this.readyLine.length);
    }
    for (;;) {
      const at = this.buf.indexOf(this.endLine);
      if (at < 0) return out;
      const nl = this.buf.indexOf(0x0a, at + this.endLine.length);
      if (nl < 0) return out;
      const m = /^(\d+)(?: (\d+|skipped))?$/.exec(this.buf.subarray(at + this.endLine.length, nl).toString("latin1"));
      if (!m) throw new Error("a malformed end line from the remote session");
      const bytes = Buffer.from(this.buf.subarray(0, at));
      out.push(m[2] === "skipped" ? { seq: Number(m[1]), skipped: true, bytes } : { seq: Number(m[1]), exitCode: m[2] === undefined ? undefined : Number(m[2]), bytes });
      this.buf = this.buf.subarray(nl + 1);
    }
  }
}

/** A finished command. */
export interface SessionReply {
  readonly seq: number;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** It did not run: an earlier request of its sequence failed. */
  readonly skipped?: boolean;
}

/** The replies of a sequence that came back, in order, and why the rest did not (the session was lost or timed out). */
export interface SequenceReplies {
  readonly replies: SessionReply[];
  readonly error?: SessionLost;
}

interface Pending {
  readonly seq: number;
  out?: StreamPart;
  err?: StreamPart;
}

/** The session channel closed while a command was running (or before the shell started). */
export class SessionLost extends Error {}

/** A command ran past its timeout: the session was closed to stop it. */
export class SessionTimeout extends SessionLost {}

/** A remote shell on one channel; runs one command, or one sequence, at a time. */
export class RemoteSession {
  private readonly nonce = randomBytes(12).toString("hex");
  private readonly out = new StreamSplitter(this.nonce);
  private readonly err = new StreamSplitter(this.nonce);
  private seq = 0;
  /** The requests in flight, oldest first, and who waits for all of them. */
  private pending: Pending[] = [];
  private waiter: { replies: SessionReply[]; resolve(r: SequenceReplies): void } | undefined;
  private readyWaiter: { resolve(): void; reject(e: Error): void } | undefined;
  private stderrBeforeReady = "";
  private closedWhy: string | undefined;
  private timedOut = false;

  /** `path` becomes the session's PATH (every command's). */
  constructor(private readonly channel: SessionChannel, path: string) {
    channel.on("data", (d: Buffer) => this.onData(d, false));
    channel.stderr.on("data", (d: Buffer) => {
      if (!this.err.isReady && this.stderrBeforeReady.length < 4096) this.stderrBeforeReady += d.toString();
      this.onData(d, true);
    });
    channel.on("close", () => this.fail(this.closedWhy ?? "the session's channel closed"));
    channel.write(sessionPrelude(this.nonce, path));
  }

  /** Whether the session can take commands. */
  get alive(): boolean {
    return this.closedWhy === undefined;
  }

  private get isReady(): boolean {
    return this.out.isReady && this.err.isReady;
  }

  /** Settles when the remote shell is ready (the login shell and `.bashrc` have run). */
  ready(timeoutMs: number): Promise<void> {
    if (this.isReady) return Promise.resolve();
    if (!this.alive) return Promise.reject(new SessionLost(this.closedWhy));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.close(`the remote shell did not start within ${timeoutMs} ms`), timeoutMs);
      this.readyWaiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  /** Runs one command (`argv` joined and quoted); a timeout closes the session (which ends what runs in it). */
  async run(argv: string, stdin: string | undefined, timeoutMs: number): Promise<SessionReply> {
    const r = await this.send([{ argv, stdin }], timeoutMs, "one");
    if (r.error) throw r.error;
    return r.replies[0];
  }

  /**
   * Runs commands in order in one round trip; those after a failed one are
   * not run (their replies say `skipped`), unless `all`. Resolves with the replies that came
   * back; when the session is lost or times out, with those before and the error.
   */
  runSequence(requests: readonly { argv: string; stdin?: string }[], timeoutMs: number, all = false): Promise<SequenceReplies> {
    return this.send(requests, timeoutMs, all ? "all" : "sequence");
  }

  private send(requests: readonly { argv: string; stdin?: string }[], timeoutMs: number, mode: "one" | "sequence" | "all"): Promise<SequenceReplies> {
    if (!this.alive) return Promise.resolve({ replies: [], error: new SessionLost(this.closedWhy) });
    if (this.waiter) return Promise.reject(new Error("the session is busy"));
    const first = this.seq + 1;
    this.seq += requests.length;
    this.pending = requests.map((_, i) => ({ seq: first + i }));
    return new Promise<SequenceReplies>((resolve) => {
      const timer = setTimeout(() => this.close(`timed out after ${timeoutMs} ms`, true), timeoutMs);
      this.waiter = { replies: [], resolve: (r) => (clearTimeout(timer), resolve(r)) };
      this.channel.write(mode === "sequence" ? sessionSequence(this.nonce, first, requests) : requests.map((r, i) => sessionRequest(this.nonce, first + i, r.argv, r.stdin)).join(""));
    });
  }

  /** Ends the session (its remote shell reads end of input and exits). */
  end(): void {
    if (!this.alive) return;
    this.closedWhy = "the session was ended";
    this.channel.end();
  }

  private close(why: string, timeout = false): void {
    if (this.closedWhy === undefined) this.closedWhy = why;
    this.timedOut ||= timeout;
    this.channel.close();
    this.fail(why);
  }

  private onData(d: Buffer, isErr: boolean): void {
    let parts: StreamPart[];
    try {
      parts = (isErr ? this.err : this.out).push(d);
    } catch (e) {
      this.close((e as Error).message);
      return;
    }
    if (this.isReady && this.readyWaiter) {
      const w = this.readyWaiter;
      this.readyWaiter = undefined;
      w.resolve();
    }
    for (const part of parts) {
      // Each stream's parts come in request order: this one belongs to the oldest request still missing it.
      const p = this.pending.find((x) => !(isErr ? x.err : x.out));
      if (!p || p.seq !== part.seq) {
        this.close(`output for request ${part.seq} arrived while ${p ? `request ${p.seq}` : "nothing"} was waiting`);
        return;
      }
      if (isErr) p.err = part;
      else p.out = part;
      while (this.pending.length > 0 && this.pending[0].out && this.pending[0].err) {
        const done = this.pending.shift() as Pending & { out: StreamPart; err: StreamPart };
        this.waiter?.replies.push({ seq: done.seq, exitCode: done.out.exitCode ?? -1, stdout: done.out.bytes.toString("utf8"), stderr: done.err.bytes.toString("utf8"), ...(done.out.skipped ? { skipped: true } : {}) });
      }
      if (this.pending.length === 0 && this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve({ replies: w.replies });
      }
    }
  }

  private fail(why: string): void {
    if (this.closedWhy === undefined) this.closedWhy = why;
    const said = this.stderrBeforeReady.trim();
    const message = why + (!this.isReady && said ? ` (the remote shell said: ${said.slice(0, 500)})` : "");
    const e = this.timedOut ? new SessionTimeout(message) : new SessionLost(message);
    if (this.readyWaiter) {
      const w = this.readyWaiter;
      this.readyWaiter = undefined;
      w.reject(e);
    }
    this.pending = [];
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ replies: w.replies, error: e });
    }
  }
}
