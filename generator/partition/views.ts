/**
 * Every 3D view of a design (docs/3D.md):
 *
 *   <name>_tier_bottom.v, <name>_tier_top.v, <name>_3d.v   (kind "rtl", ./render3d.ts)
 *   3d/bond_map.json          every cross-tier net: name, width, direction, tiers, bumps
 *   3d/3d_manifest.json       bonds, pitch, budget, margin, tier areas, balance, assumptions
 *   3d/partition.txt          Pin-3D style: `<cell> <tier>` per cell of the flattened Yosys
 *                             netlist of the 2D top and per chip port; 0 = bottom
 *   3d/<name>_flat.v          that netlist (optional, large: opts.flatVerilog)
 *   3d/<name>.3dbv            3Dblox die definitions (both dies)
 *   3d/<name>.3dbx            3Dblox assembly (top die mirrored MZ, F2F connection)
 *   3d/<name>_tier_<t>.bmap   3Dblox bump map per die: `inst cell x y port net`, one bond per
 *                             F2F bit, mating bonds at the same coordinates
 *
 * Call `threeDViews(r, files, netlist)` with the design's files (logic, memory wrappers,
 * stubs, the 2D top) and the top-level Netlist.
 */
import type { Resolved } from "../config/resolve.ts";
import type { Netlist, Tier } from "../top/netlist.ts";
import { topInstanceOf, type AreaEstimate, type FlatNetlist } from "./areas.ts";
import { allModes, partitionStats, tierPartition, POWER_NETS, type F2fNet, type Mode, type PartitionOptions, type PartitionStats } from "./partition.ts";
import { renderTierRtl, tierModule, assemblyModule, TIERS } from "./render3d.ts";
import type { GeneratedFile } from "../core/files.ts";
import { fileHeader } from "../render/render.ts";

/** The 3Dblox and bump-map files are printed here; their headers say so (partition.txt and JSON have no comments). */
const THIS_MODULE = "generator/partition/views.ts";

/** Cell master of one hybrid bond in the bump maps (defined by the flow's bond LEF). */
export const BOND_CELL = "HYBRID_BOND";
/** Die thickness used in the 3Dblox files, µm (a placeholder: the flows do not time or route through it). */
export const DIE_THICKNESS_UM = 300;
/** 3Dblox database units per micron (2000, as the NanGate45 LEF; enough for any bump pitch st3d writes). */
export const DBU_PER_UM = 2000;

export const VIEW_DIR = "3d";

export interface Bump {
  name: string;
  port: string;
  net: string;
  x: number;
  y: number;
}

const fmt = (v: number) => {
  const s = (Math.round(v * DBU_PER_UM) / DBU_PER_UM).toFixed(4);
  return s.replace(/\.?0+$/, "") || "0";
};
const bitName = (port: string, width: number, b: number) => (width === 1 ? port : `${port}[${b}]`);

/**
 * One bond per F2F bit on a square grid at the bond pitch, centred on a square die of side
 * sqrt(footprint); bonds are numbered net by net (clock first), bit 0 first, row by row.
 * Both dies use the same list (same names, same coordinates: the top die is only mirrored in Z).
 */
export function bondGrid(f2f: readonly F2fNet[], pitchUm: number, dieSideUm: number): Bump[] {
  const total = f2f.reduce((a, f) => a + f.width, 0);
  const cols = Math.max(1, Math.ceil(Math.sqrt(total)));
  const rows = Math.max(1, Math.ceil(total / cols));
  const x0 = (dieSideUm - cols * pitchUm) / 2 + pitchUm / 2;
  const y0 = (dieSideUm - rows * pitchUm) / 2 + pitchUm / 2;
  const out: Bump[] = [];
  for (const f of f2f)
    for (let b = 0; b < f.width; b++) {
      const k = out.length;
      const port = bitName(f.port, f.width, b);
      out.push({ name: `${f.port}_${b}`, port, net: port, x: x0 + (k % cols) * pitchUm, y: y0 + Math.floor(k / cols) * pitchUm });
    }
  return out;
}

export function renderBmap(bumps: readonly Bump[]): string {
  return bumps.map((b) => `${b.name} ${BOND_CELL} ${fmt(b.x)} ${fmt(b.y)} ${b.port} ${b.net}`).join("\n") + (bumps.length ? "\n" : "");
}

/** Parse a .bmap (for tests): 6 columns per line, `#` comments. */
export function parseBmap(text: string): { name: string; cell: string; x: number; y: number; port: string; net: string }[] {
  return text
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const t = l.trim().split(/\s+/);
      if (t.length !== 6) throw new Error(`bmap line '${l}' has ${t.length} columns, expected 6`);
      return { name: t[0], cell: t[1], x: Number(t[2]), y: Number(t[3]), port: t[4], net: t[5] };
    });
}

/** Pin-3D partition file: one `<instance> <tier>` line per cell of the flat netlist, then per chip port (0 = bottom, 1 = top). */
export function partitionTxt(flat: FlatNetlist, assign: ReadonlyMap<string, Tier>): string {
  const lines: string[] = [];
  for (const c of [...flat.cells].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const inst = topInstanceOf(c.name);
    // cells of the top itself (st3d's tie cells and port buffers) sit with the chip I/O on the bottom die
    const t = assign.get(inst) ?? (!c.name.includes(".") && c.name.startsWith("st3d_") ? "bottom" : undefined);
    if (!t) throw new Error(`partition.txt: cell ${c.name} belongs to no top-level instance (prefix '${inst}')`);
    lines.push(`${c.name} ${t === "bottom" ? 0 : 1}`);
  }
  for (const p of flat.ports) lines.push(`${p.name} 0`);
  return lines.join("\n") + "\n";
}

function yamlStr(s: string): string {
  return JSON.stringify(s);
}

export function render3dbv(r: Pick<Resolved, "name">, sideUm: number, hasBumps: boolean): string {
  const s = fmt(sideUm);
  const rect = [`          - [0, 0]`, `          - [${s}, 0]`, `          - [${s}, ${s}]`, `          - [0, ${s}]`];
  const die = (tier: Tier) => {
    const mod = tierModule(r.name, tier);
    const pw = POWER_NETS[tier];
    return [
      `  # ${tier} die: power ${pw.power}, ground ${pw.ground}${tier === "bottom" ? "; chip I/O and the clock root; reaches the package through TSVs" : "; powered and clocked through the bond"}`,
      `  ${mod}:`,
      `    type: die`,
      `    design_area: [${s}, ${s}]`,
      `    shrink: 1`,
      `    tsv: ${tier === "bottom" ? "true" : "false"}`,
      `    thickness: ${DIE_THICKNESS_UM}`,
      `    offset: [0, 0]`,
      `    regions:`,
      `      f2f:`,
      `        side: front`,
      `        coords:`,
      ...rect,
      ...(hasBumps ? [`        bmap: ${mod}.bmap`] : []),
      ...(tier === "bottom" ? [`      io:`, `        side: back`, `        coords:`, ...rect] : []),
      `    external:`,
      `      verilog_file: ${yamlStr(`../${mod}.v`)}`,
    ];
  };
  return (
    [
      `# ${r.name}: the two dies of the face-to-face stack (3Dblox chiplet definitions, st3d).`,
      `# design_area = footprint = the larger tier's cell + macro area (square); power nets per die:`,
      `# bottom VDD_BOT/VSS_BOT, top VDD_TOP/VSS_TOP.`,
      "",
      "Header:",
      "  version: 2.5",
      "  unit: micron",
      `  precision: ${DBU_PER_UM}`,
      "",
      "ChipletDef:",
      ...die("bottom"),
      ...die("top"),
    ].join("\n") + "\n"
  );
}

export function render3dbx(r: Pick<Resolved, "name">): string {
  const b = tierModule(r.name, "bottom");
  const t = tierModule(r.name, "top");
  return (
    [
      `# ${r.name}: 3Dblox assembly: the top die mirrored in Z (MZ) face down on the bottom die,`,
      `# front regions bonded (hybrid bonds, one per F2F bit, ${b}.bmap / ${t}.bmap).`,
      "",
      "Header:",
      '  version: "1.0"',
      '  unit: "micron"',
      `  precision: ${DBU_PER_UM}`,
      "  include:",
      `    - ${r.name}.3dbv`,
      "",
      "Design:",
      `  name: ${yamlStr(assemblyModule(r.name))}`,
      "  external:",
      `    verilog_file: ${yamlStr(`../${assemblyModule(r.name)}.v`)}`,
      "",
      "ChipletInst:",
      "  u_tier_bottom:",
      `    reference: ${b}`,
      "    external:",
      `      verilog_file: ${yamlStr(`../${b}.v`)}`,
      "  u_tier_top:",
      `    reference: ${t}`,
      "    external:",
      `      verilog_file: ${yamlStr(`../${t}.v`)}`,
      "",
      "Stack:",
      "  u_tier_bottom:",
      "    loc: [0.0, 0.0]",
      "    z: 0.0",
      "    orient: R0",
      "  u_tier_top:",
      "    loc: [0.0, 0.0]",
      `    z: ${DIE_THICKNESS_UM.toFixed(1)}`,
      "    orient: MZ",
      "",
      "Connection:",
      "  f2f_bond:",
      "    top: u_tier_top.regions.f2f",
      "    bot: u_tier_bottom.regions.f2f",
      "    thickness: 0.0",
      "  package:",
      "    top: u_tier_bottom.regions.io",
      "    bot: ~",
      "    thickness: 0.0",
    ].join("\n") + "\n"
  );
}

export const ASSUMPTIONS: readonly string[] = [
  "logic area: each instance's module mapped onto the cell library (generator/physical: Yosys synth + dfflibmap + abc -liberty, fanout repair), area = sum of the liberty 'area' of its cells",
  "memory area: macros (blackbox fakeram45 cells) from the SRAM model at the library's node (fakeram45 figures scaled by Stillmaker & Baas 2017; docs/MEMORY.md), plus the wrapper's glue cells; memories below hardware.macroMinBits are flip-flops",
  "tier area = sum of its instances' cell and macro areas (no utilization margin, halos or whitespace); footprint = the larger tier area; both dies have that footprint (square)",
  "bond budget = footprint x integration.bondUsableFraction / integration.bondPitchUm^2; bonds = total width of the F2F ports (one hybrid bond per bit, no spares, power bonds not counted)",
  "chip I/O and the clock root are on the bottom die; the clock reaches the top die as f2f_clk; chip inputs used on the top die and chip outputs driven from it pass through the bottom die",
  "no register stage at the bond (integration.f2fRegisters must be false): the 3D assembly is cycle-equivalent to the 2D top",
  "each die has its own power nets (bottom VDD_BOT/VSS_BOT, top VDD_TOP/VSS_TOP); the RTL has no power pins",
  `bond bumps on a square grid at the bond pitch centred on the die, identical coordinates on both dies (top die mirrored MZ); die thickness ${DIE_THICKNESS_UM} um is a placeholder`,
];

export interface ThreeDOptions extends PartitionOptions {
  /**
   * also the physical views: 3d_manifest.json (areas, budget), partition.txt and the 3Dblox
   * files (default true).  They need `areas` and `flat`; without them only the RTL and
   * bond_map.json are produced, and areas are needed only by the modes whose assignment
   * depends on them ("auto", "logic-on-logic").
   */
  physical?: boolean;
  /** instance areas from synthesis (generator/physical/design.ts physicalInputs) */
  areas?: AreaEstimate;
  /** the flat mapped netlist of the 2D top (partition.txt names its cells) */
  flat?: FlatNetlist;
  /** also 3d/<name>_flat.v, the flat mapped netlist partition.txt names (large; default false; needs flat.verilog) */
  flatVerilog?: boolean;
}

/** Whether buildThreeD needs synthesized areas for this mode and these options. */
export function needsAreas(mode: Mode, physical: boolean): boolean {
  return mode !== "2d" && (physical || mode === "auto" || mode === "logic-on-logic");
}

export interface ThreeD {
  mode: Mode;
  assign: Map<string, Tier>;
  f2f: F2fNet[];
  /** areas (physical views or auto mode only) */
  areas?: AreaEstimate;
  stats?: PartitionStats;
  /** cut (bonds) of every mode for the same areas and balance bound (when areas are known) */
  cutByMode?: Record<Mode, { cut: number; balance: number; balanceOk: boolean }>;
  files: GeneratedFile[];
}

const round = (v: number, d = 1) => Number(v.toFixed(d));

/**
 * The 3D views of a design for `r.integration.mode` (no files for "2d").  `files` must hold
 * the design files every instance needs (kinds "rtl" and "stub" are synthesized) and the 2D
 * top (netlist.module) for the flat netlist behind partition.txt.
 */
export function buildThreeD(r: Resolved, files: readonly GeneratedFile[], netlist: Netlist, opts: ThreeDOptions = {}): ThreeD {
  const mode = r.integration.mode;
  const physical = opts.physical ?? true;
  // areas decide auto and logic-on-logic (balance repair); memory-on-logic needs them for the physical views only
  const areas = needsAreas(mode, physical) || (mode === "2d" && physical) ? opts.areas : undefined;
  if (needsAreas(mode, physical) && !areas)
    throw new Error(`internal error: integration.mode '${mode}'${physical ? " with the physical views" : ""} needs the synthesized instance areas (generator/physical/design.ts physicalInputs)`);
  const um2 = areas?.um2 ?? new Map(netlist.instances.map((i) => [i.name, 0]));
  const assign = tierPartition(r, netlist, um2, opts);
  let stats: PartitionStats | undefined;
  let cutByMode: ThreeD["cutByMode"];
  if (areas) {
    stats = partitionStats(r, netlist, assign, um2);
    const byMode = allModes(r, netlist, um2, opts);
    cutByMode = Object.fromEntries(
      (Object.keys(byMode) as Mode[]).map((m) => {
        const s = partitionStats(r, netlist, byMode[m], um2);
        return [m, { cut: s.cut, balance: round(s.balance, 4), balanceOk: s.balanceOk }];
      }),
    ) as ThreeD["cutByMode"];
  }
  if (mode === "2d") return { mode, assign, areas, stats, f2f: [], cutByMode, files: [] };

  const rtl = renderTierRtl(r, netlist, assign);
  const f2f = rtl.f2f;
  const bonds = f2f.reduce((a, f) => a + f.width, 0);
  const head = { generator: `st3d ${r.version}`, design: r.name, configHash: r.hash };
  const pitch = r.integration.bondPitchUm;
  const bondMap = {
    ...head,
    mode,
    bondPitchUm: pitch,
    bonds,
    powerNets: POWER_NETS,
    nets: f2f.map((f) => ({
      name: f.net,
      port: f.port,
      width: f.width,
      direction: f.from === "bottom" ? "bottom->top" : "top->bottom",
      sourceTier: f.from,
      sinkTier: f.to,
      driver: f.driver,
      sinks: f.sinks,
    })),
  };
  const out: GeneratedFile[] = [...rtl.files, { path: `${VIEW_DIR}/bond_map.json`, kind: "report", content: JSON.stringify(bondMap, null, 2) + "\n" }];
  if (!physical || !areas || !stats) return { mode, assign, areas, stats, f2f, cutByMode, files: out };

  if (bonds !== stats.cut) throw new Error(`internal error: ${bonds} F2F bits but a cut of ${stats.cut}`);
  const side = Math.sqrt(stats.footprintUm2);
  const bumps = bondGrid(f2f, pitch, side);
  const areaOf = new Map(areas.detail.map((d) => [d.inst, d]));
  const manifest = {
    ...head,
    mode,
    tops: { assembly: assemblyModule(r.name), bottom: tierModule(r.name, "bottom"), top: tierModule(r.name, "top"), twoD: netlist.module },
    bonds,
    f2fNets: f2f.length,
    bondPitchUm: pitch,
    bondUsableFraction: r.integration.bondUsableFraction,
    footprintUm2: round(stats.footprintUm2),
    bondBudget: stats.bondBudget,
    bondMargin: stats.bondMargin,
    balance: round(stats.balance, 4),
    balanceBound: r.integration.balance,
    balanceOk: stats.balanceOk,
    f2fRegisters: r.integration.f2fRegisters,
    clock: { net: "clk", root: "bottom", topDiePort: f2f.some((f) => f.net === "clk") ? "f2f_clk" : null },
    tiers: Object.fromEntries(
      TIERS.map((t) => [
        t,
        {
          module: tierModule(r.name, t),
          areaUm2: round(stats!.areaUm2[t]),
          power: POWER_NETS[t].power,
          ground: POWER_NETS[t].ground,
          instances: stats!.instances[t].map((i) => ({ name: i, module: areaOf.get(i)!.module, kind: areaOf.get(i)!.kind, areaUm2: round(areaOf.get(i)!.areaUm2) })),
        },
      ]),
    ),
    cutByMode,
    areaSource: areas.source,
    assumptions: ASSUMPTIONS,
  };
  const flat = opts.flat;
  if (!flat) throw new Error("internal error: the physical 3D views need the flat mapped netlist of the 2D top (generator/physical/design.ts physicalInputs)");
  void files;
  out.push(
    { path: `${VIEW_DIR}/3d_manifest.json`, kind: "report", content: JSON.stringify(manifest, null, 2) + "\n" },
    { path: `${VIEW_DIR}/partition.txt`, kind: "report", content: partitionTxt(flat, assign) },
    { path: `${VIEW_DIR}/${r.name}.3dbv`, kind: "report", content: fileHeader(r, `${r.name}.3dbv`, "3Dblox die views", THIS_MODULE, "#") + render3dbv(r, side, bumps.length > 0) },
    { path: `${VIEW_DIR}/${r.name}.3dbx`, kind: "report", content: fileHeader(r, `${r.name}.3dbx`, "3Dblox assembly", THIS_MODULE, "#") + render3dbx(r) },
  );
  if (bumps.length)
    for (const t of TIERS) {
      const name = `${tierModule(r.name, t)}.bmap`;
      out.push({ path: `${VIEW_DIR}/${name}`, kind: "report", content: fileHeader(r, name, `bump map of the ${t} die`, THIS_MODULE, "#") + renderBmap(bumps) });
    }
  if (opts.flatVerilog) {
    if (flat.verilog === undefined) throw new Error("internal error: flatVerilog needs the flat netlist's Verilog");
    out.push({ path: `${VIEW_DIR}/${r.name}_flat.v`, kind: "data", content: flat.verilog });
  }
  return { mode, assign, areas, stats, f2f, cutByMode, files: out };
}

/** The files of buildThreeD (tier tops and assembly kind "rtl", the rest "report"/"data"); [] for mode "2d". */
export function threeDViews(r: Resolved, files: readonly GeneratedFile[], netlist: Netlist, opts: ThreeDOptions = {}): GeneratedFile[] {
  if (r.integration.mode === "2d") return [];
  return buildThreeD(r, files, netlist, opts).files;
}

/** Tier of every logical memory module, for macros/<tier>/macros.json. */
export function memoryTiers(netlist: Netlist, assign: ReadonlyMap<string, Tier>): Map<string, Tier> {
  return new Map(netlist.instances.filter((i) => i.kind === "memory").map((i) => [i.module, assign.get(i.name)!]));
}
