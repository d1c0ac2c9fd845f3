/**
 * Scheduler time in fusiond units. RxJS schedulers count milliseconds as float numbers; fusiond counts
 * bigint nanoseconds. Every layer that runs on an injected scheduler (pipeline/, replay/, eval/, bin/)
 * reads its time through `schedulerNowNs`, sets its delays with `delayMs` and runs periodic work with
 * `every` (the one answer to self-rescheduling timers), so the wall clock never
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
