/**
 * Yosys: every call of the tool goes through this module.  Synthesis uses Debian's `yosys` when present, else the
 * WebAssembly build from npm (@yowasp/yosys).  Reports cell counts and
 * whether any latch was inferred.
 */
import fs from "node:fs";
import path from "node:path";
import { run, which, ToolFailedError, ToolMissingError } from "./tools.ts";
import { tail } from "./verilator.ts";

export interface SynthResult {
  ok: boolean;
  log: string;
  latches: number;
  cells: Record<string, number>;
  totalCells: number;
  blackboxes: string[];
  json?: string;
}

/**
 * Run a Yosys script in workDir: Debian's `yosys` when it is on PATH, else the WebAssembly
 * build @yowasp/yosys (an optional npm dependency; it runs in a virtual file system, so the
 * sources named by `read_verilog` lines are copied into it and its output files copied back).
 * `ST3D_YOSYS=wasm` forces the WebAssembly build, `ST3D_YOSYS=native` forbids it.
 * `timeoutMs` (default 30 min) kills a native run that takes longer (`timedOut`).
 */
export async function runYosysScript(script: string, workDir: string, opts: { timeoutMs?: number } = {}): Promise<{ code: number; output: string; timedOut?: boolean }> {
  fs.mkdirSync(workDir, { recursive: true });
  const scriptFile = path.join(workDir, "synth.ys");
  fs.writeFileSync(scriptFile, script);
  const mode = process.env.ST3D_YOSYS ?? "auto";
  if (mode !== "wasm" && which("yosys")) return run("yosys", ["-q", "-l", path.join(workDir, "yosys.log"), "-s", scriptFile], { cwd: workDir, timeoutMs: opts.timeoutMs });
  const fix = "install Debian's Yosys: sudo apt-get install -y yosys (or run 'npm run setup')";
  if (mode === "native") throw new ToolMissingError("yosys", fix);
  type Tree = { [name: string]: Tree | string | Uint8Array };
  let mod: { runYosys: (args: string[], files?: Tree, opts?: object) => Promise<Tree | undefined> };
  try {
    mod = (await import("@yowasp/yosys" as string)) as typeof mod;
  } catch {
    throw new ToolMissingError("yosys", `${fix}; the WebAssembly fallback @yowasp/yosys is not installed either (npm install @yowasp/yosys)`);
  }
  // the virtual file system: sources under src/, the script rewritten to name them there
  const src: Tree = {};
  let n = 0;
  const vscript = script
    .split("\n")
    .map((l) => {
      const m = /^(read_verilog(?:\s+-\S+)*)\s+(\S+)$/.exec(l.trim());
      if (!m) return l;
      const name = `${n++}_${path.basename(m[2])}`;
      src[name] = fs.readFileSync(path.resolve(workDir, m[2]), "utf8");
      return `${m[1]} src/${name}`;
    })
    .join("\n");
  const tree: Tree = { "synth.ys": vscript, src };
  const copyBack = (out: Tree | undefined) => {
    for (const [k, v] of Object.entries(out ?? {})) {
      if (k === "src" || k === "synth.ys" || k === "tmp" || (typeof v === "object" && !(v instanceof Uint8Array))) continue;
      fs.writeFileSync(path.join(workDir, k), v as string | Uint8Array);
    }
  };
  let output = "";
  const sink = (b: Uint8Array | null) => {
    if (b) output += Buffer.from(b).toString("utf8");
  };
  try {
    copyBack(await mod.runYosys(["-q", "-l", "yosys.log", "-s", "synth.ys"], tree, { stdout: sink, stderr: sink }));
    return { code: 0, output };
  } catch (e) {
    const ex = e as { code?: number; files?: Tree; message?: string };
    copyBack(ex.files);
    return { code: typeof ex.code === "number" && ex.code !== 0 ? ex.code : 1, output: `${output}\n${ex.message ?? String(e)}` };
  }
}

let versionCache: Promise<string> | undefined;
/** `yosys -V` (cache keys); "yowasp" when only the WebAssembly build is available. */
export function yosysVersion(): Promise<string> {
  versionCache ??= (async () => {
    if (!which("yosys")) return "yowasp";
    const r = await run("yosys", ["-V"]);
    return r.output.trim();
  })();
  return versionCache;
}

/**
 * Generic synthesis (`synth -top`), flattening optional.  Files must be
 * synthesizable RTL (and blackbox stubs); `-noautowire`-style strictness comes
 * from `read_verilog -defer`.
 */
export async function yosysSynth(files: string[], top: string, workDirIn: string, opts: { flatten?: boolean; writeJson?: boolean } = {}): Promise<SynthResult> {
  const workDir = path.resolve(workDirIn);
  const abs = files.map((f) => path.resolve(f));
  const lines = [
    ...abs.map((f) => `read_verilog -defer ${f}`),
    `hierarchy -check -top ${top}`,
    `synth -top ${top}${opts.flatten ? " -flatten" : ""}`,
    "select -assert-none t:$dlatch t:$_DLATCH_* t:$_DLATCH_P_ t:$_DLATCH_N_ t:$sr t:$dlatchsr",
    "tee -o stat.txt stat",
    "tee -o stat.json stat -json",
    ...(opts.writeJson ? ["write_json netlist.json"] : []),
  ];
  const res = await runYosysScript(lines.join("\n") + "\n", workDir);
  const logFile = path.join(workDir, "yosys.log");
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : res.output;
  if (res.code !== 0) {
    const all = log + "\n" + res.output;
    const latch = (/select -assert-none/.test(all) && /Assertion failed/.test(all)) || /Assertion failed: selection is not empty: t:\$dlatch/.test(all);
    if (latch) return { ok: false, log, latches: 1, cells: {}, totalCells: 0, blackboxes: [] };
    throw new ToolFailedError("yosys", log, `yosys synthesis of ${top} failed:\n${tail(log + "\n" + res.output)}`);
  }
  // Yosys 0.23 may print plain-text notes into the `tee` file before the JSON object
  const statText = fs.readFileSync(path.join(workDir, "stat.json"), "utf8");
  // and it writes the design hierarchy as plain "module count" lines into the middle of it
  const jsonText = statText
    .slice(statText.indexOf("{"), statText.lastIndexOf("}") + 1)
    .split("\n")
    .filter((l) => !/^\s*[^\s"{}\[\],:]+\s+\d+\s*$/.test(l))
    .join("\n");
  const stat = JSON.parse(jsonText);
  const design = stat.design ?? {};
  const cells: Record<string, number> = design.num_cells_by_type ?? {};
  const latches = Object.entries(cells)
    .filter(([k]) => /latch/i.test(k))
    .reduce((a, [, v]) => a + (v as number), 0);
  // cells whose type is not a Yosys internal cell ($...) nor a module of the design: blackboxes (macros)
  const modules = new Set(Object.keys(stat.modules ?? {}).map((m) => m.replace(/^\\/, "")));
  const blackboxes = Object.keys(cells).filter((c) => !c.startsWith("$") && !modules.has(c));
  return { ok: latches === 0, log, latches, cells, totalCells: design.num_cells ?? 0, blackboxes, json: opts.writeJson ? path.join(workDir, "netlist.json") : undefined };
}

/**
 * The module interfaces of one Verilog file as Yosys reads them (`read_verilog -lib; write_json`):
 * the parsed JSON (modules -> ports with direction, bits, offset, upto, signed).
 */
export async function yosysReadInterfaces(file: string, workDirIn: string): Promise<unknown> {
  const workDir = path.resolve(workDirIn);
  fs.mkdirSync(workDir, { recursive: true });
  const json = path.join(workDir, `${path.basename(file).replace(/\W/g, "_")}.ports.json`);
  fs.rmSync(json, { force: true });
  const res = await run("yosys", ["-q", "-p", `read_verilog -lib ${path.resolve(file)}; write_json ${json}`], { cwd: workDir });
  if (res.code !== 0 || !fs.existsSync(json)) throw new ToolFailedError("yosys", res.output, `yosys could not read the ports of ${file}:\n${tail(res.output)}`);
  return JSON.parse(fs.readFileSync(json, "utf8"));
}
