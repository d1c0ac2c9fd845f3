/** The wall clock, chosen here in bin/ only: epoch nanoseconds with sub-millisecond resolution. */
import { performance } from "node:perf_hooks";

const originNs = BigInt(Math.round(performance.timeOrigin * 1e6));

/** Wall-clock time in ns since the epoch (monotonic within the process). */
export function wallNs(): bigint {
  return originNs + BigInt(Math.round(performance.now() * 1e6));
}

/** Monotonic ms for latency measurement. */
export const monoMs = (): number => performance.now();
