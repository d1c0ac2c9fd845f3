/**
 * Bootstrap confidence intervals over units (episodes): resample the units with replacement, recompute
 * the statistic, take percentiles. Statistics are written over per-unit weights (how many times each unit
 * was drawn), so that a resample costs one pass over the units and paired comparisons (two models on the
 * same episodes) use the same draw for both sides. Seeded: the same seed gives the same interval.
 */

import { mulberry32 } from "../../domain/random.ts";

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  iterations?: number;
  /** Central coverage of the interval (default 0.95). */
  level?: number;
  /** Seed of the resampling (default 1). */
  seed?: number;
}

export interface Interval {
  /** The statistic on the data as it is (every unit weight 1). */
  estimate: number;
  /** Percentile interval of the resampled statistic; NaN when no resample gave a finite value. */
  lo: number;
  hi: number;
  level: number;
  iterations: number;
  /** Resamples whose statistic was not finite (e.g. a ratio with a zero denominator), left out. */
  undefinedResamples: number;
}

/** The q-quantile (0..1) of sorted values, linear between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Draw counts of n units resampled n times with replacement. */
export function resampleWeights(n: number, rand: () => number): number[] {
  const w = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) w[Math.floor(rand() * n)]!++;
  return w;
}

/**
 * Percentile bootstrap of `stat(weights)` over `units` units. For a paired comparison, make `stat`
 * compute the difference of the two models' statistics under the same weights.
 */
export function bootstrap(units: number, stat: (weights: readonly number[]) => number, options: BootstrapOptions = {}): Interval {
  const iterations = options.iterations ?? 2000;
  const level = options.level ?? 0.95;
  const rand = mulberry32(options.seed ?? 1);
  const estimate = stat(new Array<number>(units).fill(1));
  const values: number[] = [];
  let undefinedResamples = 0;
  for (let i = 0; i < iterations && units > 0; i++) {
    const v = stat(resampleWeights(units, rand));
    if (Number.isFinite(v)) values.push(v);
    else undefinedResamples++;
  }
  values.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { estimate, lo: quantileSorted(values, tail), hi: quantileSorted(values, 1 - tail), level, iterations, undefinedResamples };
}
