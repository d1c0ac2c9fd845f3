/**
 * Scheduler time in fusiond units. RxJS schedulers count milliseconds as numbers; fusiond counts
 * bigint nanoseconds. Every time-based operator here reads time only through these two helpers,
 * so the wall clock never enters pipeline/ (bin/ chooses the scheduler).
 */
import type { SchedulerLike } from "rxjs";

/** The scheduler's current time, ns. */
export function nowNs(scheduler: SchedulerLike): bigint {
  return BigInt(Math.round(scheduler.now() * 1e6));
}

/** A duration in ns as a scheduler delay in ms (never negative). */
export function delayMs(ns: bigint): number {
  return ns <= 0n ? 0 : Number(ns) / 1e6;
}
