/**
 * The one place where an argv array becomes a shell string. Only the SSH
 * runner calls it: the remote side runs the user's login shell, which needs a
 * single string, so each argument is quoted exactly once with the POSIX
 * single-quote rule (`'` becomes `'\''`).
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell so that it reaches the program byte for byte. */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) {
    throw new TypeError("an argument contains a NUL byte, which no command line can carry");
  }
  if (arg !== "" && SAFE.test(arg)) return arg;
  return "'" + arg.replace(/'/g, "'\\''") + "'";
}

/** Joins an argv array into one shell command line, quoting every element once. */
export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError("empty argv");
  return argv.map(shellQuote).join(" ");
}
