/**
 * OpenROAD-flow-scripts hand-off: one ORFS design folder per die of a view
 * (`orfs/<die top>/config.mk`, `constraint.sdc`, `macros/*.lib`), next to the Pin-3D
 * `3d/partition.txt` and the 3Dblox package of the same view.
 *
 *   make -C $ORFS/flow DESIGN_CONFIG=<report>/views/<view>/orfs/<die top>/config.mk
 *
 * - PLATFORM nangate45: st3d's macros are ORFS fakeram45 shapes (`fakeram45_<d>x<w>`);
 *   shapes that ORFS ships are taken from the platform (`$(PLATFORM_DIR)/lef|lib`); the others
 *   (two-port `fakeram45_2p_*`, shapes outside the ORFS set) get st3d's liberty at 45 nm /
 *   1.1 V (generator/blocks/memory/sramModel.ts, the fakeram45 figures themselves) in
 *   `macros/`, and their LEF must be generated (bsg_fakeram) into `macros/` — config.mk says
 *   which.
 * - VERILOG_FILES: the die's RTL (its top and every module it instantiates), without the
 *   macro stubs (ORFS reads the macros from ADDITIONAL_LIBS; a stub or a behavioral model in
 *   the file list would replace the macro).
 * - The macro list per die comes from the view's `macros/<tier>/macros.json`.
 * - CORE_UTILIZATION: the report's standard-cell utilization (constants.ts).
 */
import type { GeneratedFile } from "../core/files.ts";
import type { Design } from "../design.ts";
import type { Tier } from "../top/netlist.ts";
import { hierarchyFiles, moduleIndex, synthFiles } from "../physical/synth.ts";
import { macroLiberty, sramAtNode } from "../blocks/memory/sramModel.ts";
import { macroShape } from "../physical/macro.ts";
import { UTILIZATION } from "./constants.ts";

/** fakeram45 shapes in ORFS flow/platforms/nangate45/lef and lib (repository listing). */
export const ORFS_FAKERAM45 = new Set([
  "1024x32", "128x116", "128x256", "128x32", "128x64", "2048x39", "256x16", "256x32", "256x34", "256x48", "256x95", "256x96",
  "32x32", "32x64", "512x64", "64x124", "64x15", "64x21", "64x25", "64x256", "64x28", "64x32", "64x62", "64x64", "64x7", "64x96",
]);

export function orfsShips(macro: string): boolean {
  const m = macro.match(/^fakeram45_(\d+x\d+)$/);
  return !!m && ORFS_FAKERAM45.has(m[1]);
}

/** ORFS constraint.sdc (the layout of ORFS' own designs, e.g. flow/designs/nangate45/ibex). */
export function orfsSdc(top: string, periodNs: number): string {
  return [
    `# st3d: constraints of ${top} for OpenROAD-flow-scripts (clk_io_pct 0.2, as ORFS' designs)`,
    `current_design ${top}`,
    "",
    "set clk_name  core_clock",
    "set clk_port_name clk",
    `set clk_period ${Number(periodNs.toFixed(4))}`,
    "set clk_io_pct 0.2",
    "",
    "set clk_port [get_ports $clk_port_name]",
    "",
    "create_clock -name $clk_name -period $clk_period $clk_port",
    "",
    "set non_clock_inputs [lsearch -inline -all -not -exact [all_inputs] $clk_port]",
    "",
    "set_input_delay  [expr $clk_period * $clk_io_pct] -clock $clk_name $non_clock_inputs",
    "set_output_delay [expr $clk_period * $clk_io_pct] -clock $clk_name [all_outputs]",
    "",
  ].join("\n");
}

interface MacrosJson {
  macros: { macro: string; count: number; memories: string[] }[];
}

/** The ORFS folders of one view's dies, paths relative to the view folder. */
export function orfsFiles(d: Design, periodNs: number, header: string): GeneratedFile[] {
  const r = d.r;
  const threeD = !!d.threeD;
  const dies: { top: string; tier: Tier }[] = threeD ? [{ top: `${r.name}_tier_bottom`, tier: "bottom" }, { top: `${r.name}_tier_top`, tier: "top" }] : [{ top: d.acc.top, tier: "bottom" }];
  const sf = synthFiles(d.files).filter((f) => f.kind === "rtl");
  const index = moduleIndex(synthFiles(d.files));
  const out: GeneratedFile[] = [];
  for (const die of dies) {
    const dir = `orfs/${die.top}`;
    const mj = d.files.find((f) => f.path === `macros/${die.tier}/macros.json`);
    const macros: MacrosJson["macros"] = mj ? (JSON.parse(mj.content) as MacrosJson).macros : [];
    const rtl = hierarchyFiles(synthFiles(d.files), die.top, index).filter((f) => sf.includes(f));
    const own = macros.filter((m) => !orfsShips(m.macro)).map((m) => m.macro);
    for (const m of own) {
      const s = macroShape(m)!;
      out.push({ path: `${dir}/macros/${m}.lib`, kind: "report", content: macroLiberty(sramAtNode(m, s.ports, s.depth, s.width, { nodeNm: 45, voltage: 1.1, inverterLeakageNw: 0, inverterCell: "(none: fakeram45 leakage not modelled at 45 nm)" })) });
    }
    const lines = [
      `# ${header}`,
      `# ORFS design of the ${die.tier} die${threeD ? ` of the ${r.integration.mode} view` : " (2D)"}: ${die.top}`,
      "#   make -C $ORFS/flow DESIGN_CONFIG=$(realpath config.mk)",
      `# Macros from macros/${die.tier}/macros.json: ${macros.length ? macros.map((m) => `${m.macro} x${m.count}`).join(", ") : "none"}`,
      ...(own.length ? [`# Not shipped by ORFS (generate their LEF with bsg_fakeram into $(ST3D_MACRO_DIR)): ${own.join(", ")}`, "# their LIB is st3d's fakeram45-figure liberty, written in macros/"] : []),
      "export ST3D_DIE_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))",
      "export ST3D_VIEW_DIR := $(abspath $(ST3D_DIE_DIR)/../..)",
      "export ST3D_MACRO_DIR ?= $(ST3D_DIE_DIR)/macros",
      "",
      `export DESIGN_NAME = ${die.top}`,
      `export DESIGN_NICKNAME = ${die.top}`,
      "export PLATFORM = nangate45",
      "",
      "export VERILOG_FILES = \\",
      ...rtl.map((f, i) => `  $(ST3D_VIEW_DIR)/${f.path}${i < rtl.length - 1 ? " \\" : ""}`),
      "export SDC_FILE = $(ST3D_DIE_DIR)/constraint.sdc",
      "export SYNTH_HIERARCHICAL = 1",
      "",
      `export CORE_UTILIZATION = ${Math.round(UTILIZATION.value * 100)}`,
      "export CORE_ASPECT_RATIO = 1",
      "export CORE_MARGIN = 2",
      ...(macros.length
        ? [
            "export MACRO_PLACE_HALO = 10 10",
            "",
            "export ADDITIONAL_LEFS = \\",
            ...macros.map((m, i) => `  ${orfsShips(m.macro) ? "$(PLATFORM_DIR)/lef" : "$(ST3D_MACRO_DIR)"}/${m.macro}.lef${i < macros.length - 1 ? " \\" : ""}`),
            "export ADDITIONAL_LIBS = \\",
            ...macros.map((m, i) => `  ${orfsShips(m.macro) ? "$(PLATFORM_DIR)/lib" : "$(ST3D_DIE_DIR)/macros"}/${m.macro}.lib${i < macros.length - 1 ? " \\" : ""}`),
          ]
        : []),
      "",
    ];
    out.push({ path: `${dir}/config.mk`, kind: "report", content: lines.join("\n") });
    out.push({ path: `${dir}/constraint.sdc`, kind: "report", content: orfsSdc(die.top, periodNs) });
  }
  return out;
}
