/** The wall clock (only bin/ chooses it): epoch nanoseconds with sub-millisecond resolution, and the live scheduler on the same clock. */
import { performance } from "node:perf_hooks";
import { asyncScheduler, type SchedulerLike } from "rxjs";
import { msToNs } from "../schemas/time.ts";

const originNs = msToNs(performance.timeOrigin);

/** Wall-clock time in ns since the epoch (monotonic within the process). */
export function wallNs(): bigint {
  return originNs + msToNs(performance.now());
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
