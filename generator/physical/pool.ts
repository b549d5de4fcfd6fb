/** A pool of async workers: at most `jobs` calls of `fn` run at once (Yosys processes, STA runs). */
import os from "node:os";

/** Parallel jobs by default: the machine's cores ($ST3D_JOBS overrides). */
export function defaultJobs(): number {
  const env = Number(process.env.ST3D_JOBS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
}

/** Run `fn` over `items`, `jobs` at a time; results in item order; the first failure is thrown once every started call has settled. */
export async function runPool<T, R>(items: readonly T[], jobs: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed: unknown = undefined;
  const worker = async () => {
    for (;;) {
      if (failed !== undefined) return;
      const i = next++;
      if (i >= items.length) return;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        if (failed === undefined) failed = e;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}
