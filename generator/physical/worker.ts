/**
 * CPU-heavy steps of the physical flow (parsing and rewriting netlists of hundreds of
 * thousands of cells, flattening, the SPEF) run in a worker thread, so the main thread's
 * progress heartbeat keeps printing (generator/progress: never silent more than 5 s).
 * `inWorker(import.meta.url, "fn", args)` calls the exported `fn(args)` of that module in a
 * fresh worker (TypeScript loaded through tsx) and returns its value; an error keeps its name
 * and message.
 */
import { Worker } from "node:worker_threads";

export function inWorker<T>(moduleUrl: string, fn: string, args: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const w = new Worker(new URL("./worker-boot.mjs", import.meta.url), { workerData: { module: moduleUrl, fn, args } });
    let settled = false;
    w.on("message", (m: { ok: boolean; value?: T; name?: string; message?: string; stack?: string }) => {
      settled = true;
      if (m.ok) resolve(m.value as T);
      else {
        const e = new Error(m.message);
        e.name = m.name ?? "Error";
        if (process.env.ST3D_DEBUG && m.stack) e.stack = m.stack;
        reject(e);
      }
      void w.terminate();
    });
    w.on("error", (e) => {
      if (!settled) reject(e);
    });
    w.on("exit", (code) => {
      if (!settled) reject(new Error(`internal error: worker ${fn} exited with code ${code}`));
    });
  });
}
