/**
 * loadSpec: YAML → schema (ajv, strict, allErrors) → semantic pass; every
 * problem placed at file:line:column.
 *
 * A spec is first read with js-yaml (core schema, as `yaml` reads it: no
 * timestamps, no merge keys), ten times faster on large files and without a
 * document of positions; only a spec with a problem is parsed again with
 * `yaml`'s document, which places each problem at its line and column.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import * as jsYaml from "js-yaml";
import { LineCounter, parseDocument } from "yaml";
import { SpecError, SpecProblem } from "./errors";
import { DataPath, locate, pathText } from "./locate";
import { PathProblem, semanticProblems } from "./semantic";
import { hostFileProblems } from "./files";
import { LoadedSpec, Spec } from "./types";

let validator: ValidateFunction | undefined;

/** Path of the bundled schema. */
export function schemaPath(): string {
  return path.resolve(__dirname, "..", "..", "..", "schema", "hostnet.schema.json");
}

function validate(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ strict: true, allErrors: true, verbose: true });
    validator = ajv.compile(JSON.parse(fs.readFileSync(schemaPath(), "utf8")));
  }
  return validator;
}

function segments(instancePath: string): (string | number)[] {
  return instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function describe(e: ErrorObject): { path: DataPath; message: string; atKey: boolean } {
  const at = segments(e.instancePath);
  const parent = (e.parentSchema ?? {}) as { description?: string; properties?: Record<string, unknown> };
  const got = JSON.stringify(e.data);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { path: at, message: `missing required field "${p.missingProperty}"`, atKey: false };
    case "additionalProperties":
      return { path: [...at, String(p.additionalProperty)], message: `unknown field "${p.additionalProperty}"; expected one of: ${Object.keys(parent.properties ?? {}).join(", ")}`, atKey: true };
    case "propertyNames":
      return { path: [...at, String(p.propertyName)], message: `invalid name "${p.propertyName}"`, atKey: true };
    case "pattern":
      if (e.propertyName !== undefined) {
        return { path: [...at, e.propertyName], message: `expected ${parent.description ? lowerFirst(parent.description.replace(/\.$/, "")) : `a name matching ${p.pattern}`}, got ${JSON.stringify(e.propertyName)}`, atKey: true };
      }
      return { path: at, message: `expected ${parent.description ? lowerFirst(parent.description.replace(/\.$/, "")) : `a value matching ${p.pattern}`}, got ${got}`, atKey: false };
    case "type":
      return { path: at, message: `expected ${Array.isArray(p.type) ? p.type.join(" or ") : p.type}, got ${got}`, atKey: false };
    case "minimum":
    case "maximum":
      return { path: at, message: `expected a number ${p.comparison} ${p.limit}, got ${got}`, atKey: false };
    case "enum":
      return { path: at, message: `expected one of ${(p.allowedValues as unknown[]).map(String).join(", ")}, got ${got}`, atKey: false };
    case "oneOf":
      return { path: at, message: `expected ${parent.description ? lowerFirst(parent.description.replace(/\.$/, "")) : "one of the allowed forms"}, got ${got}`, atKey: false };
    default:
      return { path: at, message: `${e.message ?? e.keyword}${e.data !== undefined ? `, got ${got}` : ""}`, atKey: false };
  }
}

/** What a schema-valid spec gets wrong beyond the schema: its meaning, and its hosts' key files (relative to the spec's folder). */
function meaningProblems(spec: Spec, file: string): PathProblem[] {
  return [...semanticProblems(spec), ...hostFileProblems(spec, path.dirname(path.resolve(file)))];
}

/** The spec in `text` read by the fast parser, when it has no problem at all (then no positions are needed); else undefined. */
function fastCheck(text: string, file: string): Spec | undefined {
  let data: unknown;
  try {
    data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
  } catch {
    // What js-yaml refuses, `yaml` reports with its position (or accepts: then it decides).
    return undefined;
  }
  const v = validate();
  return v(data) && meaningProblems(data as Spec, file).length === 0 ? (data as Spec) : undefined;
}

/** Parses and checks spec text; throws {@link SpecError} with every problem. */
export function parseSpec(text: string, file: string): LoadedSpec {
  const fast = fastCheck(text, file);
  if (fast) return { file, spec: fast };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems: SpecProblem[] = [];
  for (const err of doc.errors) {
    const pos = lines.linePos(err.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, path: "", message: `YAML: ${err.message.split("\n")[0]}` });
  }
  if (problems.length > 0) throw new SpecError(problems);
  const data = doc.toJS() as unknown;
  const place = (p: DataPath, message: string, atKey: boolean) => {
    const { line, column } = locate(doc, lines, p, atKey);
    problems.push({ file, line, column, path: pathText(p), message });
  };
  const v = validate();
  if (!v(data)) {
    const errors = v.errors ?? [];
    const oneOfPaths = new Set(errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath));
    for (const e of errors) {
      if (e.keyword !== "oneOf" && oneOfPaths.has(e.instancePath)) continue;
      if (e.keyword === "if" || (e.keyword === "propertyNames" && errors.some((x) => x.propertyName !== undefined && x.instancePath === e.instancePath))) continue;
      const d = describe(e);
      place(d.path, d.message, d.atKey);
    }
  } else {
    for (const p of meaningProblems(data as Spec, file)) place(p.path, p.message, p.atKey ?? false);
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new SpecError(problems);
  }
  return { file, spec: data as Spec };
}

/** Reads, parses and checks a spec file. Nothing is contacted. */
export function loadSpec(file: string): LoadedSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError([{ file, line: 1, column: 1, path: "", message: `cannot read the file: ${(e as Error).message}` }]);
  }
  return parseSpec(text, file);
}
