/**
 * Scheduler time in fusiond units. RxJS schedulers count milliseconds as float numbers; fusiond counts
 * bigint nanoseconds. Every layer that runs on an injected scheduler (pipeline/, replay/, eval/, bin/)
 * reads its time through `schedulerNowNs` and sets its delays with `delayMs`, so the wall clock never
 * enters the pure layers and the ms→ns conversion is written once. Here in schemas/ because pipeline/ and
 * replay/ may import only schemas/.
 */
import { Subscription, type SchedulerLike } from "rxjs";
import { msToNs, nsToMs } from "./time.ts";

/** The scheduler's current time, ns. */
export function schedulerNowNs(scheduler: Pick<SchedulerLike, "now">): bigint {
  return msToNs(scheduler.now());
}

/** A duration in ns as a scheduler delay in ms (never negative). */
export function delayMs(ns: bigint): number {
  return ns <= 0n ? 0 : nsToMs(ns);
}

/**
 * Scheduler clocks are float64 milliseconds: at an epoch-sized time (1.7e12 ms) one step is about
 * 0.24 µs, so a timer set for time T may fire a fraction of a µs before T. Times closer than this
 * are the same instant; waiting for the rest would schedule a zero-length timer forever.
 */
export const CLOCK_RESOLUTION_NS = 1_000n;

/**
 * Runs `fn` every `intervalNs` of scheduler time until the returned subscription is closed.
 * Each tick is a fresh action, and only the pending one is held: rescheduling from inside an
 * action (`this.schedule`) would, on a VirtualTimeScheduler, chain every past action to the next
 * (memory that grows with the drive), and closing the first would not reliably stop the chain.
 */
export function every(scheduler: SchedulerLike, intervalNs: bigint, fn: () => void): Subscription {
  const interval = delayMs(intervalNs);
  let pending: Subscription | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    fn();
    if (!stopped) pending = scheduler.schedule(tick, interval);
  };
  pending = scheduler.schedule(tick, interval);
  return new Subscription(() => {
    stopped = true;
    pending?.unsubscribe();
  });
}
