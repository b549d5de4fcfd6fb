/**
 * Liberty (.lib) reading: a small parser of the group / attribute syntax, and the facts st3d
 * takes from a cell library: every cell's area, leakage, pins (direction, capacitance,
 * function), its kind (combinational, flip-flop, latch, three-state, tie), the library's units
 * and nominal voltage.  The timing and power tables are not interpreted here: OpenSTA reads
 * the liberty itself for timing and power (generator/physical/sta.ts).
 */
import crypto from "node:crypto";
import fs from "node:fs";

export interface LibGroup {
  type: string;
  args: string[];
  attrs: Map<string, string>;
  /** complex attributes `name (a, b);` */
  complex: Map<string, string[][]>;
  groups: LibGroup[];
}

class Lexer {
  i = 0;
  constructor(readonly s: string) {}
  skip(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) return;
      if (c === " " || c === "\t" || c === "\r" || c === "\n") this.i++;
      else if (c === "\\" && (s[this.i + 1] === "\n" || (s[this.i + 1] === "\r" && s[this.i + 2] === "\n"))) this.i += s[this.i + 1] === "\n" ? 2 : 3;
      else if (c === "/" && s[this.i + 1] === "*") {
        const e = s.indexOf("*/", this.i + 2);
        this.i = e < 0 ? s.length : e + 2;
      } else if (c === "/" && s[this.i + 1] === "/") {
        const e = s.indexOf("\n", this.i);
        this.i = e < 0 ? s.length : e + 1;
      } else return;
    }
  }
  /** next token: punctuation, a quoted string (unquoted), or a word */
  next(): { t: string; quoted: boolean } | null {
    this.skip();
    const s = this.s;
    if (this.i >= s.length) return null;
    const c = s[this.i];
    if ("(){}:;,".includes(c)) {
      this.i++;
      return { t: c, quoted: false };
    }
    if (c === '"') {
      let j = this.i + 1;
      let out = "";
      while (j < s.length && s[j] !== '"') {
        if (s[j] === "\\" && s[j + 1] === "\n") j += 2;
        else if (s[j] === "\\" && s[j + 1] === "\r") j += 3;
        else out += s[j++];
      }
      this.i = j + 1;
      return { t: out, quoted: true };
    }
    let j = this.i;
    while (j < s.length && !" \t\r\n(){}:;,\"".includes(s[j])) {
      if (s[j] === "\\" && (s[j + 1] === "\n" || s[j + 1] === "\r")) break;
      j++;
    }
    const t = s.slice(this.i, j);
    this.i = j;
    return { t, quoted: false };
  }
  peek(): string | null {
    const save = this.i;
    const tok = this.next();
    this.i = save;
    return tok ? tok.t : null;
  }
  line(): number {
    return this.s.slice(0, this.i).split("\n").length;
  }
}

export class LibertyError extends Error {
  override name = "LibertyError";
}

/** Parse liberty text into its group tree (the outer `library (...) { ... }` group). */
export function parseLiberty(text: string, file = "<liberty>"): LibGroup {
  const lx = new Lexer(text);
  const fail = (msg: string): never => {
    throw new LibertyError(`${file}:${lx.line()}: ${msg}`);
  };
  const readArgs = (): string[] => {
    const args: string[] = [];
    let cur = "";
    for (;;) {
      const tok = lx.next();
      if (!tok) fail("unexpected end of file in an argument list");
      if (!tok!.quoted && tok!.t === ")") {
        if (cur !== "" || args.length) args.push(cur.trim());
        return args;
      }
      if (!tok!.quoted && tok!.t === ",") {
        args.push(cur.trim());
        cur = "";
      } else cur += (cur ? " " : "") + tok!.t;
    }
  };
  const readGroupBody = (g: LibGroup): void => {
    for (;;) {
      const tok = lx.next();
      if (!tok) fail(`unexpected end of file in group ${g.type}`);
      if (tok!.t === "}" && !tok!.quoted) return;
      if (tok!.t === ";" && !tok!.quoted) continue;
      const name = tok!.t;
      const sep = lx.next();
      if (!sep) fail(`unexpected end of file after '${name}'`);
      if (sep!.t === ":") {
        // simple attribute: value tokens up to ';' (or a newline-terminated value without ';')
        let value = "";
        for (;;) {
          const save = lx.i;
          const v = lx.next();
          if (!v) break;
          if (!v.quoted && v.t === ";") break;
          if (!v.quoted && v.t === "}") {
            lx.i = save;
            break;
          }
          value += (value ? " " : "") + v.t;
          // a value ended by a newline (no ';'): stop when the next token starts a new statement
          const rest = lx.s.slice(lx.i, lx.s.indexOf("\n", lx.i) < 0 ? lx.s.length : lx.s.indexOf("\n", lx.i));
          if (!rest.trim()) {
            const nx = lx.peek();
            if (nx !== ";") break;
          }
        }
        g.attrs.set(name, value);
      } else if (sep!.t === "(") {
        const args = readArgs();
        const after = lx.peek();
        if (after === "{") {
          lx.next();
          const child: LibGroup = { type: name, args, attrs: new Map(), complex: new Map(), groups: [] };
          readGroupBody(child);
          g.groups.push(child);
        } else {
          if (after === ";") lx.next();
          const list = g.complex.get(name) ?? [];
          list.push(args);
          g.complex.set(name, list);
        }
      } else fail(`expected ':' or '(' after '${name}', got '${sep!.t}'`);
    }
  };
  const head = lx.next();
  if (!head || head.t !== "library") fail("a liberty file starts with 'library (<name>) {'");
  if (lx.next()?.t !== "(") fail("expected '(' after 'library'");
  const args = readArgs();
  if (lx.next()?.t !== "{") fail("expected '{' after the library name");
  const lib: LibGroup = { type: "library", args, attrs: new Map(), complex: new Map(), groups: [] };
  readGroupBody(lib);
  return lib;
}

export type CellKind = "comb" | "ff" | "latch" | "tristate" | "tie" | "macro" | "other";

export interface LibPin {
  name: string;
  direction: "input" | "output" | "inout" | "internal";
  /** bus width (1 for a pin) */
  width: number;
  /** input capacitance in pF (library units converted) */
  capPf: number;
  function?: string;
  clock: boolean;
}

export interface LibCell {
  name: string;
  area: number;
  /** cell_leakage_power in nW */
  leakageNw: number;
  pins: LibPin[];
  kind: CellKind;
  dontUse: boolean;
}

export interface Liberty {
  name: string;
  file: string;
  /** sha256 of the file (cache keys) */
  hash: string;
  /** 1 library time unit in ns */
  timeUnitNs: number;
  /** 1 library capacitance unit in pF */
  capUnitPf: number;
  /** 1 library leakage unit in nW */
  leakageUnitNw: number;
  voltage: number;
  cells: Map<string, LibCell>;
}

function unitScale(v: string | undefined, base: Record<string, number>, what: string, file: string): number {
  if (v === undefined) return 1;
  const m = v.replace(/"/g, "").trim().match(/^([0-9.eE+-]*)\s*([A-Za-z]+)$/);
  if (!m) throw new LibertyError(`${file}: cannot read ${what} '${v}'`);
  const k = m[2].toLowerCase();
  if (!(k in base)) throw new LibertyError(`${file}: unknown ${what} '${v}'`);
  return (m[1] ? Number(m[1]) : 1) * base[k];
}

const TIME = { ps: 1e-3, ns: 1, us: 1e3 };
const LEAK = { pw: 1e-3, nw: 1, uw: 1e3, mw: 1e6, w: 1e9 };
const CAP = { ff: 1e-3, pf: 1, nf: 1e3 };

function cellKind(g: LibGroup, pins: LibPin[]): CellKind {
  if (g.attrs.get("is_macro_cell") === "true" || g.groups.some((x) => x.type === "memory")) return "macro";
  if (g.groups.some((x) => x.type === "ff" || x.type === "ff_bank")) return "ff";
  if (g.groups.some((x) => x.type === "latch" || x.type === "latch_bank")) return "latch";
  const outs = pins.filter((p) => p.direction === "output");
  const pinGroups = g.groups.filter((x) => x.type === "pin" || x.type === "bus");
  if (pinGroups.some((p) => p.attrs.has("three_state"))) return "tristate";
  const ins = pins.filter((p) => p.direction === "input");
  if (outs.length === 1 && ins.length === 0 && /^[01]$/.test((outs[0].function ?? "").trim())) return "tie";
  if (outs.length && outs.every((p) => p.function !== undefined)) return "comb";
  return "other";
}

/** Read a liberty file: cells, units, nominal voltage. */
export function readLiberty(file: string): Liberty {
  const text = fs.readFileSync(file, "utf8");
  const lib = parseLiberty(text, file);
  const timeUnitNs = unitScale(lib.attrs.get("time_unit"), TIME, "time_unit", file);
  const leakageUnitNw = unitScale(lib.attrs.get("leakage_power_unit"), LEAK, "leakage_power_unit", file);
  const capArgs = lib.complex.get("capacitive_load_unit")?.[0];
  const capUnitPf = capArgs ? Number(capArgs[0]) * (CAP[capArgs[1]?.toLowerCase() as keyof typeof CAP] ?? NaN) : 1;
  if (!Number.isFinite(capUnitPf)) throw new LibertyError(`${file}: cannot read capacitive_load_unit`);
  const voltage = Number(lib.attrs.get("nom_voltage") ?? NaN);
  const cells = new Map<string, LibCell>();
  for (const g of lib.groups) {
    if (g.type !== "cell") continue;
    const name = g.args[0];
    const pins: LibPin[] = [];
    for (const p of g.groups) {
      if (p.type !== "pin" && p.type !== "bus") continue;
      const dir = (p.attrs.get("direction") ?? "internal") as LibPin["direction"];
      let width = 1;
      if (p.type === "bus") {
        const bt = p.attrs.get("bus_type");
        const tdef = [...lib.groups, ...g.groups].find((t) => t.type === "type" && t.args[0] === bt);
        width = Number(tdef?.attrs.get("bit_width") ?? 1);
      }
      pins.push({
        name: p.args[0],
        direction: dir,
        width,
        capPf: Number(p.attrs.get("capacitance") ?? 0) * capUnitPf,
        function: p.attrs.get("function"),
        clock: p.attrs.get("clock") === "true",
      });
    }
    cells.set(name, {
      name,
      area: Number(g.attrs.get("area") ?? 0),
      leakageNw: Number(g.attrs.get("cell_leakage_power") ?? 0) * leakageUnitNw,
      pins,
      kind: cellKind(g, pins),
      dontUse: g.attrs.get("dont_use") === "true",
    });
  }
  return {
    name: lib.args[0] ?? "",
    file,
    hash: crypto.createHash("sha256").update(text).digest("hex").slice(0, 24),
    timeUnitNs,
    capUnitPf,
    leakageUnitNw,
    voltage,
    cells,
  };
}

/** Single-input cells whose output function is the input (buffers) or its complement (inverters). */
export function findCells(lib: Liberty, fn: "buf" | "inv"): LibCell[] {
  const out: LibCell[] = [];
  for (const c of lib.cells.values()) {
    if (c.kind !== "comb" || c.dontUse) continue;
    const ins = c.pins.filter((p) => p.direction === "input");
    const outs = c.pins.filter((p) => p.direction === "output");
    if (ins.length !== 1 || outs.length !== 1) continue;
    const f = (outs[0].function ?? "").replace(/[\s()]/g, "");
    const a = ins[0].name;
    if (fn === "buf" && f === a) out.push(c);
    if (fn === "inv" && (f === `!${a}` || f === `${a}'`)) out.push(c);
  }
  return out.sort((x, y) => x.area - y.area || (x.name < y.name ? -1 : 1));
}

export function pinsOf(c: LibCell, dir: LibPin["direction"]): LibPin[] {
  return c.pins.filter((p) => p.direction === dir);
}
