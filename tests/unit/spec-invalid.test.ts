import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec } from "../../provider/spec/load";
import { SpecError } from "../../provider/spec/errors";
import { REPO_ROOT } from "../helpers/paths";

const DIR = path.join(REPO_ROOT, "tests", "fixtures", "specs", "invalid");

/** Expected problems of a fixture: every line marked `# <- message`. */
export function expectations(file: string): { line: number; message: string }[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .flatMap((l, i) => {
      const m = /# <- (.*)$/.exec(l);
      return m ? [{ line: i + 1, message: m[1].trim() }] : [];
    });
}

describe("unit: invalid spec corpus (tests/fixtures/specs/invalid)", () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();
  it("has at least 30 invalid specs", () => assert.ok(files.length >= 30, `${files.length} fixtures`));
  for (const f of files) {
    it(`${f}: every problem at its line with its message, all at once`, () => {
      const file = path.join(DIR, f);
      const want = expectations(file);
      assert.ok(want.length > 0, "the fixture marks its expected problems");
      assert.throws(() => loadSpec(file), (e: unknown) => {
        assert.ok(e instanceof SpecError, String(e));
        for (const w of want) {
          assert.ok(e.problems.some((p) => p.line === w.line && p.message.includes(w.message)), `expected line ${w.line}: ${w.message}\ngot:\n${e.message}`);
        }
        assert.equal(e.problems.length, want.length, `one problem per marked line:\n${e.message}`);
        assert.ok(e.problems.every((p) => p.file === file && p.column >= 1));
        return true;
      });
    });
  }
});
