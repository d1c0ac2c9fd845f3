/**
 * Model comparisons with paired bootstrap intervals over episodes: both models were scored on the same
 * episodes, so each resample draws episodes once and computes both sides on that draw. Rates are ratios
 * of pooled sums (collisions / km over the drawn episodes), never means of per-episode rates. Pure.
 */
import { metricsFromConfusion } from "../../fusion/train/metrics.ts";
import { bootstrap, type BootstrapOptions, type Interval } from "./bootstrap.ts";
import { pooledConfusion } from "./open-loop.ts";
import type { Comparison, EpisodeRow } from "./report.ts";

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function comparison(
  metric: string,
  names: { baseline: string; model: string },
  units: number,
  base: (w: readonly number[]) => number,
  model: (w: readonly number[]) => number,
  options: BootstrapOptions,
  reduction: boolean,
): Comparison {
  const diff: Interval = bootstrap(units, (w) => model(w) - base(w), options);
  const ones = new Array<number>(units).fill(1);
  const out: Comparison = {
    metric,
    baseline: names.baseline,
    model: names.model,
    baselineValue: finite(base(ones)),
    modelValue: finite(model(ones)),
    difference: finite(diff.estimate),
    ci: [finite(diff.lo), finite(diff.hi)],
    level: diff.level,
    iterations: diff.iterations,
    units,
  };
  if (reduction) {
    const red = bootstrap(units, (w) => 1 - model(w) / base(w), options);
    out.reduction = { value: finite(red.estimate), ci: [finite(red.lo), finite(red.hi)] };
  }
  return out;
}

/** Open-loop accuracy and macro-F1, paired over the episodes both models decided on. */
export function compareOpenLoop(
  names: { baseline: string; model: string },
  base: Map<string, number[][]>,
  model: Map<string, number[][]>,
  options: BootstrapOptions = {},
): Comparison[] {
  const episodes = [...base.keys()].filter((e) => model.has(e)).sort();
  const b = episodes.map((e) => base.get(e)!);
  const m = episodes.map((e) => model.get(e)!);
  const stat = (units: number[][][], f: "accuracy" | "macroF1") => (w: readonly number[]) => metricsFromConfusion(pooledConfusion(units, w))[f];
  return (["accuracy", "macroF1"] as const).map((f) => comparison(`openLoop.${f}`, names, episodes.length, stat(b, f), stat(m, f), options, false));
}

/** Rows of both models on the same episodes, matched by scenario and seed. */
export function pairEpisodes(base: readonly EpisodeRow[], model: readonly EpisodeRow[]): { b: EpisodeRow[]; m: EpisodeRow[] } {
  const key = (r: EpisodeRow): string => `${r.scenario}#${r.seed}`;
  const byKey = new Map(model.map((r) => [key(r), r]));
  const b: EpisodeRow[] = [];
  const m: EpisodeRow[] = [];
  for (const r of base) {
    const o = byKey.get(key(r));
    if (o) {
      b.push(r);
      m.push(o);
    }
  }
  return { b, m };
}

type Pick = (r: EpisodeRow) => number;
/** Σ w·num / Σ w·den (× scale) over episode rows: a pooled rate under bootstrap weights. */
export const ratio = (rows: readonly EpisodeRow[], num: Pick, den: Pick, scale = 1) => (w: readonly number[]) => {
  let a = 0;
  let d = 0;
  rows.forEach((r, i) => {
    a += w[i]! * num(r);
    d += w[i]! * den(r);
  });
  return (a / d) * scale;
};
const total = (rows: readonly EpisodeRow[], f: Pick) => (w: readonly number[]) => rows.reduce((a, r, i) => a + w[i]! * f(r), 0);

/**
 * Closed-loop comparisons: collisions (count and per 100 km, overall and per weather and tunnel), near
 * misses, rule violations, voice compliance, route completion and comfort.
 */
export function compareClosedLoop(
  names: { baseline: string; model: string },
  baseRows: readonly EpisodeRow[],
  modelRows: readonly EpisodeRow[],
  options: BootstrapOptions = {},
): Comparison[] {
  const { b, m } = pairEpisodes(baseRows, modelRows);
  const n = b.length;
  const out: Comparison[] = [];
  const add = (metric: string, f: (rows: EpisodeRow[]) => (w: readonly number[]) => number, reduction: boolean): void => {
    out.push(comparison(metric, names, n, f(b), f(m), options, reduction));
  };
  add("closedLoop.collisions", (rows) => total(rows, (r) => r.collisions), true);
  add("closedLoop.collisionsPer100km", (rows) => ratio(rows, (r) => r.collisions, (r) => r.km, 100), true);
  const conds = new Set<string>();
  for (const r of [...b, ...m]) for (const dim of ["weather", "tunnel"]) for (const v of Object.keys(r.byCondition[dim] ?? {})) conds.add(`${dim}\u0000${v}`);
  for (const key of [...conds].sort()) {
    const [dim, v] = key.split("\u0000") as [string, string];
    const c = (r: EpisodeRow) => r.byCondition[dim]?.[v];
    add(`closedLoop.byCondition.${dim}.${v}.collisions`, (rows) => total(rows, (r) => c(r)?.collisions ?? 0), true);
    add(`closedLoop.byCondition.${dim}.${v}.collisionsPer100km`, (rows) => ratio(rows, (r) => c(r)?.collisions ?? 0, (r) => c(r)?.km ?? 0, 100), true);
  }
  add("closedLoop.nearMissesPer100km", (rows) => ratio(rows, (r) => r.nearMisses, (r) => r.km, 100), true);
  add("closedLoop.stopLineViolations", (rows) => total(rows, (r) => r.stopLineViolations), true);
  add("closedLoop.speedLimitViolations", (rows) => total(rows, (r) => r.speedLimitViolations), true);
  add("closedLoop.voiceCompliance", (rows) => ratio(rows, (r) => r.voiceComplied, (r) => r.voiceJudged), false);
  add("closedLoop.routeCompletion", (rows) => ratio(rows, (r) => r.routeCompletion, () => 1), false);
  add("closedLoop.comfort.jerkRmsMean", (rows) => ratio(rows, (r) => r.jerkRms, () => 1), false);
  return out;
}
