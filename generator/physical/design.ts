/**
 * The design with its physical inputs: the integration modes whose tier assignment depends on
 * areas ("auto", "logic-on-logic") and the physical 3D views (`st3d generate --physical`) need
 * every instance's module synthesized first (asynchronous, parallel, cached, with progress);
 * `designFor` does that and then builds the design (generator/design.ts) with those areas.
 */
import fs from "node:fs";
import type { Resolved } from "../config/resolve.ts";
import { buildDesign, type Design, type DesignOptions } from "../design.ts";
import { buildAccelerator } from "../top/accelerator.ts";
import { memoryViews } from "../blocks/memory/macros.ts";
import type { GeneratedFile } from "../core/files.ts";
import type { Netlist } from "../top/netlist.ts";
import { needsAreas } from "../partition/views.ts";
import { areasFromSynth, type AreaEstimate, type FlatNetlist } from "../partition/areas.ts";
import { loadLibrary, type CellLibrary, type LibraryOptions } from "./library.ts";
import { flatView, synthModules, type ModuleSynth, type SynthConfig } from "./synth.ts";
import type { CacheOptions } from "../cache/cache.ts";
import { inWorker } from "./worker.ts";
import { progress } from "../progress/progress.ts";

export interface PhysicalOptions extends LibraryOptions {
  /** clock target, MHz (default: hardware.clockMHz, else the library's default) */
  clockMHz?: number;
  jobs?: number;
  cache?: CacheOptions;
  progressLabel?: string | false;
}

export function clockOf(r: Resolved, lib: CellLibrary, override?: number): { mhz: number; source: string } {
  if (override !== undefined) return { mhz: override, source: "--clock" };
  const c = (r.hw as { clockMHz?: number }).clockMHz;
  if (c !== undefined) return { mhz: c, source: "hardware.clockMHz" };
  return { mhz: lib.defaultClockMHz, source: `default of the ${lib.nodeNm} nm library (100 MHz at 180 nm, Stillmaker & Baas delay scaling to other nodes)` };
}

export function synthConfig(r: Resolved, opts: PhysicalOptions = {}): SynthConfig & { clockSource: string } {
  const lib = loadLibrary(opts);
  const c = clockOf(r, lib, opts.clockMHz);
  return { lib, clockMHz: c.mhz, clockSource: c.source, jobs: opts.jobs, cache: opts.cache, progressLabel: opts.progressLabel };
}

/** Flat mapped netlist of a top as partition.txt wants it (read in a worker: it can be large). */
export async function flatNetlist(top: string, mods: ReadonlyMap<string, ModuleSynth>, cfg: SynthConfig, keepVerilog: boolean): Promise<FlatNetlist> {
  const f = await flatView(top, mods, cfg);
  return inWorker<FlatNetlist>(import.meta.url, "flatNetlistJob", { top, verilog: f.verilog, json: f.json, keepVerilog });
}

/** Worker: the cell list (every instance of the written netlist, the top's tie cells too) and ports of a flat view. */
export async function flatNetlistJob(a: { top: string; verilog: string; json: string; keepVerilog: boolean }): Promise<FlatNetlist> {
  const { instancesOfVerilog } = await import("./netlist.ts");
  const verilog = fs.readFileSync(a.verilog, "utf8");
  const cells = instancesOfVerilog(verilog).map((c) => ({ name: c.name.startsWith("\\") ? c.name.slice(1) : c.name, type: c.type }));
  const json = JSON.parse(fs.readFileSync(a.json, "utf8")).modules[a.top];
  const ports = Object.entries(json.ports as Record<string, { direction: string; bits: unknown[] }>).map(([name, p]) => ({ name, direction: p.direction, width: p.bits.length }));
  return { top: a.top, cells, ports, verilog: a.keepVerilog ? verilog : undefined };
}

/** Synthesize the modules of a netlist's instances (+ its top) and return the areas and the synthesis results. */
export async function synthAreas(files: readonly GeneratedFile[], nl: Netlist, cfg: SynthConfig): Promise<{ areas: AreaEstimate; mods: Map<string, ModuleSynth> }> {
  const mods = await synthModules(files, [...new Set(nl.instances.map((i) => i.module))], [nl.module], cfg);
  return { areas: areasFromSynth(nl, mods, cfg.lib), mods };
}

/** The accelerator of a config, its synthesis sources (logic, the memories' views, the top) and every instance's mapped area. */
export async function acceleratorAreas(r: Resolved, cfg: SynthConfig) {
  const acc = buildAccelerator(r);
  const files = [...acc.logicFiles, ...memoryViews(r, acc.memories).files, acc.topFile];
  const { areas, mods } = await synthAreas(files, acc.netlist, cfg);
  return { acc, files, areas, mods };
}

/** What buildDesign needs from synthesis for this config (nothing for 2d and RTL-only memory-on-logic). */
export async function physicalInputs(r: Resolved, physical: boolean, opts: PhysicalOptions & { flatVerilog?: boolean } = {}): Promise<Pick<DesignOptions, "areas" | "flat">> {
  if (!needsAreas(r.integration.mode, physical)) return {};
  const cfg = synthConfig(r, { progressLabel: "generate: synth", ...opts });
  const { acc, areas, mods } = await acceleratorAreas(r, cfg);
  let flat: FlatNetlist | undefined;
  if (physical) {
    // flattening the top over the mapped modules (cached) and listing its cells take seconds: keep the heartbeat
    const label = cfg.progressLabel === false ? null : `${(cfg.progressLabel ?? "synth").split(":")[0]}: flatten`;
    const p = label ? progress(label) : null;
    try {
      flat = await flatNetlist(acc.top, mods, cfg, opts.flatVerilog ?? false);
    } catch (e) {
      p?.fail();
      throw e;
    }
    p?.done(`flat mapped netlist of ${acc.top}: ${flat.cells.length} cells (partition.txt)`);
  }
  return { areas, flat };
}

/** buildDesign, after the synthesis its integration mode or the physical views need. */
export async function designFor(r: Resolved, opts: DesignOptions & PhysicalOptions = {}): Promise<Design> {
  const phys = await physicalInputs(r, opts.physical ?? false, opts);
  return buildDesign(r, { ...opts, ...phys });
}
