/** Macro cell names of the memory flow (generator/blocks/memory/macros.ts): `fakeram45_<d>x<w>` (1RW), `fakeram45_2p_<d>x<w>` (two-port). */
import type { MacroPorts } from "../blocks/memory/macros.ts";

export function macroShape(type: string): { ports: MacroPorts; depth: number; width: number } | null {
  const m = type.match(/^fakeram45_(2p_)?(\d+)x(\d+)$/);
  return m ? { ports: m[1] ? "2p" : "1rw", depth: Number(m[2]), width: Number(m[3]) } : null;
}
