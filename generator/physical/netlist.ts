/**
 * Mapped netlists as Yosys JSON (`write_json`), and the clean-up st3d applies before anything
 * reads them:
 *   - fanout repair: every net driving more than MAX_FANOUT loads gets a tree of the
 *     library's buffer (ABC only buffers nets inside its own logic; a flip-flop output or a
 *     module input driving hundreds of gates is left alone, and a real flow would run
 *     repair_design on it); clock nets stay ideal (no clock tree before placement);
 *   - constants driven by tie cells (the library's, else st3d's ST3D_TIEHI/LO), and output
 *     ports that alias another port driven through a buffer, so the netlist has no `assign`
 *     at all (OpenSTA 2.0.17 reads only instances, and crashes in report_power on some
 *     constant-driven gates);
 *   - a structural Verilog writer: ports as buses, one scalar wire per internal bit, every
 *     cell an instance.
 */
import type { CellLibrary } from "./library.ts";
import { pinsOf } from "./liberty.ts";

export type Bit = number | "0" | "1" | "x" | "z";

export interface YPort {
  direction: "input" | "output" | "inout";
  bits: Bit[];
}
export interface YCell {
  type: string;
  hide_name?: number;
  port_directions?: Record<string, "input" | "output" | "inout">;
  connections: Record<string, Bit[]>;
  attributes?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
}
export interface YNet {
  hide_name: number;
  bits: Bit[];
}
export interface YModule {
  ports: Record<string, YPort>;
  cells: Record<string, YCell>;
  netnames: Record<string, YNet>;
  attributes?: Record<string, unknown>;
}
export interface YDesign {
  modules: Record<string, YModule>;
}

const isNet = (b: Bit): b is number => typeof b === "number";

/** Direction of a cell pin: the JSON's port_directions, else the liberty, else null. */
export function pinDir(lib: CellLibrary | undefined, cell: YCell, port: string): "input" | "output" | "inout" | null {
  const d = cell.port_directions?.[port];
  if (d) return d;
  const c = lib?.lib.cells.get(cell.type);
  const p = c?.pins.find((x) => x.name === port);
  return p ? (p.direction === "internal" ? null : p.direction) : null;
}

function maxBit(m: YModule): number {
  let mx = 1;
  const see = (bits: Bit[]) => {
    for (const b of bits) if (isNet(b) && b > mx) mx = b;
  };
  for (const p of Object.values(m.ports)) see(p.bits);
  for (const c of Object.values(m.cells)) for (const bits of Object.values(c.connections)) see(bits);
  for (const n of Object.values(m.netnames)) see(n.bits);
  return mx;
}

/** Bits that clock something: connected to a liberty clock pin, or to a macro's `clk`. (repairFanout also skips tie nets.) */
export function clockBits(lib: CellLibrary, m: YModule): Set<number> {
  const out = new Set<number>();
  for (const c of Object.values(m.cells)) {
    const lc = lib.lib.cells.get(c.type);
    for (const [port, bits] of Object.entries(c.connections)) {
      const isClk = lc ? !!lc.pins.find((p) => p.name === port)?.clock : port === "clk";
      if (isClk) for (const b of bits) if (isNet(b)) out.add(b);
    }
  }
  return out;
}

/**
 * Make every output-port bit a net of its own: a bit already owned by an input port or by an
 * earlier output-port bit gets a buffer, a constant gets a tie cell (the library's or st3d's).
 * After this no port aliases another and the writer needs no `assign`.  Returns the cells added.
 */
export function normalizePorts(lib: CellLibrary, m: YModule): { aliasBuffers: number; ties: number; undrivenX: number } {
  let next = maxBit(m) + 1;
  const owned = new Set<number>();
  for (const p of Object.values(m.ports)) if (p.direction !== "output") for (const b of p.bits) if (isNet(b)) owned.add(b);
  const { cell: bufCell, input: bi, output: bo } = lib.buffer;
  let aliasBuffers = 0;
  let ties = 0;
  let undrivenX = 0;
  for (const [pn, p] of Object.entries(m.ports)) {
    if (p.direction !== "output") continue;
    p.bits.forEach((b, i) => {
      if (isNet(b) && !owned.has(b)) {
        owned.add(b);
        return;
      }
      const nb = next++;
      if (isNet(b)) {
        m.cells[`st3d_alias_${pn}_${i}`] = { type: bufCell, hide_name: 0, port_directions: { [bi]: "input", [bo]: "output" }, connections: { [bi]: [b], [bo]: [nb] } };
        aliasBuffers++;
      } else {
        if (b !== "0" && b !== "1") undrivenX++;
        const t = b === "1" ? lib.tie.hi : lib.tie.lo;
        m.cells[`st3d_tie_${pn}_${i}`] = { type: t.cell, hide_name: 0, port_directions: { [t.pin]: "output" }, connections: { [t.pin]: [nb] } };
        ties++;
      }
      p.bits[i] = nb;
      owned.add(nb);
    });
  }
  return { aliasBuffers, ties, undrivenX };
}

/**
 * Drop the buffers that sit on clock nets (in a tier top the clock leaves the bottom die through
 * an alias buffer to f2f_clk): before clock-tree synthesis the clock is ideal, and one buffer
 * driving every flip-flop of a die would give OpenSTA absurd slews.  Used on flat views only
 * (STA); the hierarchical netlists keep the buffer.  Returns the buffers removed.
 */
export function removeClockBuffers(lib: CellLibrary, m: YModule): number {
  let removed = 0;
  for (;;) {
    const clocks = clockBits(lib, m);
    const hit = Object.entries(m.cells).find(([, c]) => c.type === lib.buffer.cell && clocks.has(c.connections[lib.buffer.output]?.[0] as number));
    if (!hit) return removed;
    const [name, c] = hit;
    const from = c.connections[lib.buffer.input][0];
    const to = c.connections[lib.buffer.output][0] as number;
    delete m.cells[name];
    const sub = (bits: Bit[]) => bits.forEach((b, i) => {
      if (b === to) bits[i] = from;
    });
    for (const x of Object.values(m.cells)) for (const bits of Object.values(x.connections)) sub(bits);
    for (const p of Object.values(m.ports)) sub(p.bits);
    for (const n of Object.values(m.netnames)) sub(n.bits);
    removed++;
  }
}

/**
 * Drive every constant cell input from a tie cell of the module (one per value): afterwards the
 * JSON itself holds the tie cells, so a flat view and its cell list count them too.
 * Returns the tie cells added.
 */
export function tieConstants(lib: CellLibrary, m: YModule): number {
  let next = maxBit(m) + 1;
  const nets: Partial<Record<"0" | "1", number>> = {};
  let added = 0;
  const netOf = (v: "0" | "1"): number => {
    if (nets[v] === undefined) {
      const t = v === "1" ? lib.tie.hi : lib.tie.lo;
      let name = `st3d_tie_${v === "1" ? "hi" : "lo"}`;
      while (name in m.cells) name += "_";
      nets[v] = next++;
      m.cells[name] = { type: t.cell, hide_name: 0, port_directions: { [t.pin]: "output" }, connections: { [t.pin]: [nets[v]!] } };
      added++;
    }
    return nets[v]!;
  };
  for (const c of Object.values(m.cells)) {
    if (c.type === lib.tie.hi.cell || c.type === lib.tie.lo.cell) continue;
    for (const [port, bits] of Object.entries(c.connections)) {
      if (pinDir(lib, c, port) === "output") continue;
      bits.forEach((b, i) => {
        if (typeof b === "number") return;
        bits[i] = netOf(b === "1" ? "1" : "0");
      });
    }
  }
  return added;
}

interface Load {
  cell: string;
  port: string;
  index: number;
}

/**
 * Split every net with more than `maxFanout` loads (cell inputs; an output port counts as one
 * load and stays on the net) into a tree of buffers, MAX loads per driver.  Clock nets and
 * constants are left alone.  Returns the number of buffers added.
 */
export function repairFanout(lib: CellLibrary, m: YModule, maxFanout: number): number {
  const clocks = clockBits(lib, m);
  for (const c of Object.values(m.cells)) if (c.type === lib.tie.hi.cell || c.type === lib.tie.lo.cell) for (const bits of Object.values(c.connections)) for (const b of bits) if (typeof b === "number") clocks.add(b);
  const loads = new Map<number, Load[]>();
  const portLoads = new Map<number, number>();
  for (const [name, c] of Object.entries(m.cells))
    for (const [port, bits] of Object.entries(c.connections)) {
      if (pinDir(lib, c, port) !== "input") continue;
      bits.forEach((b, index) => {
        if (!isNet(b)) return;
        const l = loads.get(b) ?? [];
        l.push({ cell: name, port, index });
        loads.set(b, l);
      });
    }
  for (const p of Object.values(m.ports)) if (p.direction === "output") for (const b of p.bits) if (isNet(b)) portLoads.set(b, (portLoads.get(b) ?? 0) + 1);
  let next = maxBit(m) + 1;
  let added = 0;
  const { cell: bufCell, input: bi, output: bo } = lib.buffer;
  const bits = [...loads.keys()].sort((a, b) => a - b);
  for (const b of bits) {
    if (clocks.has(b)) continue;
    let ls = loads.get(b)!;
    const fixed = portLoads.get(b) ?? 0;
    if (ls.length + fixed <= maxFanout) continue;
    ls = [...ls].sort((x, y) => (x.cell < y.cell ? -1 : x.cell > y.cell ? 1 : x.port < y.port ? -1 : x.port > y.port ? 1 : x.index - y.index));
    const cap = Math.max(2, maxFanout);
    let level = 0;
    // build upward until the root drives at most maxFanout - fixed loads
    while (ls.length + fixed > maxFanout) {
      const groups: Load[][] = [];
      for (let i = 0; i < ls.length; i += cap) groups.push(ls.slice(i, i + cap));
      const up: Load[] = [];
      groups.forEach((g, gi) => {
        const nb = next++;
        const name = `st3d_fo_${b}_${level}_${gi}`;
        m.cells[name] = { type: bufCell, hide_name: 0, port_directions: { [bi]: "input", [bo]: "output" }, connections: { [bi]: [b], [bo]: [nb] } };
        added++;
        for (const l of g) m.cells[l.cell].connections[l.port][l.index] = nb;
        up.push({ cell: name, port: bi, index: 0 });
      });
      ls = up;
      level++;
    }
  }
  return added;
}

// ---------------------------------------------------------------- Verilog writer

const SIMPLE = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const KEYWORDS = new Set(["module", "endmodule", "input", "output", "inout", "wire", "reg", "assign", "begin", "end", "always", "initial", "if", "else", "case", "for", "function", "task", "default"]);
/** A Verilog identifier for `name` (escaped when needed; a trailing space ends an escaped name). */
export function vid(name: string): string {
  return SIMPLE.test(name) && !KEYWORDS.has(name) ? name : `\\${name} `;
}

export interface EmitResult {
  verilog: string;
  /** cell type -> count (after ties and alias buffers) */
  cells: Record<string, number>;
  ties: number;
  aliasBuffers: number;
  undrivenX: number;
  /** Verilog name of every net bit (`x`, `x[3]`, `\\a.b `, `\\a.b [3]`) */
  bitNames: Map<number, string>;
  /** Verilog instance name of every JSON cell */
  cellNames: Map<string, string>;
}

/**
 * Structural Verilog of one module: no assign, constants from tie cells, port aliases through
 * a buffer.  Auto-named cells ($...) get `_<k>_` names (in sorted order, so deterministic).
 */
export function emitVerilog(lib: CellLibrary, moduleName: string, m: YModule): EmitResult {
  const norm = normalizePorts(lib, m);
  const names = new Map<number, string>();
  const portNames = Object.keys(m.ports);
  // 1. ports own their bits (inputs first, then outputs in declaration order)
  const aliasOut: { port: string; index: number; from: Bit }[] = [];
  const bitName = (port: string, p: YPort, i: number) => (p.bits.length === 1 ? vid(port) : `${vid(port)}[${i}]`);
  for (const pass of ["input", "output"] as const)
    for (const pn of portNames) {
      const p = m.ports[pn];
      if ((pass === "input") !== (p.direction !== "output")) continue;
      p.bits.forEach((b, i) => {
        if (isNet(b) && !names.has(b)) names.set(b, bitName(pn, p, i));
        else if (pass === "output") aliasOut.push({ port: pn, index: i, from: b });
      });
    }
  // 2. internal nets: public netnames first (sorted), then generated names
  const nets = Object.entries(m.netnames).sort(([a, x], [b, y]) => x.hide_name - y.hide_name || a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const used = new Set<string>();
  for (const v of names.values()) used.add(v);
  const buses: { name: string; width: number }[] = [];
  for (const [nn, n] of nets) {
    if (n.hide_name) continue;
    // a public multi-bit net whose bits are all still unnamed becomes a real bus (bits `x[i]`)
    if (n.bits.length > 1 && n.bits.every((b) => isNet(b) && !names.has(b)) && new Set(n.bits).size === n.bits.length && !used.has(vid(nn))) {
      n.bits.forEach((b, i) => names.set(b as number, `${vid(nn)}[${i}]`));
      used.add(vid(nn));
      buses.push({ name: vid(nn), width: n.bits.length });
      continue;
    }
    n.bits.forEach((b, i) => {
      if (!isNet(b) || names.has(b)) return;
      const nm = vid(n.bits.length === 1 ? nn : `${nn}[${i}]`);
      if (used.has(nm)) return;
      names.set(b, nm);
      used.add(nm);
    });
  }
  const nameOf = (b: number) => {
    let n = names.get(b);
    if (!n) {
      n = `_n${b}_`;
      names.set(b, n);
    }
    return n;
  };
  // 3. cells, with constants from one tie cell per value
  const cellEntries = Object.entries(m.cells).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const cellName = new Map<string, string>();
  let k = 0;
  for (const [cn, c] of cellEntries) cellName.set(cn, cn.startsWith("$") || c.hide_name ? `_${k++}_` : vid(cn));
  const counts: Record<string, number> = {};
  const lines: string[] = [];
  let ties = 0;
  let undrivenX = norm.undrivenX;
  const tieNet = { "1": "", "0": "" } as Record<"0" | "1", string>;
  const tieLines: string[] = [];
  const tie = (v: "0" | "1"): string => {
    const t = v === "1" ? lib.tie.hi : lib.tie.lo;
    if (!tieNet[v]) {
      tieNet[v] = `st3d_const${v}`;
      tieLines.push(`  ${t.cell} st3d_tie_${v === "1" ? "hi" : "lo"} (.${t.pin}(${tieNet[v]}));`);
      counts[t.cell] = (counts[t.cell] ?? 0) + 1;
      ties++;
    }
    return tieNet[v];
  };
  const sig = (b: Bit): string => {
    if (isNet(b)) return nameOf(b);
    if (b === "1") return tie("1");
    if (b !== "0") undrivenX++;
    return tie("0");
  };
  for (const [cn, c] of cellEntries) {
    counts[c.type] = (counts[c.type] ?? 0) + 1;
    const conns = Object.entries(c.connections).map(([port, bits]) => {
      const s = bits.length === 1 ? sig(bits[0]) : `{${[...bits].reverse().map(sig).join(", ")}}`;
      return `.${port}(${s})`;
    });
    lines.push(`  ${vid(c.type)} ${cellName.get(cn)} (${conns.join(", ")});`);
  }
  if (aliasOut.length) throw new Error(`internal error: ${moduleName}: ${aliasOut.length} output-port bits alias another bit after normalizePorts`);
  // declarations
  const decl: string[] = [];
  for (const pn of portNames) {
    const p = m.ports[pn];
    decl.push(`  ${p.direction} ${p.bits.length > 1 ? `[${p.bits.length - 1}:0] ` : ""}${vid(pn)};`);
  }
  const portSet = new Set<string>();
  for (const pn of portNames) m.ports[pn].bits.forEach((_, i) => portSet.add(bitName(pn, m.ports[pn], i)));
  const busBits = new Set(buses.flatMap((b) => Array.from({ length: b.width }, (_, i) => `${b.name}[${i}]`)));
  for (const b of buses) decl.push(`  wire [${b.width - 1}:0] ${b.name};`);
  const wires = [...new Set(names.values())].filter((n) => !portSet.has(n) && !busBits.has(n)).sort();
  for (const w of wires) decl.push(`  wire ${w};`);
  for (const v of ["0", "1"] as const) if (tieNet[v]) decl.push(`  wire ${tieNet[v]};`);
  const verilog = [`module ${vid(moduleName)} (${portNames.map(vid).join(", ")});`, ...decl, ...tieLines, ...lines, "endmodule", ""].join("\n");
  return { verilog, cells: counts, ties: ties + norm.ties, aliasBuffers: norm.aliasBuffers, undrivenX, bitNames: names, cellNames: cellName };
}

/** Cell histogram of a module (JSON). */
export function histogram(m: YModule): Record<string, number> {
  const h: Record<string, number> = {};
  for (const c of Object.values(m.cells)) h[c.type] = (h[c.type] ?? 0) + 1;
  return h;
}

/** Instance types of a structural Verilog netlist written by emitVerilog (one instance per line). */
export function instancesOfVerilog(text: string): { type: string; name: string }[] {
  const out: { type: string; name: string }[] = [];
  const re = /^\s{2}(\\\S+ |[A-Za-z_][A-Za-z0-9_$]*) (\\\S+ |[A-Za-z_][A-Za-z0-9_$]*) ?\(/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const type = m[1].startsWith("\\") ? m[1].slice(1, -1) : m[1];
    if (["input", "output", "inout", "wire"].includes(type)) continue;
    out.push({ type, name: m[2].trim() });
  }
  return out;
}

/** Output pins of liberty cells of a module, for driver lookups. */
export function outputPins(lib: CellLibrary, type: string): string[] {
  const c = lib.lib.cells.get(type);
  return c ? pinsOf(c, "output").map((p) => p.name) : [];
}

/** SPEF form of a Verilog name from emitVerilog: escaped names lose `\\` and the trailing space, special characters get `\\`. */
export function spefName(verilogName: string): string {
  const esc = (x: string) => x.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`);
  if (verilogName.startsWith("\\")) {
    const end = verilogName.indexOf(" ");
    const base = verilogName.slice(1, end < 0 ? undefined : end);
    const rest = end < 0 ? "" : verilogName.slice(end + 1);
    return esc(base) + rest;
  }
  const m = verilogName.match(/^([A-Za-z_][A-Za-z0-9_$]*)(\[\d+\])?$/);
  return m ? esc(m[1]) + (m[2] ?? "") : esc(verilogName);
}

/**
 * Flatten `top` over `modules` (Yosys-style names: a cell `c` of instance `u` becomes `u.c`, a
 * net `n` becomes `u.n`).  Leaf cells are the types that are not in `modules`.
 */
export function flattenModule(top: string, modules: ReadonlyMap<string, YModule>): YModule {
  const t = modules.get(top);
  if (!t) throw new Error(`flatten: no module ${top}`);
  let next = maxBit(t) + 1;
  const out: YModule = { ports: structuredClone(t.ports), cells: {}, netnames: {} };
  const inline = (m: YModule, prefix: string, map: (b: Bit) => Bit, depth: number) => {
    if (depth > 64) throw new Error(`flatten ${top}: hierarchy deeper than 64 (recursive instantiation?)`);
    for (const [nn, n] of Object.entries(m.netnames)) {
      const name = prefix + nn;
      if (!(name in out.netnames)) out.netnames[name] = { hide_name: n.hide_name, bits: n.bits.map(map) };
    }
    for (const [cn, c] of Object.entries(m.cells)) {
      const child = modules.get(c.type);
      if (!child) {
        out.cells[prefix + cn] = { ...c, connections: Object.fromEntries(Object.entries(c.connections).map(([p, bits]) => [p, bits.map(map)])) };
        continue;
      }
      const local = new Map<number, Bit>();
      for (const [pn, p] of Object.entries(child.ports)) {
        const conn = c.connections[pn];
        if (!conn) continue;
        p.bits.forEach((b, i) => {
          if (typeof b === "number") local.set(b, map(conn[i] ?? "x"));
        });
      }
      const childMap = (b: Bit): Bit => {
        if (typeof b !== "number") return b;
        let v = local.get(b);
        if (v === undefined) {
          v = next++;
          local.set(b, v);
        }
        return v;
      };
      inline(child, `${prefix}${cn}.`, childMap, depth + 1);
    }
  };
  inline(t, "", (b) => b, 0);
  return out;
}
