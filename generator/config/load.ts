/**
 * Loading and validating a config: JSON or YAML file, or a named preset.
 * Errors are ConfigError with one line per problem, naming the field path,
 * the offending value and what would be valid — never a stack trace.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML, { isMap, isScalar, isSeq, LineCounter } from "yaml";
import { z } from "zod";
import { configSchema, type UserConfig } from "./schema.ts";

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const PRESET_DIR = path.resolve(here, "../../presets");

export function listPresets(): string[] {
  return fs
    .readdirSync(PRESET_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.replace(/\.yaml$/, ""))
    .sort();
}

function getAt(obj: unknown, p: PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of p) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function show(v: unknown): string {
  if (v === undefined) return "(missing)";
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** Turn zod issues into "field.path: message (got value)" lines. */
export function formatIssues(err: z.ZodError, input: unknown, source: string): ConfigError {
  const lines: string[] = [];
  for (const iss of err.issues) {
    const base = iss.path.map(String).join(".");
    if (iss.code === "unrecognized_keys") {
      const parent = getAt(configSchema, []) && base;
      for (const k of iss.keys) {
        const field = parent ? `${parent}.${keyLabel(k)}` : keyLabel(k);
        lines.push(`${field}: unknown key${validKeysHint(iss.path)}`);
      }
      continue;
    }
    const field = base || "(config)";
    const got = getAt(input, iss.path);
    lines.push(`${field}: ${iss.message} (got ${show(got)})`);
  }
  // one problem: one line; several: one line each under the file name
  const msg = lines.length === 1 ? `invalid config ${source}: ${lines[0]}` : `invalid config ${source}:\n  ${lines.join("\n  ")}`;
  return new ConfigError(msg, lines);
}

/** A key as it appears in a field path: quoted (JSON) unless it is a plain identifier, so "" or "a b" stay visible. */
export function keyLabel(k: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k) ? k : JSON.stringify(k);
}

function validKeysHint(p: PropertyKey[]): string {
  let s: z.ZodType = configSchema;
  for (const k of p) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(k)];
    else return "";
    if (!s) return "";
  }
  s = unwrap(s);
  if (s instanceof z.ZodObject) return `; valid keys here: ${Object.keys(s.shape).join(", ")}`;
  return "";
}

function unwrap(s: z.ZodType): z.ZodType {
  // peel defaults/optionals/pipes to reach the object schema
  for (let i = 0; i < 8; i++) {
    const def = (s as unknown as { def?: { type?: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (!def) break;
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

/** Validate an already-parsed object. */
export function parseConfig(input: unknown, source = "(inline)"): UserConfig {
  if (input === null || typeof input !== "object" || Array.isArray(input))
    throw new ConfigError(`invalid config ${source}: the top level must be a mapping with name, model, hardware, integration`);
  const r = configSchema.safeParse(input);
  if (!r.success) throw formatIssues(r.error, input, source);
  return r.data;
}

/**
 * Keys that appear twice in one mapping, as "field.path: duplicate key (lines a and b)" lines.
 * JSON.parse keeps the last of duplicate keys silently; a config must not depend on that.
 */
export function duplicateKeys(text: string): string[] {
  const lc = new LineCounter();
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter: lc });
  } catch {
    return [];
  }
  const out: string[] = [];
  const lineOf = (n: unknown) => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    if (!r) return "?";
    const { line, col } = lc.linePos(r[0]);
    return `${line}:${col}`;
  };
  const walk = (node: unknown, p: string[]) => {
    if (isMap(node)) {
      const seen = new Map<string, string>();
      for (const it of node.items) {
        const k = isScalar(it.key) ? String(it.key.value) : String(it.key);
        const line = lineOf(it.key);
        const here = [...p, keyLabel(k)];
        if (seen.has(k)) out.push(`${here.join(".")}: duplicate key (at line:column ${seen.get(k)} and ${line}); each key may appear once`);
        else seen.set(k, line);
        walk(it.value, here);
      }
    } else if (isSeq(node)) node.items.forEach((x, i) => walk(x, [...p, String(i)]));
  };
  walk(doc.contents, []);
  return out;
}

/** Numbers that are not finite (YAML .nan / .inf), as "field.path: ..." lines. */
function nonFinite(obj: unknown, p: string[] = []): string[] {
  if (typeof obj === "number" && !Number.isFinite(obj))
    return [`${p.join(".") || "(config)"}: not a finite number (got ${Number.isNaN(obj) ? "NaN, e.g. YAML .nan" : `${obj < 0 ? "-" : ""}infinity, e.g. YAML .inf or a JSON number too large`}); write a finite number`];
  if (Array.isArray(obj)) return obj.flatMap((x, i) => nonFinite(x, [...p, String(i)]));
  if (obj && typeof obj === "object") return Object.entries(obj).flatMap(([k, v]) => nonFinite(v, [...p, keyLabel(k)]));
  return [];
}

const problems = (source: string, lines: string[]) =>
  new ConfigError(lines.length === 1 ? `invalid config ${source}: ${lines[0]}` : `invalid config ${source}:\n  ${lines.join("\n  ")}`, lines);

/** Parse JSON or YAML text (YAML is a superset of JSON, but JSON errors read better). */
export function parseConfigText(text: string, source: string): UserConfig {
  let obj: unknown;
  const trimmed = text.trimStart();
  const isJson = trimmed.startsWith("{") || source.endsWith(".json");
  if (isJson) {
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`cannot read config ${source}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
    }
  } else {
    let docs: YAML.Document.Parsed[];
    try {
      docs = YAML.parseAllDocuments(text) as YAML.Document.Parsed[];
    } catch (e) {
      throw new ConfigError(`cannot read config ${source}: not valid YAML (${(e as Error).message.split("\n")[0]})`);
    }
    const nonEmpty = Array.isArray(docs) ? docs.filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null)) : [];
    if (nonEmpty.length > 1) {
      const lc = new LineCounter();
      YAML.parseAllDocuments(text, { lineCounter: lc });
      const start = (nonEmpty[1].contents as { range?: number[] } | null)?.range?.[0];
      throw new ConfigError(
        `cannot read config ${source}: it holds ${nonEmpty.length} YAML documents (separated by '---'${start !== undefined ? `; the second starts at line ${lc.linePos(start).line}` : ""}); a config is one document: keep one, or put each in its own file`,
      );
    }
  }
  const dups = duplicateKeys(text);
  if (dups.length) throw problems(source, dups);
  if (!isJson) {
    try {
      const docs = YAML.parseAllDocuments(text) as YAML.Document.Parsed[];
      const err = docs.flatMap((d) => d.errors)[0];
      if (err) throw err;
      const doc = docs.find((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null));
      obj = doc ? doc.toJS() : null;
    } catch (e) {
      throw new ConfigError(`cannot read config ${source}: not valid YAML (${(e as Error).message.split("\n")[0]})`);
    }
  }
  const bad = nonFinite(obj);
  if (bad.length) throw problems(source, bad);
  return parseConfig(obj ?? {}, source);
}

/** Load a config file, or a preset by name (`tiny`, `cifar`, `default`, ...). */
export function loadConfig(ref: string): UserConfig {
  if (fs.existsSync(ref) && fs.statSync(ref).isDirectory()) {
    let found: string[] = [];
    try {
      found = fs.readdirSync(ref).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    } catch {
      /* unreadable: say it is a folder anyway */
    }
    throw new ConfigError(
      `cannot read config ${ref}: it is a folder, not a config file; give a .yaml or .json file${found.length ? ` (in it: ${found.slice(0, 5).join(", ")}${found.length > 5 ? ", ..." : ""})` : ""} or a preset (${listPresets().join(", ")})`,
    );
  }
  if (fs.existsSync(ref) && fs.statSync(ref).isFile()) {
    const buf = fs.readFileSync(ref);
    const text = buf.toString("utf8");
    // binary data (NUL bytes, or bytes that are not UTF-8) is neither JSON nor YAML, whatever a YAML parser makes of it
    if (buf.includes(0) || text.includes("\uFFFD")) throw new ConfigError(`cannot read config ${ref}: not a JSON or YAML text file (binary data)`);
    return parseConfigText(text, ref);
  }
  const preset = path.join(PRESET_DIR, `${ref}.yaml`);
  if (/^[A-Za-z0-9_-]+$/.test(ref) && fs.existsSync(preset)) return parseConfigText(fs.readFileSync(preset, "utf8"), `preset '${ref}'`);
  throw new ConfigError(`no config file '${ref}' and no preset of that name; presets: ${listPresets().join(", ")}`);
}
