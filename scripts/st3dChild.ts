/**
 * `st3d <argv>` as a child process of a benchmark script (`nice -n 10 node bin/st3d.js`, plain
 * progress on stderr passed through, stdout collected), timed.  Used by scripts/bench-*.ts.
 */
import { spawn } from "node:child_process";

export function st3dChild(argv: string[], env: Record<string, string>): Promise<{ code: number; seconds: number; out: string }> {
  const t0 = Date.now();
  return new Promise((res) => {
    const p = spawn("nice", ["-n", "10", "node", "bin/st3d.js", ...argv], { env: { ...process.env, ...env, ST3D_PROGRESS: "plain" } });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => process.stderr.write(d));
    p.on("close", (code) => res({ code: code ?? 1, seconds: (Date.now() - t0) / 1000, out }));
  });
}
