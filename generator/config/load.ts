/**
 * Loading a config: JSON or YAML file, or a named preset, then validated (./validate.ts).
 * Errors are ConfigError (./errors.ts) with one line per problem, naming the field path,
 * the offending value and what would be valid — never a stack trace.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import type { UserConfig } from "./schema.ts";
import { ConfigError, keyLabel } from "./errors.ts";
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

/** Parse JSON or YAML text (YAML is a superset of JSON, but JSON errors read better). */
export function parseConfigText(text: string, source: string): UserConfig {
  let obj: unknown;
  const trimmed = text.trimStart();
  try {
    if (trimmed.startsWith("{") || source.endsWith(".json")) obj = JSON.parse(text);
    else obj = YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`cannot read config ${source}: not valid ${source.endsWith(".json") || trimmed.startsWith("{") ? "JSON" : "YAML"} (${(e as Error).message.split("\n")[0]})`);
  }
  return parseConfig(obj ?? {}, source);
}

/** Load a config file, or a preset by name (`tiny`, `cifar`, `default`, ...). */
export function loadConfig(ref: string): UserConfig {
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
