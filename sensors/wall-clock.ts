/** The wall clock, chosen here in bin/ only: epoch nanoseconds with sub-millisecond resolution. */
import { performance } from "node:perf_hooks";
import { asyncScheduler, type SchedulerLike } from "rxjs";

const originNs = BigInt(Math.round(performance.timeOrigin * 1e6));

/** Wall-clock time in ns since the epoch (monotonic within the process). */
export function wallNs(): bigint {
  return originNs + BigInt(Math.round(performance.now() * 1e6));
}

/** Monotonic ms for latency measurement. */
export const monoMs = (): number => performance.now();


/**
 * The live scheduler: asyncScheduler's timers, with now() on the same clock as wallNs (asyncScheduler
 * itself reads Date.now(), which drifts from performance.now() by milliseconds — enough to skew the
 * frame-to-decision latency, which subtracts a receive stamp from scheduler time).
 */
export const wallScheduler: SchedulerLike = {
  now: () => performance.timeOrigin + performance.now(),
  schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike["schedule"],
};
