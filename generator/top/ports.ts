/**
 * Port lists of generated modules, read back from the rendered Verilog (ANSI port
 * declarations as st3d's templates write them), so the top-level netlist never keeps a
 * second, hand-written copy of a block's pins.
 */

import type { PortDecl } from "../blocks/block.ts";
import type { GeneratedFile } from "../core/files.ts";

export function parsePorts(text: string, module: string): PortDecl[] {
  const start = text.search(new RegExp(`\\bmodule\\s+${module}\\b`));
  if (start < 0) throw new Error(`module ${module} not found`);
  const open = text.indexOf("(", start);
  // the port list ends at the first ");" after the header
  const close = text.indexOf(");", open);
  const header = text
    .slice(open + 1, close)
    .replace(/\/\/[^\n]*/g, "")
    .replace(/\/\*[\s\S]*?\*\//g, "");
  const ports: PortDecl[] = [];
  for (const raw of header.split(",")) {
    const d = raw.trim();
    if (!d) continue;
    const m = d.match(/^(input|output)\s+(?:wire|reg)?\s*(?:signed\s+)?(?:\[\s*(\d+)\s*:\s*(\d+)\s*\])?\s*([A-Za-z_][A-Za-z0-9_]*)$/);
    if (!m) throw new Error(`module ${module}: cannot parse port declaration '${d}'`);
    const width = m[2] !== undefined ? Math.abs(Number(m[2]) - Number(m[3])) + 1 : 1;
    ports.push({ name: m[4], dir: m[1] as PortDecl["dir"], width });
  }
  return ports;
}

export function portsOf(files: GeneratedFile[], module: string): PortDecl[] {
  const f = files.find((x) => new RegExp(`\\bmodule\\s+${module}\\b`).test(x.content));
  if (!f) throw new Error(`no generated file defines module ${module}`);
  return parsePorts(f.content, module);
}
