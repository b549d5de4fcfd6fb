/**
 * Gate-level simulation files (`st3d run --netlist`): the mapped netlist of every module of the
 * view (generator/physical/synth.ts), the cell models, st3d's tie cells, and the SRAM macros'
 * behavioral models (macros stay blackboxes in synthesis, so the netlist instantiates them).
 * Cell models: on Icarus the library's own Verilog models (OSU018: osu018_stdcells.v, UDP
 * based; zero-delay: Icarus ignores specify blocks without -gspecify); on Verilator, which does
 * not accept UDP tables, functional models that Yosys derives from the liberty's `function` and
 * `ff` groups (`read_liberty` without -lib, `write_verilog`).
 */
import fs from "node:fs";
import path from "node:path";
import type { Resolved } from "../config/resolve.ts";
import type { Design } from "../design.ts";
import type { GeneratedFile } from "../core/files.ts";
import { cached, cacheKey } from "../cache/cache.ts";
import { runYosysScript, yosysVersion } from "../toolchain/yosys.ts";
import { ToolFailedError } from "../toolchain/tools.ts";
import { tieVerilog, type CellLibrary } from "./library.ts";
import { synthModules, type SynthConfig } from "./synth.ts";

/** Functional Verilog models of every liberty cell (Yosys read_liberty), cached. */
export async function libertyCellModels(lib: CellLibrary, cache?: SynthConfig["cache"]): Promise<string> {
  const key = cacheKey("cellmodels-1", await yosysVersion(), lib.hash);
  const e = await cached<{ ok: true }>(
    "cellmodels",
    key,
    async (dir) => {
      const res = await runYosysScript(`read_liberty ${lib.liberty}\nwrite_verilog -noattr ${path.join(dir, "cells.v")}\n`, path.join(dir, "work"));
      if (res.code !== 0) throw new ToolFailedError("yosys", res.output, `yosys could not derive cell models from ${lib.liberty}:\n${res.output.split("\n").slice(-15).join("\n")}`);
      fs.rmSync(path.join(dir, "work"), { recursive: true, force: true });
      return { ok: true };
    },
    cache,
  );
  return fs.readFileSync(path.join(e.dir, "cells.v"), "utf8");
}

/** Every file a gate-level simulation of the view needs (kind "rtl" for the netlists, "sim" for models). */
export async function gateLevelFiles(r: Resolved, d: Design, view: "2d" | "3d", sim: "icarus" | "verilator", cfg: SynthConfig): Promise<GeneratedFile[]> {
  const modules = [...new Set(d.acc.netlist.instances.map((i) => i.module))];
  const tops = view === "2d" ? [d.acc.top] : [`${r.name}_tier_bottom`, `${r.name}_tier_top`, `${r.name}_3d`];
  for (const t of tops) if (!d.files.some((f) => f.path === `${t}.v`)) throw new Error(`view ${view}: the design has no ${t} (use an integration.mode other than 2d for the 3D view)`);
  const mods = await synthModules(d.files, modules, tops, cfg);
  const out: GeneratedFile[] = [];
  for (const m of [...mods.values()].sort((a, b) => (a.module < b.module ? -1 : 1))) out.push({ path: `netlist/${m.module}.v`, kind: "rtl", content: fs.readFileSync(m.verilog, "utf8") });
  const lib = cfg.lib;
  const models = sim === "icarus" && lib.cellModels ? fs.readFileSync(lib.cellModels, "utf8") : await libertyCellModels(lib, cfg.cache);
  out.push({ path: `netlist/cells_${sim === "icarus" && lib.cellModels ? "library" : "liberty"}.v`, kind: "sim", content: models });
  if (lib.tie.st3d) out.push({ path: "netlist/st3d_tie.v", kind: "sim", content: tieVerilog() });
  out.push(...d.files.filter((f) => f.kind === "sim" && f.path.startsWith("macros/sim/")));
  return out;
}
