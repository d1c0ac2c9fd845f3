/**
 * The report's answer first: the headline comparisons as a sentence and one table, and readable names for the
 * metric ids of the comparison table ("closedLoop.byCondition.weather.FOG.collisionsPer100km" →
 * "closed loop · weather FOG · collisions per 100 km"). Pure: report in, strings out.
 */
import type { Comparison, EvalReport, ModelReport } from "./report.ts";
import { fmt, pct } from "./summary.ts";

const PHASES: Record<string, string> = { openLoop: "open loop", closedLoop: "closed loop" };

const METRIC_NAMES: Record<string, string> = {
  accuracy: "accuracy",
  macroF1: "macro-F1",
  macroPrecision: "macro precision",
  macroRecall: "macro recall",
  meanAP: "hazard mAP",
  collisions: "collisions",
  collisionsPer100km: "collisions per 100 km",
  nearMisses: "near misses",
  nearMissesPer100km: "near misses per 100 km",
  stopLineViolations: "stop-line violations",
  speedLimitViolations: "speed-limit violations",
  voiceCompliance: "voice compliance",
  routeCompletion: "route completion",
  jerkRmsMean: "jerk rms, mean (m/s³)",
  maxAbsJerk: "largest jerk (m/s³)",
};

/** camelCase → "camel case", for ids not in the table above. */
const words = (id: string): string => id.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();

/** A metric id of the comparison table as people read it. */
export function metricLabel(id: string): string {
  const parts = id.split(".");
  const out: string[] = [];
  let i = 0;
  if (parts[0]! in PHASES) out.push(PHASES[parts[i++]!]!);
  while (i < parts.length) {
    const p = parts[i]!;
    if (p === "byCondition" && i + 2 < parts.length) {
      out.push(`${parts[i + 1]} ${parts[i + 2]}`);
      i += 3;
    } else if (p === "comfort") {
      i++;
    } else {
      out.push(METRIC_NAMES[p] ?? words(p));
      i++;
    }
  }
  return out.join(" · ");
}

/** Metrics the verdict names, in order: how to call them and how to write a value. */
const HEADLINE: { metric: string; label: string; value: (v: number | null) => string; digits: number }[] = [
  { metric: "closedLoop.collisions", label: "collisions", value: (v) => fmt(v, 0), digits: 0 },
  { metric: "closedLoop.routeCompletion", label: "route completion", value: pct, digits: -1 },
  { metric: "openLoop.macroF1", label: "open-loop macro-F1", value: (v) => fmt(v), digits: 3 },
];

/** True when the interval leaves out 0: the difference is more than resampling noise. */
const clear = (c: Comparison): boolean => c.ci[0] !== null && c.ci[1] !== null && (c.ci[0] > 1e-9 || c.ci[1] < -1e-9);

/** +0.123, −6, ±0 (the sign of the rounded value, so that no "−0" appears). */
function signed(v: number | null, digits: number): string {
  if (v === null) return "n/a";
  const r = Number(v.toFixed(digits));
  return `${r > 0 ? "+" : r < 0 ? "−" : "±"}${Math.abs(r).toFixed(digits)}`;
}

/** One sentence per compared model: its headline numbers against the baseline's, with the interval. */
export function verdictSentences(r: EvalReport): string[] {
  const baseline = r.models[0]?.model.id;
  if (!baseline) return [];
  const out: string[] = [];
  for (const m of r.models.slice(1)) {
    const clauses: string[] = [];
    // A report extended with a model compared with another than the first (scripts/add-eval-model.ts) names that one.
    let against = baseline;
    for (const h of HEADLINE) {
      const c = r.comparisons.find((x) => x.metric === h.metric && x.model === m.model.id);
      if (!c) continue;
      against = c.baseline;
      // digits -1: a share, written in percentage points.
      const num = (v: number | null): string => (h.digits < 0 ? (v === null ? "n/a" : String(Math.round(v * 100) + 0)) : fmt(v, h.digits));
      const d = h.digits < 0 ? `${signed(c.difference === null ? null : c.difference * 100, 0)} points` : signed(c.difference, h.digits);
      const diff = c.difference === null ? "" : ` (${d}, ${pct(c.level)} CI [${num(c.ci[0])}, ${num(c.ci[1])}]${clear(c) ? "" : ", within noise"})`;
      clauses.push(`${h.label} ${h.value(c.modelValue)} vs ${h.value(c.baselineValue)}${diff}`);
    }
    if (clauses.length) out.push(`${m.model.id} against ${against}: ${clauses.join("; ")}.`);
  }
  const closed = r.models.filter((m) => m.closedLoop);
  if (closed.length > 1) {
    const best = [...closed].sort((a, b) => a.closedLoop!.collisions - b.closedLoop!.collisions || (b.openLoop?.macroF1 ?? 0) - (a.openLoop?.macroF1 ?? 0))[0]!;
    const c = best.closedLoop!;
    out.unshift(`Fewest collisions in closed loop: ${best.model.id} (${c.collisions} in ${c.episodes} episodes, ${fmt(c.km, 1)} km, route completion ${pct(c.routeCompletion)}).`);
  }
  return out;
}

/** The headline table: one row per model, the numbers the verdict is made of. */
export function headlineRows(models: ModelReport[]): { head: string[]; rows: string[][] } {
  const head = ["model", "strategy", "reads", "collisions", "per 100 km", "near misses per 100 km", "route completion", "open-loop accuracy", "open-loop macro-F1", "latency p99 ms"];
  const rows = models.map((m) => {
    const c = m.closedLoop;
    const o = m.openLoop;
    return [
      m.model.id,
      m.model.strategy,
      m.model.modalities.join("+"),
      c ? String(c.collisions) : "n/a",
      fmt(c?.collisionsPer100km, 1),
      fmt(c?.nearMissesPer100km, 1),
      pct(c?.routeCompletion),
      fmt(o?.accuracy),
      fmt(o?.macroF1),
      fmt(o?.latency.totalMs.p99, 1),
    ];
  });
  return { head, rows };
}
