/** Picks the runner for a connection. */
import { ConnectionSpec, checkConnection } from "./connection";
import { LocalRunner } from "./local";
import { NetnsRunner } from "./netns";
import { Runner, SudoRunner } from "./runner";
import { SshRunner } from "./ssh";
import { withTestHooks } from "./faults";

/** Returns the runner for a validated connection: local, a named netns, or SSH (pooled per host). */
export function runnerFor(connection: ConnectionSpec): Runner {
  const c = checkConnection(connection);
  const base: Runner = c.local ? new LocalRunner() : c.netns ? new NetnsRunner(c.netns) : new SshRunner(c);
  // Over SSH the session's shell runs under sudo (ssh.ts); local and namespace runners prefix each command.
  const runner = c.sudo && (c.local || c.netns) ? new SudoRunner(base, c.user ?? "root") : base;
  return withTestHooks(runner);
}

export * from "./connection";
export * from "./errors";
export * from "./runner";
export { shellQuote, shellJoin } from "./quote";
export { sshConnectionCount, closeAllSsh } from "./ssh";
