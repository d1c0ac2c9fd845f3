/**
 * A SchedulerLike over another one whose self-rescheduling actions do not nest. RxJS's VirtualAction, when
 * an action reschedules itself from its own work (a periodic timer: `this.schedule(state, interval)`), makes a
 * new action and adds it as a child of the old one, so a timer that fires every 100 ms of virtual time for a
 * 10-minute recording builds a chain 6,000 subscriptions deep, and unsubscribing it at the end overflows the
 * stack (seen with pipeline/health.ts's timer; `RangeError: Maximum call stack size exceeded` inside an
 * UnsubscriptionError). Here every (re)schedule is a fresh top-level action of the inner scheduler and only
 * the latest is kept, so depth stays 1. Ordering and times are the inner scheduler's.
 */
import { Subscription, type SchedulerAction, type SchedulerLike } from "rxjs";

export class FlatScheduler implements SchedulerLike {
  constructor(private readonly inner: SchedulerLike) {}

  now(): number {
    return this.inner.now();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const inner = this.inner;
    let current: Subscription | undefined;
    const action = new Subscription(() => current?.unsubscribe()) as Subscription & SchedulerAction<T>;
    action.schedule = (s?: T, d = 0): Subscription => {
      if (action.closed) return action;
      current?.unsubscribe();
      current = inner.schedule((st?: T) => work.call(action, st), d, s);
      return action;
    };
    return action.schedule(state, delay);
  }
}
