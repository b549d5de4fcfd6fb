/**
 * The one format of every config error (`st3d validate`, `generate`, `run` ...):
 *
 *   invalid config <source>: <field.path>: <what is wrong> (got <value>); valid: <what would be valid>
 *
 * one line per problem (several problems: one per line under `invalid config <source>:`).
 * The field path names the key as the user wrote it (`model.lif.qkv.threshold`, a quoted key
 * when it is not an identifier); `got` and `valid` are left out when they say nothing.
 * Build one with configError(source, problems); the lines are in `ConfigError.problems`,
 * the structured problems in `ConfigError.issues`.
 */

/** One problem of a config. */
export interface ConfigProblem {
  /** field path, e.g. "model.heads" (empty: the document as a whole) */
  field: string;
  /** what is wrong, in words */
  message: string;
  /** the offending value (shown as JSON, shortened); leave out when there is none */
  got?: unknown;
  /** what would be valid (a range, the options, the limit and how to reach it) */
  valid?: string;
}

export class ConfigError extends Error {
  /** one line per problem, as in the message */
  readonly problems: string[];
  readonly issues: ConfigProblem[];
  constructor(message: string, problems: string[] = [message], issues: ConfigProblem[] = []) {
    super(message);
    this.name = "ConfigError";
    this.problems = problems;
    this.issues = issues;
  }
}

/** A value as shown in a message: JSON, at most 60 characters. */
export function showValue(v: unknown): string {
  if (v === undefined) return "(missing)";
  let s: string;
  try {
    s = typeof v === "bigint" ? `${v}` : typeof v === "number" && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** A key as it appears in a field path: quoted (JSON) unless it is a plain identifier, so "" or "a b" stay visible. */
export function keyLabel(k: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k) ? k : JSON.stringify(k);
}

/** "<field>: <message> (got <value>); valid: <valid>" */
export function formatProblem(p: ConfigProblem): string {
  const got = "got" in p ? ` (got ${showValue(p.got)})` : "";
  const valid = p.valid ? `; valid: ${p.valid}` : "";
  return `${p.field || "(config)"}: ${p.message}${got}${valid}`;
}

/** The ConfigError of one or more problems of the config read from `source` (a path or "preset 'x'"). */
export function configError(source: string, problems: ConfigProblem[]): ConfigError {
  const lines = problems.map(formatProblem);
  const msg = lines.length === 1 ? `invalid config ${source}: ${lines[0]}` : `invalid config ${source}:\n  ${lines.join("\n  ")}`;
  return new ConfigError(msg, lines, problems);
}
