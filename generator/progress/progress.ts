/**
 * Progress of long steps, on stderr.  Every step that can take more than a few seconds
 * reports through this module, so that no st3d command is silent for more than ~5 s:
 *
 *   const p = progress("synth", { total: modules.length, unit: "modules" });
 *   for (...) { await work(); p.tick(1, name); }
 *   p.done("42 modules in build/...");
 *
 * On a TTY: one line redrawn in place (bar, count/total, elapsed, ETA), at most every 200 ms.
 * Otherwise (CI, logs, pipes): plain lines, one when the step starts, then at most one every
 * `intervalMs` (default 5 s) while counts advance, and a heartbeat line "... still <label>"
 * whenever nothing advanced for `intervalMs` (the timer is unref'd: it never keeps a process
 * alive).  Work must be asynchronous for the heartbeat to fire (a spawnSync blocks the timer).
 *
 * `ST3D_PROGRESS=0` silences everything but errors; `ST3D_PROGRESS=plain` forces plain lines.
 */

export interface ProgressOptions {
  /** number of units of work, when known (gives the bar and the ETA) */
  total?: number;
  /** name of a unit in messages, e.g. "modules", "points" */
  unit?: string;
  /** where lines go (default process.stderr) */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** plain-mode interval between lines and heartbeat period, ms (default 5000) */
  intervalMs?: number;
}

export interface Progress {
  /** `n` more units finished (default 1); `note` names the last one (e.g. a module) */
  tick(n?: number, note?: string): void;
  /** set the absolute count */
  set(done: number, note?: string): void;
  /** a message line (kept on screen on a TTY) */
  log(msg: string): void;
  /** the step is over: prints "label: msg (elapsed)" and stops the heartbeat */
  done(msg?: string): void;
  /** the step failed: stops the heartbeat, prints nothing (the caller reports the error) */
  fail(): void;
}

export function fmtSeconds(s: number): string {
  // rounded once, then split (59.6 s is "1 min 0 s", never "60 s" or "8 min 60 s")
  if (s < 9.95) return `${s.toFixed(1)} s`;
  const t = Math.round(s);
  if (t < 60) return `${t} s`;
  const m = Math.floor(t / 60);
  if (m < 60) return `${m} min ${t - 60 * m} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function progress(label: string, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const mode = process.env.ST3D_PROGRESS === "0" ? "off" : process.env.ST3D_PROGRESS === "plain" || !stream.isTTY ? "plain" : "tty";
  const interval = opts.intervalMs ?? 5000;
  const unit = opts.unit ?? "";
  const t0 = Date.now();
  let count = 0;
  let note = "";
  let lastPrint = 0;
  let lastAdvance = t0;
  let drawn = false;
  let finished = false;

  const elapsed = () => (Date.now() - t0) / 1000;
  const status = () => {
    const total = opts.total;
    const e = elapsed();
    const parts: string[] = [];
    if (total !== undefined) {
      parts.push(`${count}/${total}${unit ? " " + unit : ""}`);
      if (count > 0 && count < total) parts.push(`ETA ${fmtSeconds((e / count) * (total - count))}`);
    } else if (count > 0) parts.push(`${count}${unit ? " " + unit : ""}`);
    parts.push(fmtSeconds(e));
    if (note) parts.push(note);
    return parts.join(", ");
  };
  const write = (s: string) => {
    if (mode !== "off") stream.write(s);
  };
  const clearLine = () => {
    if (mode === "tty" && drawn) {
      write("\r\x1b[2K");
      drawn = false;
    }
  };
  const draw = (force = false) => {
    const now = Date.now();
    if (mode === "tty") {
      if (!force && now - lastPrint < 200) return;
      const total = opts.total;
      let bar = "";
      if (total) {
        const w = 24;
        const f = Math.min(w, Math.round((w * count) / total));
        bar = `[${"#".repeat(f)}${".".repeat(w - f)}] `;
      }
      const cols = (stream as { columns?: number }).columns ?? 100;
      write(`\r\x1b[2K${`[${label}] ${bar}${status()}`.slice(0, cols - 1)}`);
      drawn = true;
    } else {
      if (!force && now - lastPrint < interval) return;
      write(`[${label}] ${status()}\n`);
    }
    lastPrint = now;
  };

  write(mode === "tty" ? "" : `[${label}] started${opts.total !== undefined ? ` (${opts.total}${unit ? " " + unit : ""})` : ""}\n`);
  lastPrint = Date.now();
  const timer = setInterval(() => {
    if (finished) return;
    if (mode === "tty") draw(true);
    else if (Date.now() - lastPrint >= interval) {
      write(`[${label}] ... still working (${status()})\n`);
      lastPrint = Date.now();
    }
  }, mode === "tty" ? 1000 : Math.max(50, Math.min(250, Math.floor(interval / 4))));
  timer.unref?.();

  const stop = () => {
    finished = true;
    clearInterval(timer);
  };

  return {
    tick(n = 1, what?: string) {
      count += n;
      if (what !== undefined) note = what;
      lastAdvance = Date.now();
      void lastAdvance;
      draw();
    },
    set(done: number, what?: string) {
      count = done;
      if (what !== undefined) note = what;
      draw();
    },
    log(msg: string) {
      clearLine();
      write(`[${label}] ${msg}\n`);
      lastPrint = Date.now();
      if (mode === "tty") draw(true);
    },
    done(msg?: string) {
      if (finished) return;
      stop();
      clearLine();
      write(`[${label}] ${msg ? msg + " " : "done "}(${fmtSeconds(elapsed())})\n`);
    },
    fail() {
      stop();
      clearLine();
    },
  };
}

/** Run `fn` with a progress line for `label` (heartbeat only); done/fail handled. */
export async function withProgress<T>(label: string, fn: (p: Progress) => Promise<T>, opts: ProgressOptions = {}): Promise<T> {
  const p = progress(label, opts);
  try {
    const v = await fn(p);
    p.done();
    return v;
  } catch (e) {
    p.fail();
    throw e;
  }
}
