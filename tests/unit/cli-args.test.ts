import { strict as assert } from "node:assert";
import { EXIT, UsageError, helpText, parseCli } from "../../provider/cli/args";

describe("unit: the hostnet command line", () => {
  it("prints help for no arguments, --help, -h, `help` and `help COMMAND`, listing every command and the exit codes", () => {
    for (const argv of [[], ["--help"], ["-h"], ["help"]]) {
      const r = parseCli(argv);
      assert.equal(r.kind, "help");
      if (r.kind !== "help") return;
      for (const c of ["validate", "graph", "preview", "up", "refresh", "destroy", "--version", "--json", "exit codes: 0 ok, 1 failure, 2 bad usage, 3 changes"]) assert.ok(r.text.includes(c), `${JSON.stringify(argv)}: help mentions ${c}`);
    }
    const up = parseCli(["help", "up"]);
    assert.equal(up.kind === "help" && up.text.startsWith("usage: hostnet up FILE [options]"), true);
  });

  it("prints a command's own options for COMMAND --help, even without FILE", () => {
    const r = parseCli(["up", "--help"]);
    assert.equal(r.kind, "help");
    if (r.kind !== "help") return;
    for (const o of ["--yes", "--continue-on-error", "--stop-on-error", "--stack NAME", "--parallel N", "--json", "--debug"]) assert.ok(r.text.includes(o), `up --help lists ${o}`);
    assert.ok(!r.text.includes("--markdown"), "up --help lists only up's options");
    const p = parseCli(["preview", "x.yaml", "-h"]);
    assert.ok(p.kind === "help" && p.text.includes("--expect-no-changes") && p.text.includes("--markdown OUT.md"));
    assert.equal(helpText("validate").includes("--stack"), false, "validate does not run the engine");
  });

  it("asks for the version with --version and -V", () => {
    assert.deepEqual(parseCli(["--version"]), { kind: "version" });
    assert.deepEqual(parseCli(["-V"]), { kind: "version" });
  });

  it("parses a command, its FILE and typed options; up and destroy carry on across hosts unless --stop-on-error", () => {
    const r = parseCli(["up", "net.yaml", "--yes", "--stack", "prod", "--parallel", "16", "--json"]);
    assert.deepEqual(r, { kind: "run", command: "up", file: "net.yaml", options: { json: true, debug: false, yes: true, continueOnError: true, refresh: true, format: "mermaid", expectNoChanges: false, debounceMs: 500, stack: "prod", parallel: 16 } });
    const s = parseCli(["destroy", "--stop-on-error", "net.yaml", "-y"]);
    assert.ok(s.kind === "run" && s.options.continueOnError === false && s.options.yes && s.file === "net.yaml");
    assert.ok((parseCli(["up", "n.yaml", "--continue-on-error"]) as { options: { continueOnError: boolean } }).options.continueOnError);
    const p = parseCli(["preview", "n.yaml", "--expect-no-changes", "--markdown", "pr.md", "--work-dir", "w", "--backend", "file:///tmp/s", "--project", "p"]);
    assert.ok(p.kind === "run" && p.options.expectNoChanges && p.options.markdown === "pr.md" && p.options.workDir === "w" && p.options.backend === "file:///tmp/s" && p.options.project === "p");
    assert.equal((parseCli(["up", "n.yaml", "--no-refresh"]) as { options: { refresh: boolean } }).options.refresh, false, "up refreshes first unless --no-refresh");
    assert.throws(() => parseCli(["preview", "n.yaml", "--no-refresh"]), UsageError);
    const g = parseCli(["graph", "n.yaml", "--format", "dot"]);
    assert.ok(g.kind === "run" && g.options.format === "dot");
  });

  it("refuses a wrong command line with a UsageError naming the problem (exit code 2)", () => {
    assert.equal(EXIT.usage, 2);
    const cases: [string[], RegExp][] = [
      [["frobnicate", "x"], /unknown command "frobnicate"/],
      [["--frob"], /unknown option --frob/],
      [["up"], /up needs a spec FILE/],
      [["up", "a.yaml", "b.yaml"], /unexpected argument "b.yaml"/],
      [["up", "a.yaml", "--frob"], /Unknown option '--frob'/],
      [["validate", "a.yaml", "--yes"], /Unknown option '--yes'/],
      [["preview", "a.yaml", "--stack"], /--stack.*argument missing/],
      [["graph", "a.yaml", "--format", "svg"], /--format must be mermaid or dot, got "svg"/],
      [["up", "a.yaml", "--parallel", "0"], /--parallel needs a whole number >= 1/],
      [["up", "a.yaml", "--parallel", "2x"], /--parallel needs a whole number >= 1/],
      [["up", "a.yaml", "--continue-on-error", "--stop-on-error"], /exclude each other/],
      [["help", "nope"], /unknown command "nope"/],
    ];
    for (const [argv, message] of cases) assert.throws(() => parseCli(argv), (e: unknown) => e instanceof UsageError && message.test(e.message), JSON.stringify(argv));
  });
});
