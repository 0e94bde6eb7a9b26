/**
 * The SSH runner: one ssh2 connection per host per process, shared by every
 * resource, with host key verification on by default. Commands run in a few
 * long-lived remote shells on that connection (session.ts), so the login
 * shell and `~/.bashrc` run once per session, not once per command. This is
 * the only place where argv becomes a string (see {@link shellJoin}). For a
 * `sudo` connection the session's shell runs as root through `sudo -n`, once
 * per session, not once per command.
 */
import * as fs from "node:fs";
import { Client, ClientChannel, ConnectConfig } from "ssh2";
import { ConnectionError, ConnectionLostError, HostKeyError, HostnetError, redact } from "./errors";
import { fingerprint, keysFromKnownHostsFile, parsePublicKey, PinnedKey } from "./knownhosts";
import { shellJoin } from "./quote";
import { Semaphore } from "./semaphore";
import { RemoteSession, SESSION_COMMAND, SessionTimeout } from "./session";
import { ConnectionSpec, hostIdOf, secretsOf } from "./connection";
import { Command, DEFAULT_TIMEOUT_MS, Followed, Held, LineListener, NoteListener, followArgv, lineSplitter, RunOptions, RunResult, Runner, SequenceOptions, SequenceResult, firstLine, sudoRefusal } from "./runner";

/**
 * Remote shells per connection: commands of independent resources run in
 * parallel up to this many. sshd allows 10 sessions per connection by
 * default; the rest is left for lock holders (one channel each).
 */
const MAX_SESSIONS = 6;
/** How long the login shell may take to start a session. */
const SESSION_START_MS = 30_000;

let dials = 0;
let channels = 0;
let trips = 0;
/** How many times this process has sent commands to a remote session (one command, or several in one round trip). */
export function sshRoundTrips(): number {
  return trips;
}
/**
 * Counts a round trip of `n` commands; for tests and benchmarks, notes it in
 * the HOSTNET_TEST_TRACE file with when it was sent, how long it took (ms)
 * and its first command.
 */
function trip(hostId: string, n: number, sent: number, first: readonly string[]): void {
  const trace = process.env.HOSTNET_TEST_TRACE;
  if (trace) fs.appendFileSync(trace, `${hostId}\t#round-trip ${n}\t${process.pid}\t${sent}\t${Date.now() - sent}\t${first.slice(0, 6).join(" ").slice(0, 120)}\n`);
}
/** How many SSH connections this process has opened (successful dials). */
export function sshConnectionCount(): number {
  return dials;
}
/** How many SSH channels (remote sessions and lock holders) this process has opened. */
export function sshChannelCount(): number {
  return channels;
}

/** A command waiting for a remote session. */
interface Queued {
  readonly argv: readonly string[];
  readonly stdin?: string;
  readonly timeoutMs: number;
  /** It has a timeout of its own: it goes alone, so that the timeout is its own. */
  readonly alone: boolean;
  /** Sent again once already (it had not started when its session was lost). */
  retried: boolean;
  resolve(r: RunResult): void;
  reject(e: Error): void;
}

/** At most this many waiting commands go to a session in one round trip. */
const MAX_BATCH = 64;

function expectedKeys(c: ConnectionSpec): PinnedKey[] | "any" {
  if (c.insecureIgnoreHostKey === true && !c.hostKey && !c.knownHostsFile) return "any";
  const keys: PinnedKey[] = [];
  if (c.hostKey) {
    const k = parsePublicKey(c.hostKey);
    if (!k) throw new ConnectionError(hostIdOf(c), `hostKey is not a public key line like "ssh-ed25519 AAAA…"`);
    keys.push(k);
  }
  if (c.knownHostsFile) keys.push(...keysFromKnownHostsFile(c.knownHostsFile, c.host ?? "", c.port ?? 22));
  return keys;
}

function connectConfig(c: ConnectionSpec, onBadKey: (msg: string) => void): ConnectConfig {
  const keys = expectedKeys(c);
  const cfg: ConnectConfig = {
    host: c.host,
    port: c.port ?? 22,
    username: c.user ?? "root",
    readyTimeout: (c.perDialTimeout ?? 15) * 1000,
    keepaliveInterval: 15_000,
    hostVerifier: (key: Buffer) => {
      if (keys === "any") return true;
      const blob = key.toString("base64");
      if (keys.some((k) => k.blob === blob)) return true;
      const offered = key.subarray(4, 4 + key.readUInt32BE(0)).toString("latin1");
      onBadKey(
        keys.length === 0
          ? `no known host key for ${c.host}:${c.port ?? 22} (the server offered ${offered}); set hostKey or add it to ${c.knownHostsFile}`
          : `host key mismatch: the server offered a ${offered} key that is not the pinned one (possible man-in-the-middle); refusing to connect. ` +
              `Offered: ${offered} ${fingerprint(blob)}; pinned: ${keys.map((k) => fingerprint(k.blob)).join(", ")}. ` +
              `If the host's key changed for a reason you know, check the new one out of band (ssh-keyscan -p ${c.port ?? 22} ${c.host} | ssh-keygen -lf -) and update ${c.hostKey ? "hostKey" : `its line in ${c.knownHostsFile}`}`,
      );
      return false;
    },
  };
  if (c.password !== undefined) cfg.password = c.password;
  if (c.privateKey !== undefined) cfg.privateKey = c.privateKey;
  if (c.privateKeyPassword !== undefined) cfg.passphrase = c.privateKeyPassword;
  const agent = c.agentSocketPath ?? (c.password === undefined && c.privateKey === undefined ? process.env.SSH_AUTH_SOCK : undefined);
  if (agent) cfg.agent = agent;
  return cfg;
}

/** The refusal of a host whose key is not the pinned one (`badKey`: what the verifier said). */
function hostKeyError(c: ConnectionSpec, badKey: string): HostKeyError {
  return new HostKeyError(hostIdOf(c), redact(badKey, secretsOf(c)));
}

/** The error of a connection that failed before it was ready: the host key's refusal when there was one, else `message`. */
function handshakeError(c: ConnectionSpec, badKey: string | undefined, message: string, cause?: unknown): ConnectionError {
  return badKey ? hostKeyError(c, badKey) : new ConnectionError(hostIdOf(c), redact(message, secretsOf(c)), cause ? { cause } : undefined);
}

function dialOnce(c: ConnectionSpec, sock?: ClientChannel): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let badKey: string | undefined;
    const cfg = connectConfig(c, (m) => (badKey = m));
    if (sock) cfg.sock = sock;
    client.once("ready", () => {
      // Commands are small request/reply exchanges: without TCP_NODELAY, Nagle plus delayed ACKs cost ~80 ms per command.
      client.setNoDelay(true);
      resolve(client);
    });
    client.once("error", (e: Error) => {
      client.end();
      reject(handshakeError(c, badKey, e.message, e));
    });
    // A connection closed during the handshake (sshd killed) ends with "close" and no "error": without this the dial,
    // and every command waiting for it, would wait for ever (no-op once ready).
    client.once("close", () => reject(handshakeError(c, badKey, "the connection closed before the SSH handshake completed")));
    client.connect(cfg);
  });
}

async function forwardThrough(proxy: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => proxy.forwardOut("127.0.0.1", 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch))));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Dials with bounded retries; a host key or authentication failure is final at once. */
async function dial(c: ConnectionSpec): Promise<Client> {
  const limit = c.dialErrorLimit ?? 10;
  let lastErr: unknown;
  for (let attempt = 1; attempt <= Math.max(1, limit); attempt++) {
    try {
      const sock = c.proxy ? await forwardThrough(await pooledClient(c.proxy), c.host ?? "", c.port ?? 22) : undefined;
      const client = await dialOnce(c, sock);
      dials++;
      return client;
    } catch (e) {
      lastErr = e;
      const msg = (e as Error).message;
      if (/host key|authentication|All configured authentication methods failed/i.test(msg)) break;
      await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)));
    }
  }
  // Name the host whatever failed (ssh2's own errors, such as "Timed out while waiting for handshake", do not).
  if (lastErr instanceof HostnetError) throw lastErr;
  throw new ConnectionError(hostIdOf(c), lastErr instanceof Error ? lastErr.message : String(lastErr), { cause: lastErr });
}

interface PoolEntry {
  client: Promise<Client>;
  sessions: Semaphore;
  idle: RemoteSession[];
  /** Commands waiting for a session: when every session is busy they pile up, and go together in one round trip. */
  queue: Queued[];
}
const pool = new Map<string, PoolEntry>();

function poolKey(c: ConnectionSpec): string {
  return `${c.user ?? "root"}@${hostIdOf(c)}${c.sudo ? " sudo" : ""}`;
}

/** What a session's channel runs: the shell, through sudo for a `sudo` connection. */
export function sessionCommandFor(c: ConnectionSpec): string {
  return c.sudo ? "exec sudo -n -- /bin/sh -s" : SESSION_COMMAND;
}

function entryFor(c: ConnectionSpec): PoolEntry {
  const key = poolKey(c);
  let entry = pool.get(key);
  if (!entry) {
    const client = dial(c);
    entry = { client, sessions: new Semaphore(MAX_SESSIONS), idle: [], queue: [] };
    pool.set(key, entry);
    client.then(
      (cl) => {
        cl.on("close", () => pool.get(key) === entry && pool.delete(key));
        cl.on("error", () => pool.get(key) === entry && pool.delete(key));
      },
      () => pool.get(key) === entry && pool.delete(key),
    );
  }
  return entry;
}

function pooledClient(c: ConnectionSpec): Promise<Client> {
  return entryFor(c).client;
}

/**
 * The hosts that do not offer their pinned key, found before anything else
 * runs: with each host, a key exchange and nothing more (no login, no
 * command), all hosts at once. Each mismatch comes back as the
 * {@link HostKeyError} a connection would raise. Anything else (a host that
 * is down, a connection through a jump host, an unreadable known_hosts
 * file) is left to the run, which reports it in context.
 */
export async function hostKeyMismatches(conns: readonly ConnectionSpec[], timeoutMs = 10_000): Promise<HostKeyError[]> {
  const one = (c: ConnectionSpec) =>
    new Promise<HostKeyError | undefined>((resolve) => {
      let cfg: ConnectConfig;
      let badKey: string | undefined;
      try {
        if (c.local || c.netns || c.proxy || expectedKeys(c) === "any") return resolve(undefined);
        cfg = { ...connectConfig({ host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, knownHostsFile: c.knownHostsFile }, (m) => (badKey = m)), readyTimeout: timeoutMs };
      } catch {
        return resolve(undefined);
      }
      const client = new Client();
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        client.on("error", () => undefined);
        client.end();
        resolve(badKey ? hostKeyError(c, badKey) : undefined);
      };
      // The key was verified during the key exchange: end before any authentication.
      client.once("handshake", done);
      client.once("error", done);
      client.once("close", done);
      client.connect(cfg);
    });
  return (await Promise.all(conns.map(one))).filter((e): e is HostKeyError => e !== undefined);
}

/** Closes every pooled connection (also done when the process exits). */
export function closeAllSsh(): void {
  for (const [key, entry] of pool) {
    pool.delete(key);
    for (const sess of entry.idle.splice(0)) sess.end();
    entry.client.then((cl) => cl.end(), () => undefined);
  }
}
process.once("exit", closeAllSsh);

/**
 * Every command runs with the system directories first on PATH (the session's
 * PATH; a lock holder's channel runs under `env PATH=…`): a non-root SSH
 * session's PATH usually lacks /usr/sbin (iptables, nft, sysctl).
 */
export const REMOTE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function remoteCommand(argv: readonly string[]): string {
  return shellJoin(["env", `PATH=${REMOTE_PATH}`, ...argv]);
}

/** Runs commands on a host over SSH, through the per-process connection pool. */
export class SshRunner implements Runner {
  readonly hostId: string;
  constructor(private readonly conn: ConnectionSpec) {
    this.hostId = hostIdOf(conn);
  }

  /**
   * Runs one command in a remote session. While a session is free it goes
   * alone; when all are busy, the commands that pile up (independent ones,
   * from resources running side by side) go together in one round trip and
   * run one after another in the next free session, each with its own result.
   */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const entry = entryFor(this.conn);
    return new Promise<RunResult>((resolve, reject) => {
      entry.queue.push({ argv, stdin: opts?.stdin, timeoutMs: opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS, alone: opts?.timeoutMs !== undefined, retried: false, resolve, reject });
      this.pump(entry);
    });
  }

  /** Sends waiting commands to free sessions. */
  private pump(entry: PoolEntry): void {
    while (entry.queue.length > 0 && entry.sessions.tryTake()) {
      let n = 1;
      while (n < MAX_BATCH && n < entry.queue.length && !entry.queue[0].alone && !entry.queue[n].alone) n++;
      const batch = entry.queue.splice(0, n);
      void this.dispatch(entry, batch).finally(() => {
        entry.sessions.give();
        this.pump(entry);
      });
    }
  }

  /** Runs a batch of independent commands in one session (the caller holds a session slot). */
  private async dispatch(entry: PoolEntry, batch: Queued[]): Promise<void> {
    let session: RemoteSession | undefined;
    try {
      session = await this.session(entry, await entry.client, batch[0].argv);
    } catch (e) {
      for (const q of batch) q.reject(e instanceof HostnetError ? e : new ConnectionLostError(this.hostId, (e as Error).message, q.argv));
      return;
    }
    try {
      const r = await this.exchange(session, batch, Math.max(...batch.map((q) => q.timeoutMs)), true);
      r.results.forEach((res, i) => batch[i].resolve(res));
      if (r.lost === undefined) return;
      const k = r.results.length;
      const lost = r.lost;
      batch[k]?.reject(new ConnectionLostError(this.hostId, lost, batch[k].argv));
      // The ones after it had not started (a session runs its commands one after another): they go again, once.
      const rest = batch.slice(k + 1);
      for (const q of rest.filter((x) => x.retried)) q.reject(new ConnectionLostError(this.hostId, lost, q.argv));
      const again = rest.filter((x) => !x.retried);
      for (const q of again) q.retried = true;
      entry.queue.unshift(...again);
    } finally {
      if (session?.alive) entry.idle.push(session);
    }
  }

  /**
   * Sends commands to a session in one round trip: the results that came back
   * (a command that ran past the timeout gets a timed-out result), and, when
   * the session was lost, why — the command after the last result may or may
   * not have run, the rest did not.
   */
  private async exchange(session: RemoteSession, commands: readonly Command[], timeout: number, all: boolean): Promise<{ results: RunResult[]; lost?: string }> {
    trips++;
    const sent = Date.now();
    const r = await session.runSequence(commands.map((c) => ({ argv: shellJoin(c.argv), stdin: c.stdin })), timeout, all);
    trip(this.hostId, commands.length, sent, commands[0]?.argv ?? []);
    const results: RunResult[] = [];
    for (const reply of r.replies) {
      if (reply.skipped) break;
      results.push({ stdout: reply.stdout, stderr: reply.stderr, exitCode: reply.exitCode });
      if (reply.exitCode !== 0 && !all) return { results };
    }
    if (!r.error) return { results };
    if (r.error instanceof SessionTimeout) return { results: [...results, { stdout: "", stderr: `\n(timed out after ${timeout} ms)`, exitCode: -1 }] };
    return { results, lost: r.error.message };
  }

  /** Runs the commands in order in one round trip over one session, stopping after the first that fails. */
  async runSequence(commands: readonly Command[], opts?: SequenceOptions): Promise<SequenceResult> {
    if (commands.length === 0) return { results: [] };
    const entry = entryFor(this.conn);
    const client = await entry.client;
    await entry.sessions.take();
    let session: RemoteSession | undefined;
    try {
      try {
        session = await this.session(entry, client, commands[0].argv);
      } catch (e) {
        return { results: [], error: e as Error };
      }
      const r = await this.exchange(session, commands, opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts?.all ?? false);
      return r.lost === undefined ? { results: r.results } : { results: r.results, error: new ConnectionLostError(this.hostId, r.lost, commands[r.results.length]?.argv ?? []) };
    } finally {
      if (session?.alive) entry.idle.push(session);
      entry.sessions.give();
      this.pump(entry);
    }
  }

  /** An idle session of this connection, or a new one (the caller holds a session slot). */
  private async session(entry: PoolEntry, client: Client, argv: readonly string[]): Promise<RemoteSession> {
    for (let s = entry.idle.pop(); s; s = entry.idle.pop()) if (s.alive) return s;
    // sshd frees a session slot a moment after a channel closes; a refused open is transient.
    for (let attempt = 1; ; attempt++) {
      try {
        const channel = await openChannel(client, sessionCommandFor(this.conn));
        channels++;
        const session = new RemoteSession(channel, REMOTE_PATH);
        await session.ready(SESSION_START_MS);
        return session;
      } catch (e) {
        if (e instanceof HostnetError) throw e;
        const refused = this.conn.sudo ? sudoRefusal(this.hostId, this.conn.user ?? "root", `\`${argv.join(" ")}\` (a root shell for its commands)`, (e as Error).message.replace(/^.*the remote shell said: /s, "")) : undefined;
        if (refused) throw refused;
        if (attempt >= 30 || !/Channel open failure/i.test((e as Error).message)) throw new ConnectionLostError(this.hostId, (e as Error).message, argv);
        await sleep(Math.min(200, 5 * attempt));
      }
    }
  }

  async hold(argv: readonly string[], timeoutMs: number, onNote?: NoteListener): Promise<Held> {
    const client = await entryFor(this.conn).client;
    return holdOn(client, remoteCommand(this.conn.sudo ? ["sudo", "-n", "--", ...argv] : argv), timeoutMs, onNote);
  }

  /** Follows a command on its own channel of this host's connection (outside the channel limit, like a lock holder). */
  async follow(argv: readonly string[], onLine: LineListener): Promise<Followed> {
    const client = await entryFor(this.conn).client;
    const stream = await openChannel(client, remoteCommand(followArgv(this.conn.sudo ? ["sudo", "-n", "--", ...argv] : argv)));
    channels++;
    let stderr = "";
    stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    stream.on("data", lineSplitter(onLine));
    const ended = new Promise<string>((r) => stream.on("close", (code: number | null) => r(`exited with ${code}${stderr.trim() ? `: ${stderr.trim()}` : ""}`)));
    return {
      ended,
      async stop() {
        stream.end();
        await ended;
      },
    };
  }
}

/**
 * Opens an exec channel. Fails when the connection closes first, or when no
 * answer comes within {@link SESSION_START_MS}: a channel requested as the
 * connection dies may never be answered, and its caller (holding one of the
 * connection's session slots) would wait for ever.
 */
function openChannel(client: Client, command: string, ms = SESSION_START_MS): Promise<ClientChannel> {
  return new Promise<ClientChannel>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, ch?: ClientChannel) => {
      if (done) {
        if (!err) ch?.close();
        return;
      }
      done = true;
      clearTimeout(timer);
      client.off("close", onClose);
      if (err || !ch) reject(err ?? new Error("no channel"));
      else resolve(ch);
    };
    const onClose = () => finish(new Error("the connection closed while a channel was being opened"));
    const timer = setTimeout(() => finish(new Error(`no answer to a channel request within ${ms} ms`)), ms);
    client.once("close", onClose);
    try {
      client.exec(command, (err, ch) => finish(err ?? undefined, ch));
    } catch (e) {
      finish(e as Error);
    }
  });
}

/** Runs a command on its own channel (outside the channel limit: it holds one for as long as it runs) until its first line. */
async function holdOn(client: Client, command: string, timeoutMs: number, onNote?: NoteListener): Promise<Held> {
  const stream = await openChannel(client, command);
  channels++;
  let stderr = "";
  stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<string>((r) => stream.on("close", (code: number | null) => r(`exited with ${code}: ${stderr.trim()}`)));
  try {
    await firstLine(stream, ended, timeoutMs, onNote);
  } catch (e) {
    stream.close();
    throw e;
  }
  return {
    ended,
    async release() {
      stream.end();
      await ended;
    },
  };
}
