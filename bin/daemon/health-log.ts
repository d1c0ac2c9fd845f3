/**
 * Health transitions in the daemon's log, debounced: a topic's new status is logged only once it has held for
 * `holdMs`, so a stream that flaps while it starts (or while it hovers at its rate limit) gives one line when it
 * settles — with how many changes it went through — instead of a line per change. /healthz and the metrics
 * still see every change at once: this is about the log only. Time comes from the scheduler (virtual in tests).
 */
import type { SchedulerLike, Subscription } from "rxjs";

/** Fields logged with a transition. */
export type HealthFields = Record<string, unknown>;

interface TopicState {
  /** The status last logged (undefined: none yet). */
  logged?: boolean;
  /** A status waiting out its hold. */
  pending?: boolean;
  fields: HealthFields;
  /** Status changes since the last logged line. */
  changes: number;
  timer?: Subscription;
  /** When the last line about this topic was written, scheduler ms. */
  loggedAt: number;
}

export interface HealthLogOptions {
  /** How long a new status must hold before it is logged, ms. */
  holdMs: number;
  scheduler: SchedulerLike;
  /**
   * Writes one line: the topic's settled status, its fields, and how many changes led there; or, for a topic
   * that keeps changing and never holds (`unsteady`), its latest status and the changes so far.
   */
  log: (topic: string, ok: boolean, fields: HealthFields & { changes: number; unsteady?: true }) => void;
  /** A topic that changes without settling gets one "unsteady" line at most this often, ms (default 30 × holdMs). */
  unsteadyEveryMs?: number;
  /** Most topics tracked (topic names come from outside; memory stays bounded). */
  maxTopics?: number;
}

export class HealthLogDebouncer {
  private readonly topics = new Map<string, TopicState>();
  private readonly maxTopics: number;

  constructor(private readonly o: HealthLogOptions) {
    this.maxTopics = o.maxTopics ?? 1000;
  }

  /** A status report for `topic` (called on every change the health operator emits). */
  update(topic: string, ok: boolean, fields: HealthFields): void {
    let s = this.topics.get(topic);
    if (!s) {
      if (this.topics.size >= this.maxTopics) return;
      s = { fields, changes: 0, loggedAt: this.o.scheduler.now() };
      this.topics.set(topic, s);
    }
    const current = s.pending ?? s.logged;
    if (current === ok) {
      if (s.pending !== undefined) s.fields = fields;
      return;
    }
    s.changes++;
    const now = this.o.scheduler.now();
    if (s.changes > 2 && now - s.loggedAt >= (this.o.unsteadyEveryMs ?? 30 * this.o.holdMs)) {
      // It never holds long enough to be logged: say so, now and then, rather than nothing at all.
      s.loggedAt = now;
      this.o.log(topic, ok, { ...fields, changes: s.changes, unsteady: true });
      s.changes = 0;
    }
    s.timer?.unsubscribe();
    s.timer = undefined;
    s.fields = fields;
    if (s.logged === ok) {
      // Back to what the log already says before the hold ran out: nothing to tell.
      s.pending = undefined;
      return;
    }
    s.pending = ok;
    const state = s;
    s.timer = this.o.scheduler.schedule(() => {
      state.timer = undefined;
      state.logged = ok;
      state.pending = undefined;
      state.loggedAt = this.o.scheduler.now();
      this.o.log(topic, ok, { ...state.fields, changes: state.changes });
      state.changes = 0;
    }, this.o.holdMs);
  }

  /** Stops the pending timers (what has not held long enough is not logged). */
  close(): void {
    for (const s of this.topics.values()) s.timer?.unsubscribe();
  }
}
