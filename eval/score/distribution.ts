/** A latency distribution: summary quantiles and a fixed-edge histogram (for the report's chart). Pure. */
import { quantileSorted } from "./bootstrap.ts";

export interface Distribution {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** counts[i] = values in [edges[i], edges[i+1]); the last bin also holds everything ≥ its lower edge. */
  histogram: { edges: number[]; counts: number[] };
}

/** Bin edges in ms: fine below 10 ms, coarser above; the last bin is open-ended. */
export const LATENCY_EDGES_MS: readonly number[] = [0, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000];

export function distribution(values: readonly number[], edges: readonly number[] = LATENCY_EDGES_MS): Distribution {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const counts = new Array<number>(edges.length).fill(0);
  for (const v of sorted) {
    let i = edges.length - 1;
    while (i > 0 && v < edges[i]!) i--;
    counts[i]!++;
  }
  const n = sorted.length;
  const q = (p: number): number => (n ? quantileSorted(sorted, p) : 0);
  return {
    n,
    mean: n ? sorted.reduce((a, b) => a + b, 0) / n : 0,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: n ? sorted[n - 1]! : 0,
    histogram: { edges: [...edges], counts },
  };
}
