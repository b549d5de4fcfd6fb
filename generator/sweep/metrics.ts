/**
 * The metrics a sweep records for every point, which stage computes each, and its natural
 * direction (what "better" means when it is an objective).  One fixed list, in this order, is
 * the column set of results.csv and the `metrics` object of every results.jsonl row: a metric
 * that no selected stage computes is null there (an empty CSV cell), never left out, so every
 * row of every sweep has the same shape.
 */

export type StageName = "cycles" | "physical" | "report";
/** Stages in the order a point runs them (a later stage's value of a metric wins). */
export const STAGES: readonly StageName[] = ["cycles", "physical", "report"];

export type Goal = "minimize" | "maximize";

export interface MetricInfo {
  /** stages that compute it */
  stages: readonly StageName[];
  goal: Goal;
  unit: string;
  /** words for axis labels and tables */
  label: string;
}

export const METRICS = {
  cycles: { stages: ["cycles", "report"], goal: "minimize", unit: "cycles", label: "cycles per inference (start to done, the accelerator's own counter)" },
  utilization: { stages: ["cycles", "report"], goal: "maximize", unit: "", label: "synaptic-lane utilization = synaptic ops / (lanes × cycles)" },
  synapticOps: { stages: ["cycles", "report"], goal: "minimize", unit: "ops", label: "synaptic operations per inference" },
  lanes: { stages: ["cycles", "report"], goal: "minimize", unit: "lanes", label: "synaptic accumulator lanes" },
  fmaxMHz: { stages: ["report"], goal: "maximize", unit: "MHz", label: "maximum clock frequency (static timing)" },
  feffMHz: { stages: ["report"], goal: "maximize", unit: "MHz", label: "effective frequency" },
  energyPerInferenceNj: { stages: ["report"], goal: "minimize", unit: "nJ", label: "energy per inference" },
  powerMw: { stages: ["report"], goal: "minimize", unit: "mW", label: "power" },
  pjPerSop: { stages: ["report"], goal: "minimize", unit: "pJ/SOP", label: "energy per synaptic operation" },
  memLatencyPs: { stages: ["report"], goal: "minimize", unit: "ps", label: "memory-access latency" },
  footprintUm2: { stages: ["physical", "report"], goal: "minimize", unit: "µm²", label: "footprint (the larger die's area; the die for 2d)" },
  siliconUm2: { stages: ["physical", "report"], goal: "minimize", unit: "µm²", label: "silicon area (both dies)" },
  bonds: { stages: ["physical", "report"], goal: "minimize", unit: "bonds", label: "F2F hybrid bonds (0 for 2d)" },
  bondBudget: { stages: ["physical", "report"], goal: "maximize", unit: "bonds", label: "bond budget = footprint × usable fraction / pitch² (null for 2d)" },
} as const satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export type Metrics = Record<MetricName, number | null>;

export function emptyMetrics(): Metrics {
  return Object.fromEntries(METRIC_NAMES.map((m) => [m, null])) as Metrics;
}

export function isMetric(s: string): s is MetricName {
  return Object.prototype.hasOwnProperty.call(METRICS, s);
}

export interface Objective {
  metric: MetricName;
  goal: Goal;
}

/** "cycles ↓" / "utilization ↑" */
export function objectiveLabel(o: Objective): string {
  const u = METRICS[o.metric].unit;
  return `${o.metric}${u && u !== o.metric ? ` (${u})` : ""} ${o.goal === "minimize" ? "↓" : "↑"}`;
}
