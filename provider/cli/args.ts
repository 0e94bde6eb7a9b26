/**
 * The `hostnet` command line: its commands, their options, and the help
 * generated from them (parsed with `node:util`'s `parseArgs`, strict). Pure:
 * no file, host or engine is touched here.
 */
import { parseArgs } from "node:util";

/** Exit codes of `hostnet` (documented in the README and in `--help`). */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The command failed (a bad spec, a failed host command, a refused confirmation). */
  failure: 1,
  /** The command line itself is wrong (unknown command or option, missing FILE). */
  usage: 2,
  /** `preview --expect-no-changes` found changes (drift, or an edited spec). */
  changes: 3,
} as const;

/** A wrong command line: printed with the command's usage, exit code {@link EXIT.usage}. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: CommandName) {
    super(message);
    this.name = "UsageError";
  }
}

/** One option: its type, short flag, value name and help line. */
interface OptionSpec {
  readonly type: "boolean" | "string";
  /** May be given more than once (each value kept). */
  readonly multiple?: boolean;
  readonly short?: string;
  readonly value?: string;
  readonly help: string;
}

const OPTIONS = {
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", short: "V", help: "print the version (as the first argument)" },
  json: { type: "boolean", help: "print the result as one JSON document on stdout (no engine progress)" },
  debug: { type: "boolean", help: "show stack traces with errors" },
  yes: { type: "boolean", short: "y", help: "do not ask for confirmation (needed without a terminal)" },
  "continue-on-error": { type: "boolean", help: "carry on with independent resources (other hosts) when one fails; the default for up and destroy" },
  "stop-on-error": { type: "boolean", help: "stop at the first failed resource instead" },
  "no-refresh": { type: "boolean", help: "do not read the hosts first (by default up refreshes, so a restarted container or a change by hand is repaired by one up)" },
  format: { type: "string", value: "FORMAT", help: "output format: graph mermaid|dot (default mermaid), inspect table|json (default table)" },
  markdown: { type: "string", value: "OUT.md", help: "also write the preview as Markdown (for a pull request comment), even when it fails" },
  "expect-no-changes": { type: "boolean", help: `exit ${EXIT.changes} when the preview has any change, or inspect finds anything not in sync (a drift check for CI)` },
  stack: { type: "string", value: "NAME", help: "stack name (default: the spec's name)" },
  project: { type: "string", value: "NAME", help: "Pulumi project name (default: the spec's name)" },
  backend: { type: "string", value: "URL", help: "state backend (default file://./.hostnet/state)" },
  "work-dir": { type: "string", value: "DIR", help: "the engine's work directory (default ./.hostnet/work)" },
  host: { type: "string", multiple: true, value: "NAME", help: "only this host of the spec (repeatable): its resources and what depends on them" },
  pulumi: { type: "string", value: "PATH", help: "the Pulumi CLI to run (default: $HOSTNET_PULUMI, the one scripts/setup.sh built, then pulumi on PATH)" },
  parallel: { type: "string", value: "N", help: "resource operations the engine runs at once (default 8 per host, at most 64)" },
  debounce: { type: "string", value: "MS", help: "watch: wait this long after a container's last start before applying (default 500)" },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

const ENGINE: OptionName[] = ["host", "stack", "project", "backend", "work-dir", "pulumi", "parallel"];

/** The commands, what they do, and the options each takes (besides --help, --json and --debug). */
const COMMANDS = {
  validate: { summary: "check a spec file (schema and meaning) without touching any host", options: [] as OptionName[] },
  graph: { summary: "print the spec's topology as a Mermaid or Graphviz graph", options: ["format"] as OptionName[] },
  preview: { summary: "show what up would change on each host (reads the hosts, changes nothing)", options: ["markdown", "expect-no-changes", ...ENGINE] },
  up: { summary: "read the hosts, then make them match the spec", options: ["yes", "continue-on-error", "stop-on-error", "no-refresh", ...ENGINE] },
  inspect: { summary: "read each host and list every object of the spec: in sync, drifted (field: want → have) or missing, and orphans", options: ["format", "expect-no-changes", ...ENGINE] },
  refresh: { summary: "read the hosts and record what is there in the state", options: ["yes", ...ENGINE] },
  destroy: { summary: "delete everything the spec made (only objects carrying this stack's mark)", options: ["yes", "continue-on-error", "stop-on-error", ...ENGINE] },
  watch: { summary: "follow docker events on each host and re-apply a container's interfaces and names when it (re)starts; Ctrl-C stops", options: ["debounce", ...ENGINE] },
} as const;

/** A `hostnet` command. */
export type CommandName = keyof typeof COMMANDS;

const COMMON: OptionName[] = ["help", "json", "debug"];

/** What the command line asks for. */
export type CliRequest =
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly command: CommandName; readonly file: string; readonly options: CliOptions };

/** The options of a command run, typed. */
export interface CliOptions {
  readonly json: boolean;
  readonly debug: boolean;
  readonly yes: boolean;
  /** Whether independent resources carry on when one fails (up and destroy; default true). */
  readonly continueOnError: boolean;
  /** Whether up reads the hosts before it plans (default true; `--no-refresh` turns it off). */
  readonly refresh: boolean;
  /** `--format`: `mermaid`/`dot` for graph, `table`/`json` for inspect (each command's first is its default). */
  readonly format: "mermaid" | "dot" | "table" | "json";
  readonly markdown?: string;
  readonly expectNoChanges: boolean;
  /** `--stack`; the spec's `name` when not given. */
  readonly stack?: string;
  /** `--project`; the spec's `name` when not given. */
  readonly project?: string;
  readonly backend?: string;
  readonly workDir?: string;
  /** `--host` (repeatable): only these hosts of the spec. */
  readonly hosts?: string[];
  /** `--pulumi`: the Pulumi CLI binary (or its install prefix). */
  readonly pulumi?: string;
  readonly parallel?: number;
  /** `--debounce` (watch), milliseconds. */
  readonly debounceMs: number;
}

const isCommand = (c: string): c is CommandName => Object.prototype.hasOwnProperty.call(COMMANDS, c);

function optionLines(names: readonly OptionName[]): string[] {
  const rows = names.map((n) => {
    const o: OptionSpec = OPTIONS[n];
    return [`${o.short ? `-${o.short}, ` : "    "}--${n}${o.value ? ` ${o.value}` : ""}`, o.help];
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`);
}

/** The help of one command, or of `hostnet` itself. */
export function helpText(command?: CommandName): string {
  if (command) {
    const c = COMMANDS[command];
    return [`usage: hostnet ${command} FILE [options]`, "", c.summary, "", "options:", ...optionLines([...c.options, ...COMMON])].join("\n") + "\n";
  }
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return (
    [
      "usage: hostnet <command> FILE [options]",
      "",
      "Apply a pulumi-hostnet spec (bridges, veth pairs, container attachments, NAT) to Linux hosts over SSH.",
      "",
      "commands:",
      ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
      "",
      "options for every command:",
      ...optionLines([...COMMON, "version"]),
      "",
      `exit codes: ${EXIT.ok} ok, ${EXIT.failure} failure, ${EXIT.usage} bad usage, ${EXIT.changes} changes found by preview or inspect --expect-no-changes`,
      "Run `hostnet <command> --help` for a command's options. Colour follows the terminal and NO_COLOR.",
    ].join("\n") + "\n"
  );
}

/** Parses `argv` (without node and the script): help, version, or a command to run; throws {@link UsageError}. */
export function parseCli(argv: readonly string[]): CliRequest {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const about = first === "help" ? rest[0] : undefined;
    if (about !== undefined && !isCommand(about)) throw new UsageError(`unknown command ${JSON.stringify(about)}`);
    return { kind: "help", text: helpText(about) };
  }
  if (first === "--version" || first === "-V") return { kind: "version" };
  if (!isCommand(first)) throw new UsageError(first.startsWith("-") ? `unknown option ${first} (a command comes first)` : `unknown command ${JSON.stringify(first)}`);
  const allowed = [...COMMANDS[first].options, ...COMMON];
  const options = Object.fromEntries(
    allowed.map((n) => {
      const o: OptionSpec = OPTIONS[n];
      return [n, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }];
    }),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ""), first);
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (v.help) return { kind: "help", text: helpText(first) };
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new UsageError(`${first} needs a spec FILE`, first);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, first);
  const formats = first === "inspect" ? (["table", "json"] as const) : (["mermaid", "dot"] as const);
  const format = (v.format as string | undefined) ?? formats[0];
  if (!(formats as readonly string[]).includes(format)) throw new UsageError(`--format must be ${formats.join(" or ")}, got ${JSON.stringify(format)}`, first);
  let parallel: number | undefined;
  if (v.parallel !== undefined) {
    parallel = Number(v.parallel);
    if (!/^\d+$/.test(String(v.parallel)) || parallel < 1) throw new UsageError(`--parallel needs a whole number >= 1, got ${JSON.stringify(v.parallel)}`, first);
  }
  let debounceMs = 500;
  if (v.debounce !== undefined) {
    debounceMs = Number(v.debounce);
    if (!/^\d+$/.test(String(v.debounce)) || debounceMs > 60_000) throw new UsageError(`--debounce needs milliseconds 0-60000, got ${JSON.stringify(v.debounce)}`, first);
  }
  if (v["continue-on-error"] && v["stop-on-error"]) throw new UsageError("--continue-on-error and --stop-on-error exclude each other", first);
  const str = (k: OptionName) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  return {
    kind: "run",
    command: first,
    file,
    options: {
      json: v.json === true,
      debug: v.debug === true,
      yes: v.yes === true,
      continueOnError: v["stop-on-error"] !== true,
      refresh: v["no-refresh"] !== true,
      format: format as CliOptions["format"],
      expectNoChanges: v["expect-no-changes"] === true,
      debounceMs,
      ...(str("stack") !== undefined ? { stack: str("stack") } : {}),
      ...(str("markdown") !== undefined ? { markdown: str("markdown") } : {}),
      ...(str("project") !== undefined ? { project: str("project") } : {}),
      ...(str("backend") !== undefined ? { backend: str("backend") } : {}),
      ...(str("work-dir") !== undefined ? { workDir: str("work-dir") } : {}),
      ...(str("pulumi") !== undefined ? { pulumi: str("pulumi") } : {}),
      ...(parallel !== undefined ? { parallel } : {}),
      ...(Array.isArray(v.host) ? { hosts: [...new Set(v.host)] } : {}),
    },
  };
}
