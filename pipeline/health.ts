/**
 * Sensor health derived from the topic registry, as openpilot derives `alive`/`freq_ok` from
 * services.py. Per concrete topic:
 * - `alive`: a message arrived within aliveFactor / nominal rate (sporadic topics: always alive);
 * - `rateOk`: the rate measured over the last `rateWindowNs` is within ±rateTolerance of nominal;
 * - `valid`: the last message on the topic passed decoding and validation;
 * - `backwards`, `gaps`: how often its stamps went back in time, or jumped by more than
 *   gapFactor periods.
 * Times are the injected scheduler's (on replay: the recorded receive times). Changes are a
 * stream; the current state is queryable.
 */
import { Observable, Subject, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from "rxjs";
import type { Rejection } from "../schemas/errors.ts";
import { NS_PER_MS, NS_PER_S } from "../schemas/time.ts";
import type { TopicRegistry } from "../schemas/topics.ts";
import type { SensorMessage, TopicKind } from "../schemas/types.ts";
import { every, schedulerNowNs } from "../schemas/scheduler-time.ts";

export interface HealthOptions {
  registry: TopicRegistry;
  scheduler: SchedulerLike;
  /** alive ⇔ last message within aliveFactor / rate (default 5 periods). */
  aliveFactor?: number;
  /** Window of the rate measurement, ns (default 2 s). */
  rateWindowNs?: bigint;
  /** rateOk ⇔ |measured − nominal| ≤ tolerance × nominal (default 0.2). */
  rateTolerance?: number;
  /** A stamp step above gapFactor / rate counts as a gap (default 2.5). */
  gapFactor?: number;
  /** How often alive/rateOk are re-evaluated without messages, ns (default 100 ms). */
  checkIntervalNs?: bigint;
  /** Concrete topics tracked from the start (so a sensor that never speaks shows as not alive). */
  expect?: readonly string[];
  /** Most topics tracked (default 256); messages on further topics are not tracked. */
  maxTopics?: number;
}

export interface TopicHealth {
  topic: string;
  kind: TopicKind;
  /** From the registry; null for sporadic topics. */
  nominalHz: number | null;
  alive: boolean;
  rateOk: boolean;
  valid: boolean;
  /** Measured over the window; null with fewer than two messages in it. */
  rateHz: number | null;
  messages: number;
  rejected: number;
  backwards: number;
  gaps: number;
  lastReceiveNs: bigint | null;
  lastStampNs: bigint | null;
  /** alive && rateOk && valid. */
  ok: boolean;
}

export interface HealthChange {
  topic: string;
  /** Scheduler time, ns. */
  atNs: bigint;
  /** A flag changed (alive, rateOk, valid), or a stamp went backwards, or a gap opened. */
  cause: "status" | "stamp_backwards" | "gap";
  health: TopicHealth;
  previous: TopicHealth;
}

interface Track {
  h: TopicHealth;
  /** Arrival times in the rate window (a ring bounded by the nominal rate). */
  arrivals: bigint[];
}

export class HealthMonitor {
  private readonly o: Required<Omit<HealthOptions, "expect">>;
  private readonly tracks = new Map<string, Track>();
  private readonly changes = new Subject<HealthChange>();
  /** Every change, as it happens (hot). */
  readonly changes$: Observable<HealthChange> = this.changes.asObservable();

  constructor(options: HealthOptions) {
    this.o = {
      aliveFactor: 5,
      rateWindowNs: 2n * NS_PER_S,
      rateTolerance: 0.2,
      gapFactor: 2.5,
      checkIntervalNs: 100n * NS_PER_MS,
      maxTopics: 256,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as Required<Omit<HealthOptions, "expect">>;
    for (const topic of options.expect ?? []) this.track(topic);
  }

  private track(topic: string): Track | undefined {
    let t = this.tracks.get(topic);
    if (t) return t;
    const spec = this.o.registry.lookup(topic);
    if (!spec || this.tracks.size >= this.o.maxTopics) return undefined;
    const sporadic = spec.rateHz === null;
    t = {
      h: {
        topic,
        kind: spec.kind,
        nominalHz: spec.rateHz,
        alive: sporadic,
        rateOk: sporadic,
        valid: true,
        rateHz: null,
        messages: 0,
        rejected: 0,
        backwards: 0,
        gaps: 0,
        lastReceiveNs: null,
        lastStampNs: null,
        ok: sporadic,
      },
      arrivals: [],
    };
    this.tracks.set(topic, t);
    return t;
  }

  /** An accepted message. */
  message(m: SensorMessage): void {
    const t = this.track(m.topic);
    if (!t) return;
    const now = schedulerNowNs(this.o.scheduler);
    const before = { ...t.h };
    const h = t.h;
    h.messages++;
    h.valid = true;
    h.lastReceiveNs = now;
    t.arrivals.push(now);
    const cap = h.nominalHz === null ? 64 : Math.ceil(h.nominalHz * (Number(this.o.rateWindowNs) / 1e9) * 2) + 8;
    if (t.arrivals.length > cap) t.arrivals.splice(0, t.arrivals.length - cap);
    const prev = h.lastStampNs;
    const events: Array<HealthChange["cause"]> = [];
    if (prev !== null && m.stampNs < prev) {
      h.backwards++;
      events.push("stamp_backwards");
    } else {
      if (prev !== null && h.nominalHz !== null && Number(m.stampNs - prev) > (this.o.gapFactor / h.nominalHz) * 1e9) {
        h.gaps++;
        events.push("gap");
      }
      h.lastStampNs = m.stampNs;
    }
    this.evaluate(t, now, before, events);
  }

  /** A rejected message: the topic is not valid until its next good message. */
  rejection(r: Rejection): void {
    const t = this.track(r.topic);
    if (!t) return;
    const now = schedulerNowNs(this.o.scheduler);
    const before = { ...t.h };
    t.h.rejected++;
    t.h.valid = false;
    const events: Array<HealthChange["cause"]> = [];
    if (r.reason === "out_of_order") {
      t.h.backwards++;
      events.push("stamp_backwards");
    }
    this.evaluate(t, now, before, events);
  }

  /** Re-evaluates every topic at the scheduler's now (alive and rate change with time alone). */
  tick(): void {
    const now = schedulerNowNs(this.o.scheduler);
    for (const t of this.tracks.values()) this.evaluate(t, now, { ...t.h });
  }

  /** Recomputes the flags, then reports `events` (with the new state) and a status change if any. */
  private evaluate(t: Track, now: bigint, before: TopicHealth, events: Array<HealthChange["cause"]> = []): void {
    const h = t.h;
    const from = now - this.o.rateWindowNs;
    let i = 0;
    while (i < t.arrivals.length && t.arrivals[i]! <= from) i++;
    if (i) t.arrivals.splice(0, i);
    const n = t.arrivals.length;
    const span = n >= 2 ? t.arrivals[n - 1]! - t.arrivals[0]! : 0n;
    h.rateHz = n >= 2 && span > 0n ? (n - 1) / (Number(span) / 1e9) : null;
    if (h.nominalHz !== null) {
      const limit = BigInt(Math.round((this.o.aliveFactor / h.nominalHz) * 1e9));
      h.alive = h.lastReceiveNs !== null && now - h.lastReceiveNs <= limit;
      h.rateOk = h.rateHz !== null && Math.abs(h.rateHz - h.nominalHz) <= this.o.rateTolerance * h.nominalHz;
    }
    h.ok = h.alive && h.rateOk && h.valid;
    for (const cause of events) this.emit(h, before, now, cause);
    if (h.alive !== before.alive || h.rateOk !== before.rateOk || h.valid !== before.valid) this.emit(h, before, now, "status");
  }

  private emit(h: TopicHealth, before: TopicHealth, now: bigint, cause: HealthChange["cause"]): void {
    this.changes.next({ topic: h.topic, atNs: now, cause, health: { ...h }, previous: before });
  }

  /** The current state of one topic. */
  get(topic: string): TopicHealth | undefined {
    const t = this.tracks.get(topic);
    return t && { ...t.h };
  }

  /** The current state of every tracked topic, sorted by topic. */
  snapshot(): TopicHealth[] {
    return [...this.tracks.values()].map((t) => ({ ...t.h })).sort((a, b) => (a.topic < b.topic ? -1 : 1));
  }

  /** Ticks every checkIntervalNs on the scheduler until the returned subscription is closed. */
  start(): Subscription {
    return every(this.o.scheduler, this.o.checkIntervalNs, () => this.tick());
  }

  /** Ends changes$. */
  close(): void {
    this.changes.complete();
  }
}

/**
 * The operator: records each message passing by in the monitor, and ticks it while subscribed
 * (the ticking stops when the source ends, so a virtual-time replay can finish).
 */
export function monitorHealth(monitor: HealthMonitor): MonoTypeOperatorFunction<SensorMessage> {
  return (source) =>
    new Observable<SensorMessage>((subscriber) => {
      const ticker = monitor.start();
      const sub = source.subscribe({
        next: (m) => {
          monitor.message(m);
          subscriber.next(m);
        },
        error: (err) => {
          ticker.unsubscribe();
          subscriber.error(err);
        },
        complete: () => {
          ticker.unsubscribe();
          subscriber.complete();
        },
      });
      return () => {
        ticker.unsubscribe();
        sub.unsubscribe();
      };
    });
}
