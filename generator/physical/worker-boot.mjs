// Worker-thread entry of generator/physical/worker.ts: loads TypeScript through tsx, calls one
// exported function of one module, posts its value (or its error) back.
import { register } from "tsx/esm/api";
import { parentPort, workerData } from "node:worker_threads";

register();
try {
  const mod = await import(workerData.module);
  const value = await mod[workerData.fn](workerData.args);
  parentPort.postMessage({ ok: true, value });
} catch (e) {
  parentPort.postMessage({ ok: false, name: e?.name ?? "Error", message: e?.message ?? String(e), stack: e?.stack });
}
