/**
 * Loading a config: JSON or YAML file, or a named preset, then validated (./validate.ts).
 * Errors are ConfigError (./errors.ts) with one line per problem, naming the field path,
 * the offending value and what would be valid — never a stack trace.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML, { isMap, isScalar, isSeq, LineCounter } from "yaml";
import type { UserConfig } from "./schema.ts";
import { ConfigError, configError, keyLabel, type ConfigProblem } from "./errors.ts";
import { validateConfig } from "./validate.ts";

export { ConfigError, keyLabel };

const here = path.dirname(fileURLToPath(import.meta.url));
export const PRESET_DIR = path.resolve(here, "../../presets");

export function listPresets(): string[] {
  return fs
    .readdirSync(PRESET_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.replace(/\.yaml$/, ""))
    .sort();
}

/**
 * Validate an already-parsed object: the schema, every rule between fields and the capacity of
 * the design (./validate.ts); a config it accepts always generates.
 */
export function parseConfig(input: unknown, source = "(inline)"): UserConfig {
  return validateConfig(input, source);
}

/**
 * Keys that appear twice in one mapping (field path, where).
 * JSON.parse keeps the last of duplicate keys silently; a config must not depend on that.
 */
export function duplicateKeys(text: string): ConfigProblem[] {
  const lc = new LineCounter();
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter: lc });
  } catch {
    return [];
  }
  const out: ConfigProblem[] = [];
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
        if (seen.has(k)) out.push({ field: here.join("."), message: `duplicate key (at line:column ${seen.get(k)} and ${line})`, valid: "each key once in a mapping (JSON.parse would silently keep the last)" });
        else seen.set(k, line);
        walk(it.value, here);
      }
    } else if (isSeq(node)) node.items.forEach((x, i) => walk(x, [...p, String(i)]));
  };
  walk(doc.contents, []);
  return out;
}

/** Numbers that are not finite (YAML .nan / .inf, a JSON number too large). */
function nonFinite(obj: unknown, p: string[] = []): ConfigProblem[] {
  if (typeof obj === "number" && !Number.isFinite(obj)) return [{ field: p.join("."), message: "not a finite number", got: obj, valid: "a finite number (not YAML .nan / .inf, nor a JSON number too large to represent)" }];
  if (Array.isArray(obj)) return obj.flatMap((x, i) => nonFinite(x, [...p, String(i)]));
  if (obj && typeof obj === "object") return Object.entries(obj).flatMap(([k, v]) => nonFinite(v, [...p, keyLabel(k)]));
  return [];
}

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
  if (dups.length) throw configError(source, dups);
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
  if (bad.length) throw configError(source, bad);
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
