/**
 * Test and bench helper: a sequence of messages as a live-like stream, each message delivered when the
 * injected scheduler's clock has advanced by its receive stamp's distance from the first one, so pipeline
 * tests can run synthetic drives (and marble tests) in virtual time. Replaying a recording is
 * replay/driver.ts on replay/replay-clock.ts's ReplayClock, the one virtual-time replay of the product.
 */
import { Observable, VirtualTimeScheduler, type SchedulerLike, type Subscription } from "rxjs";
import type { SensorMessage } from "../../schemas/types.ts";
import { nsToMs } from "../../schemas/time.ts";
import { delayMs, schedulerNowNs } from "../../schemas/scheduler-time.ts";

/**
 * Scheduler clocks are float64 milliseconds: at an epoch-sized time (1.7e12 ms) one step is about
 * 0.24 µs, so a timer set for time T may fire a fraction of a µs before T. Times closer than this
 * are the same instant; waiting for the rest would schedule a zero-length timer forever.
 */
export const CLOCK_RESOLUTION_NS = 1_000n;

/**
 * @param messages in receive order (as recorded); a receive stamp earlier than the previous one
 *   is delivered at once after it. Iterated lazily: one message is scheduled at a time, so a long
 *   recording does not sit in memory.
 * @param options.speed playback speed factor (default 1; 2 = twice as fast).
 */
export function pacedByReceiveTime(messages: Iterable<SensorMessage>, scheduler: SchedulerLike, options: { speed?: number } = {}): Observable<SensorMessage> {
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  return new Observable<SensorMessage>((subscriber) => {
    const it = messages[Symbol.iterator]();
    const startNs = schedulerNowNs(scheduler);
    let firstRx: bigint | undefined;
    let action: Subscription | undefined;
    let due: SensorMessage | undefined; // read from the iterator, not yet delivered
    const targetOf = (m: SensorMessage): bigint => {
      firstRx ??= m.receiveNs;
      // From the start, not from the previous message: no drift accumulates.
      return startNs + BigInt(Math.round(Number(m.receiveNs - firstRx) / speed));
    };
    const scheduleNext = (): void => {
      // Deliver everything already due in one go: a burst stays a burst (a timer per message
      // would spread it over the timer granularity on a real clock).
      for (;;) {
        if (!due) {
          const step = it.next();
          if (step.done) {
            subscriber.complete();
            return;
          }
          due = step.value;
        }
        const wait = targetOf(due) - schedulerNowNs(scheduler);
        if (wait >= CLOCK_RESOLUTION_NS) {
          // One action at a time, held here (not added to the subscriber: that would keep every
          // executed action of a long recording alive).
          action = scheduler.schedule(scheduleNext, delayMs(wait));
          return;
        }
        const m = due;
        due = undefined;
        subscriber.next(m);
        if (subscriber.closed) return;
      }
    };
    scheduleNext();
    return () => action?.unsubscribe();
  });
}

/**
 * A virtual-time scheduler whose clock starts at `startNs` (e.g. the recording's first receive
 * stamp), so scheduler time, receive stamps and frame emission times share one time base on replay
 * (latency = decision time − receive time is then meaningful, as it is live).
 */
export function virtualTimeAt(startNs: bigint): VirtualTimeScheduler {
  const scheduler = new VirtualTimeScheduler();
  scheduler.frame = nsToMs(startNs);
  return scheduler;
}
