/** Typed errors of the host layer. Messages never contain secrets. */

/** Base class for every error pulumi-hostnet raises on purpose. */
export class HostnetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command ran and exited non-zero (or could not be started, `exitCode` -1). */
export class CommandError extends HostnetError {
  /** Host identity (`host:port`, `local`, `netns:NAME`). */
  readonly host: string;
  /** The command as run, before any quoting. */
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(init: { host: string; argv: readonly string[]; exitCode: number; stdout: string; stderr: string; context?: string }) {
    const what = init.context ? `${init.context}: ` : "";
    const err = init.stderr.trim() || init.stdout.trim() || "(no output)";
    super(`${what}command \`${init.argv.join(" ")}\` failed on ${init.host} with exit code ${init.exitCode}: ${err}`);
    this.host = init.host;
    this.argv = init.argv;
    this.exitCode = init.exitCode;
    this.stdout = init.stdout;
    this.stderr = init.stderr;
  }
}

/** The host could not be reached or authenticated. */
export class ConnectionError extends HostnetError {
  readonly host: string;
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(`cannot connect to ${host}: ${message}`, options);
    this.host = host;
  }
}

/** The host offered a key that is not the pinned one (or none is known): never connected, nothing sent. */
export class HostKeyError extends ConnectionError {}

/**
 * The connection to a host was lost (sshd gone, network cut) while a command
 * was running or about to run: the command may or may not have taken effect.
 */
export class ConnectionLostError extends HostnetError {
  readonly host: string;
  readonly argv: readonly string[];
  constructor(host: string, detail: string, argv: readonly string[] = []) {
    const cmd = argv.length > 0 ? ` while \`${argv.join(" ")}\` was running` : "";
    super(`lost the connection to ${host}${cmd} (${detail}): that command may or may not have taken effect; the next \`up\` reads the host again and converges`);
    this.host = host;
    this.argv = argv;
  }
}

/** Input that fails validation, reported before any host is contacted. */
export class ValidationError extends HostnetError {
  /** The input field that is wrong, e.g. `addresses[1]`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** Replaces every occurrence of each secret in `text` with `[secret]`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join("[secret]");
  }
  return out;
}
