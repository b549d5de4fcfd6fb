/**
 * Memory macros: maps every logical memory (./ram1r1w.ts) onto fakeram45-style SRAM
 * macros (or flip-flops below `macroMinBits`) and renders three views per macro and one
 * wrapper per memory:
 *
 *   macros/sim/<macro>.v    behavioral model   (kind "sim":  simulation only)
 *   macros/stub/<macro>.v   (* blackbox *) stub (kind "stub": synthesis only, ports only)
 *   <module>.v              pin-stable wrapper  (kind "rtl":  exactly the ram1r1w pins)
 *
 * and one `macros/<tier>/macros.json` per tier.  The decisions (two-port macros for 1R1W,
 * single-port for "1rw" memories, the catalog, the shape choice, flops) are in docs/MEMORY.md.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { ulit } from "../../render/verilog.ts";
import { clog2 } from "../../util/bits.ts";
import { renderRam1r1w, type LogicalMemory, type MemTier } from "./ram1r1w.ts";
import { MACRO_OVERHEAD_BITS, sramEstimate } from "./sram.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- catalog

/** Macro depths: powers of two 16..2048. */
export const MACRO_DEPTHS: readonly number[] = [16, 32, 64, 128, 256, 512, 1024, 2048];
/** Macro widths: multiples of a byte, powers of two 8..256. */
export const MACRO_WIDTHS: readonly number[] = [8, 16, 32, 64, 128, 256];
/** Shapes outside the depths x widths product that ORFS's nangate45 platform ships: 2048x39. */
export const MACRO_EXTRA_SHAPES: readonly { depth: number; width: number }[] = [{ depth: 2048, width: 39 }];

export const TIERS: readonly MemTier[] = ["top", "bottom"];

/** "1rw": ORFS fakeram45 single-port macro; "2p": two-port (1 read + 1 write port) variant. */
export type MacroPorts = "1rw" | "2p";

export function inCatalog(depth: number, width: number): boolean {
  return (MACRO_DEPTHS.includes(depth) && MACRO_WIDTHS.includes(width)) || MACRO_EXTRA_SHAPES.some((s) => s.depth === depth && s.width === width);
}

/** `fakeram45_<d>x<w>` (1RW, ORFS name) or `fakeram45_2p_<d>x<w>` (two-port). */
export function macroName(ports: MacroPorts, depth: number, width: number): string {
  return ports === "1rw" ? `fakeram45_${depth}x${width}` : `fakeram45_2p_${depth}x${width}`;
}

export const modelPath = (macro: string) => `macros/sim/${macro}.v`;
export const stubPath = (macro: string) => `macros/stub/${macro}.v`;
export const macrosJsonPath = (tier: MemTier) => `macros/${tier}/macros.json`;

// ---------------------------------------------------------------- planning

export type MemStyle = "flops" | MacroPorts;

export interface MemoryPlan {
  mem: LogicalMemory;
  /** flip-flops (below macroMinBits), single-port macros ("1rw" memories) or two-port macros */
  style: MemStyle;
  /** depth banks, largest first; bank b holds words base .. base + depth - 1 (empty for flops) */
  banks: { depth: number; base: number }[];
  /** width columns, widest first from bit 0; column c holds bits lsb .. lsb + width - 1 (empty for flops) */
  columns: { width: number; lsb: number }[];
  /** macros used, one entry per shape */
  macros: { macro: string; depth: number; width: number; count: number }[];
  macroCount: number;
  /** depth x width */
  logicalBits: number;
  /** bits of storage built: macro bits, or the flop bits (= logicalBits) */
  storageBits: number;
  /** storageBits - logicalBits */
  paddingBits: number;
}

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/**
 * A split of a depth or width into parts, largest first, as runs of equal parts
 * ([[2048, 8192]] is 8192 parts of 2048), so that a 2^24-word memory costs a few runs, not
 * 8192 array entries, while the tiling is chosen.
 */
type Runs = [part: number, count: number][];

/** Greedy split of `total` (a multiple of the smallest part) into parts, largest first. */
function greedy(total: number, parts: readonly number[]): Runs {
  const desc = [...parts].sort((a, b) => b - a);
  const out: Runs = [];
  let rest = total;
  for (const p of desc)
    if (rest >= p) {
      const count = Math.floor(rest / p);
      out.push([p, count]);
      rest -= count * p;
    }
  if (rest !== 0) throw new Error(`internal error: cannot split ${total} into ${parts.join("/")}`);
  return out;
}

/** Candidate splits of n (depth or width): uniform n x part, and greedy splits of n rounded up to each grain. */
function candidates(n: number, parts: readonly number[], uniformExtra: readonly number[]): Runs[] {
  const out = new Map<string, Runs>();
  const add = (l: Runs) => out.set(l.map(([p, c]) => `${p}x${c}`).join(","), l);
  for (const p of [...parts, ...uniformExtra]) add([[p, Math.ceil(n / p)]]);
  for (const g of parts) add(greedy(roundUp(n, g), parts));
  return [...out.values()];
}

const runsSum = (l: Runs) => l.reduce((a, [p, c]) => a + p * c, 0);
const runsLength = (l: Runs) => l.reduce((a, [, c]) => a + c, 0);
const expand = (l: Runs) => l.flatMap(([p, c]) => new Array<number>(c).fill(p));

/**
 * Choose how to build one logical memory.  Flops below `r.hw.macroMinBits`; otherwise the
 * tiling (depth banks x width columns, every bank/column pair one catalog macro) that
 * minimizes paddingBits + macroCount * MACRO_OVERHEAD_BITS, ties broken by less padding,
 * fewer macros, fewer distinct shapes.
 */
export function planMemory(r: Resolved, m: LogicalMemory): MemoryPlan {
  const logicalBits = m.depth * m.width;
  if (logicalBits < r.hw.macroMinBits)
    return { mem: m, style: "flops", banks: [], columns: [], macros: [], macroCount: 0, logicalBits, storageBits: logicalBits, paddingBits: 0 };
  const style: MacroPorts = m.ports === "1rw" ? "1rw" : "2p";
  const depthLists = candidates(m.depth, MACRO_DEPTHS, []);
  const widthLists = candidates(
    m.width,
    MACRO_WIDTHS,
    MACRO_EXTRA_SHAPES.map((s) => s.width),
  );
  let best: { banks: Runs; cols: Runs; pad: number; count: number; shapes: number; cost: number } | undefined;
  for (const banks of depthLists)
    for (const cols of widthLists) {
      if (!banks.every(([d]) => cols.every(([w]) => inCatalog(d, w)))) continue;
      const pad = runsSum(banks) * runsSum(cols) - logicalBits;
      const count = runsLength(banks) * runsLength(cols);
      const shapes = new Set(banks.map(([d]) => d)).size * new Set(cols.map(([w]) => w)).size;
      const cost = pad + count * MACRO_OVERHEAD_BITS;
      const better =
        !best ||
        cost < best.cost ||
        (cost === best.cost && (pad < best.pad || (pad === best.pad && (count < best.count || (count === best.count && shapes < best.shapes)))));
      if (better) best = { banks, cols, pad, count, shapes, cost };
    }
  if (!best) throw new Error(`memory ${m.module}: no catalog tiling for ${m.depth} x ${m.width}`);
  let base = 0;
  const banks = expand(best.banks).map((depth) => {
    const b = { depth, base };
    base += depth;
    return b;
  });
  let lsb = 0;
  const columns = expand(best.cols).map((width) => {
    const c = { width, lsb };
    lsb += width;
    return c;
  });
  const byShape = new Map<string, { macro: string; depth: number; width: number; count: number }>();
  for (const b of banks)
    for (const c of columns) {
      const macro = macroName(style, b.depth, c.width);
      const e = byShape.get(macro) ?? { macro, depth: b.depth, width: c.width, count: 0 };
      e.count++;
      byShape.set(macro, e);
    }
  return {
    mem: m,
    style,
    banks,
    columns,
    macros: [...byShape.values()],
    macroCount: best.count,
    logicalBits,
    storageBits: logicalBits + best.pad,
    paddingBits: best.pad,
  };
}

// ---------------------------------------------------------------- views

export interface MacroUse {
  macro: string;
  depth: number;
  width: number;
  ports: MacroPorts;
  /** instances on this tier */
  count: number;
  /** count x depth x width */
  bits: number;
  tier: MemTier;
  /** logical memories (module names) that use it on this tier */
  memories: string[];
  /** generated files of the macro's views */
  modelPath: string;
  stubPath: string;
}

export interface MemoryViews {
  /** wrappers (kind "rtl"), behavioral macro models (kind "sim"), blackbox stubs (kind "stub") */
  files: GeneratedFile[];
  plans: MemoryPlan[];
  macros: MacroUse[];
  /** simulation file list: wrappers + behavioral models (never stubs) */
  simFiles(): string[];
  /** synthesis file list: wrappers + stubs (never a behavioral model) */
  synthFiles(): string[];
}

const isTwoPort = (s: MemStyle) => s === "2p";

function macroContext(ports: MacroPorts, depth: number, width: number) {
  const addrBits = clog2(depth);
  return { name: macroName(ports, depth, width), twoPort: ports === "2p", depth, width, addrMsb: addrBits - 1, widthMsb: width - 1, depthMsb: depth - 1 };
}

export function renderMacroModel(r: Resolved, ports: MacroPorts, depth: number, width: number): GeneratedFile {
  const ctx = macroContext(ports, depth, width);
  return renderVerilog(r, path.join(here, "fakeram_model.v.hbs"), modelPath(ctx.name), `behavioral model of SRAM macro ${ctx.name} (simulation only)`, ctx, "sim");
}

export function renderMacroStub(r: Resolved, ports: MacroPorts, depth: number, width: number): GeneratedFile {
  const { depthMsb, ...ctx } = macroContext(ports, depth, width);
  void depthMsb; // the stub declares pins only
  return renderVerilog(r, path.join(here, "fakeram_stub.v.hbs"), stubPath(ctx.name), `blackbox stub of SRAM macro ${ctx.name} (synthesis only)`, ctx, "stub");
}

/** Address of a bank's macros from a logical address: low bits, or zero-extended when the macro is deeper. */
function localAddr(sig: string, addrBits: number, macroAddrBits: number): string {
  if (macroAddrBits > addrBits) return `{ ${ulit(macroAddrBits - addrBits, 0)}, ${sig} }`;
  if (macroAddrBits === addrBits) return sig;
  return `${sig}[${macroAddrBits - 1}:0]`;
}

/** Bank select from a logical address: the bits above the bank's own address bits equal base / depth. */
function bankSelect(sig: string, addrBits: number, bank: { depth: number; base: number }, single: boolean): string {
  if (single) return "1'b1";
  const lo = clog2(bank.depth);
  const n = addrBits - lo;
  return `(${sig}[${addrBits - 1}:${lo}] == ${ulit(n, bank.base / bank.depth)})`;
}

export function renderWrapper(r: Resolved, p: MemoryPlan): GeneratedFile {
  const m = p.mem;
  if (p.style === "flops") return renderRam1r1w(r, m, "rtl");
  const totalWidth = p.columns.reduce((a, c) => a + c.width, 0);
  const single = p.banks.length === 1;
  const banks = p.banks.map((b, bi) => {
    const mab = clog2(b.depth);
    const cols = p.columns.map((c, ci) => ({
      macro: macroName(p.style as MacroPorts, b.depth, c.width),
      inst: `u_b${bi}_c${ci}`,
      rd: `rd_${bi}_${ci}`,
      w: c.width,
      wMsb: c.width - 1,
      lsb: c.lsb,
    }));
    return {
      b: bi,
      depth: b.depth,
      base: b.base,
      lastWord: Math.min(b.base + b.depth, m.depth) - 1,
      padWords: Math.max(0, b.base + b.depth - m.depth),
      rselExpr: bankSelect("raddr", m.addrBits, b, single),
      wselExpr: bankSelect("waddr", m.addrBits, b, single),
      raddrLocal: localAddr("raddr", m.addrBits, mab),
      waddrLocal: localAddr("waddr", m.addrBits, mab),
      cols,
      rdConcat: [...cols].reverse().map((c) => c.rd).join(", "),
    };
  });
  const preloadCopies = banks.flatMap((b) => b.cols.map((c) => ({ inst: c.inst, rows: b.lastWord - b.base + 1, base: b.base, lsb: c.lsb, w: c.w })));
  const ctx = {
    module: m.module,
    label: m.label,
    kind: m.kind,
    depth: m.depth,
    width: m.width,
    twoPort: isTwoPort(p.style),
    mapping: `${p.banks.length} bank(s) [${p.banks.map((b) => b.depth).join(", ")}] x ${p.columns.length} column(s) [${p.columns.map((c) => c.width).join(", ")}] of ${p.style === "2p" ? "two-port" : "single-port"} macros; ${p.paddingBits} padding bits`,
    addrMsb: m.addrBits - 1,
    widthMsb: m.width - 1,
    depthMsb: m.depth - 1,
    totalWidth,
    totalMsb: totalWidth - 1,
    hasPad: totalWidth > m.width,
    padWidth: totalWidth - m.width,
    multiBank: !single,
    bankMsb: p.banks.length - 1,
    banks,
    firstRdConcat: banks[0].rdConcat,
    preload: m.preload ?? "",
    preloadCopies,
  };
  return renderVerilog(r, path.join(here, "macroWrapper.v.hbs"), `${m.module}.v`, `logical memory ${m.label} on SRAM macros`, ctx, "rtl");
}

function checkUnique(mems: LogicalMemory[]): void {
  const seen = new Set<string>();
  for (const m of mems) {
    if (seen.has(m.module)) throw new Error(`memory flow: two logical memories named ${m.module}`);
    if (/^fakeram45_/.test(m.module)) throw new Error(`memory flow: logical memory ${m.module} would clash with the macro names`);
    seen.add(m.module);
  }
}

function macroUses(plans: MemoryPlan[]): MacroUse[] {
  const uses = new Map<string, MacroUse>();
  for (const p of plans) {
    if (p.style === "flops") continue;
    for (const e of p.macros) {
      const key = `${p.mem.tier}/${e.macro}`;
      const u =
        uses.get(key) ??
        ({ macro: e.macro, depth: e.depth, width: e.width, ports: p.style, count: 0, bits: 0, tier: p.mem.tier, memories: [], modelPath: modelPath(e.macro), stubPath: stubPath(e.macro) } as MacroUse);
      u.count += e.count;
      u.bits += e.count * e.depth * e.width;
      if (!u.memories.includes(p.mem.module)) u.memories.push(p.mem.module);
      uses.set(key, u);
    }
  }
  return [...uses.values()].sort((a, b) => (a.tier + a.macro < b.tier + b.macro ? -1 : 1));
}

/** Every view of every memory: wrappers, behavioral models and stubs of the macros used, and the file lists. */
export function memoryViews(r: Resolved, mems: LogicalMemory[]): MemoryViews {
  checkUnique(mems);
  const plans = mems.map((m) => planMemory(r, m));
  const macros = macroUses(plans);
  const wrappers = plans.map((p) => renderWrapper(r, p));
  const shapes = new Map<string, { ports: MacroPorts; depth: number; width: number }>();
  for (const u of macros) shapes.set(u.macro, { ports: u.ports, depth: u.depth, width: u.width });
  const sorted = [...shapes.values()].sort((a, b) => (macroName(a.ports, a.depth, a.width) < macroName(b.ports, b.depth, b.width) ? -1 : 1));
  const models = sorted.map((s) => renderMacroModel(r, s.ports, s.depth, s.width));
  const stubs = sorted.map((s) => renderMacroStub(r, s.ports, s.depth, s.width));
  const files = [...wrappers, ...models, ...stubs];
  return {
    files,
    plans,
    macros,
    simFiles: () => [...wrappers, ...models].map((f) => f.path),
    synthFiles: () => [...wrappers, ...stubs].map((f) => f.path),
  };
}

// ---------------------------------------------------------------- macros.json

export interface TierMacroReport {
  tier: MemTier;
  macroMinBits: number;
  macros: { macro: string; depth: number; width: number; ports: MacroPorts; count: number; bits: number; tier: MemTier; areaUm2: number; estimate: string; memories: string[] }[];
  memories: {
    module: string;
    label: string;
    kind: string;
    ports: string;
    depth: number;
    width: number;
    style: MemStyle;
    banks: number[];
    columns: number[];
    macroCount: number;
    logicalBits: number;
    storageBits: number;
    paddingBits: number;
  }[];
  totals: {
    macroCount: number;
    /** bits in macros = macroLogicalBits + paddingBits */
    macroBits: number;
    /** logical bits of the memories built from macros */
    macroLogicalBits: number;
    /** bits in flip-flop memories (no padding) */
    flopBits: number;
    /** every logical memory's depth x width */
    logicalBits: number;
    paddingBits: number;
    /** macroBits + flopBits = logicalBits + paddingBits */
    storageBits: number;
    /** sum of sramEstimate areas of the macros (1RW figures, see docs/MEMORY.md) */
    macroAreaUm2: number;
  };
}

/** The per-tier report behind macros.json. */
export function macroReport(r: Resolved, mems: LogicalMemory[]): Record<MemTier, TierMacroReport> {
  checkUnique(mems);
  const plans = mems.map((m) => planMemory(r, m));
  const uses = macroUses(plans);
  const out = {} as Record<MemTier, TierMacroReport>;
  for (const tier of TIERS) {
    const tp = plans.filter((p) => p.mem.tier === tier);
    const macros = uses
      .filter((u) => u.tier === tier)
      .map((u) => {
        const est = sramEstimate(u.depth, u.width);
        return { macro: u.macro, depth: u.depth, width: u.width, ports: u.ports, count: u.count, bits: u.bits, tier, areaUm2: +(est.areaUm2 * u.count).toFixed(1), estimate: est.source, memories: u.memories };
      });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const macroPlans = tp.filter((p) => p.style !== "flops");
    const totals = {
      macroCount: sum(macros.map((e) => e.count)),
      macroBits: sum(macros.map((e) => e.bits)),
      macroLogicalBits: sum(macroPlans.map((p) => p.logicalBits)),
      flopBits: sum(tp.filter((p) => p.style === "flops").map((p) => p.storageBits)),
      logicalBits: sum(tp.map((p) => p.logicalBits)),
      paddingBits: sum(tp.map((p) => p.paddingBits)),
      storageBits: 0,
      macroAreaUm2: +sum(macros.map((e) => e.areaUm2)).toFixed(1),
    };
    totals.storageBits = totals.macroBits + totals.flopBits;
    if (totals.storageBits !== totals.logicalBits + totals.paddingBits || totals.macroBits !== totals.macroLogicalBits + totals.paddingBits)
      throw new Error(`internal error: macro bit totals of tier ${tier} do not add up`);
    out[tier] = {
      tier,
      macroMinBits: r.hw.macroMinBits,
      macros,
      memories: tp.map((p) => ({
        module: p.mem.module,
        label: p.mem.label,
        kind: p.mem.kind,
        ports: p.mem.ports,
        depth: p.mem.depth,
        width: p.mem.width,
        style: p.style,
        banks: p.banks.map((b) => b.depth),
        columns: p.columns.map((c) => c.width),
        macroCount: p.macroCount,
        logicalBits: p.logicalBits,
        storageBits: p.storageBits,
        paddingBits: p.paddingBits,
      })),
      totals,
    };
  }
  return out;
}

/** One `macros/<tier>/macros.json` per tier (both tiers always, possibly empty). */
export function macrosJson(r: Resolved, mems: LogicalMemory[]): GeneratedFile[] {
  const rep = macroReport(r, mems);
  return TIERS.map((tier) => ({
    path: macrosJsonPath(tier),
    kind: "report" as const,
    content: JSON.stringify({ generator: `st3d ${r.version}`, design: r.name, configHash: r.hash, ...rep[tier] }, null, 2) + "\n",
  }));
}
