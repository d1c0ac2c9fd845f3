/**
 * The pipeline graph: injected sources → validate → health → align → decide → sinks, with
 * metrics as a stream. No transport, file or model is imported here: the daemon (bin/ run) injects
 * MQTT/ZeroMQ sources, the model's decide() and its publishers/recorder as sinks, with the async
 * scheduler; replay injects an MCAP source paced on a virtual-time scheduler and its scorer as a
 * sink. Both run exactly this code.
 *
 *   sources ─ merge ─ validate ─ monitorHealth ─ alignFrames ─ decide ─► sinks.decision
 *                        │             │              │           │
 *                   rejection      health         frame        drops  ─► metrics$
 */
import { merge, Observable, Subject, type SchedulerLike, type Subscription } from "rxjs";
import type { Rejection } from "../schemas/errors.ts";
import { TopicRegistry } from "../schemas/topics.ts";
import type { FusedFrame, SensorMessage } from "../schemas/types.ts";
import { alignFrames } from "./align.ts";
import { every, schedulerNowNs } from "../schemas/scheduler-time.ts";
import { decide, type Decided, type DecideFn } from "./decide.ts";
import { DecisionLivenessMonitor, type DecisionLiveness, type DecisionLivenessOptions } from "./decision-liveness.ts";
import { DropCounter, type DropEvent } from "./drops.ts";
import { ReferenceCamera } from "./reference-camera.ts";
import type { AlignerConfig, FrameAligner } from "./frame-aligner.ts";
import { HealthMonitor, monitorHealth, type HealthChange, type HealthOptions } from "./health.ts";
import { Histogram, type PipelineMetrics, type TopicCounts } from "./metrics.ts";
import type { BufferPolicy } from "./backpressure.ts";
import { validate, type ValidateOptions } from "./validate.ts";

/** Where results go. Every method is optional; a sink that throws or rejects is counted as `send_failed`. */
export interface PipelineSink<D> {
  /** Each message that passed validation (e.g. the recorder). */
  message?(m: SensorMessage): void | PromiseLike<void>;
  frame?(f: FusedFrame): void | PromiseLike<void>;
  decision?(d: Decided<D>): void | PromiseLike<void>;
  rejection?(r: Rejection): void | PromiseLike<void>;
  health?(c: HealthChange): void | PromiseLike<void>;
  /** Decision liveness changed: stalled (reference frames arrive, no decision comes out) or deciding again. */
  liveness?(l: DecisionLiveness): void | PromiseLike<void>;
}

export interface PipelineOptions<D> {
  /** The sources, already decoded (MQTT, ZeroMQ, MCAP replay, simulator); merged in this order. */
  sources: Observable<SensorMessage> | Observable<SensorMessage>[];
  /** Decode rejections of the sources (bad payloads never become SensorMessages), counted and fed to health. */
  rejections?: Observable<Rejection>;
  /** The only clock of the pipeline: async live, virtual on replay. */
  scheduler: SchedulerLike;
  registry?: TopicRegistry;
  aligner?: AlignerConfig;
  validate?: Omit<ValidateOptions, "onReject">;
  health?: Omit<HealthOptions, "registry" | "scheduler">;
  /** When reference frames arriving without decisions count as a stall (pipeline/decision-liveness.ts). */
  liveness?: DecisionLivenessOptions;
  decide: DecideFn<D>;
  decideOptions?: { concurrency?: number; policy?: BufferPolicy; capacity?: number; onError?: "drop" | "fail" };
  sinks?: PipelineSink<D> | PipelineSink<D>[];
  /** How often metrics$ emits while running, ns of scheduler time (default 1 s). */
  metricsIntervalNs?: bigint;
  /** Most distinct topics counted in metrics (default 1024); others are counted under "(other)". */
  maxTopics?: number;
  /**
   * The topics let in, and counted, dropped and tracked in health under their own name (the
   * daemon's sensor allow-list). A message on any other topic is rejected (`unknown_topic`); it and
   * every rejection on such a topic are counted under "(other)" in every per-topic metric and never
   * reach health, so names made up on the bus cannot trigger a frame, take buffer space, grow a
   * label set or hold a sensor unhealthy. Default: every topic (named up to maxTopics).
   */
  acceptTopic?: (topic: string) => boolean;
}

/** The one label every topic outside the accepted set (or past maxTopics) is counted under. */
export const OTHER_TOPIC_LABEL = "(other)";

export interface Pipeline<D> {
  /** Subscribes to the sources. Call once, after subscribing to the streams below. */
  start(): Pipeline<D>;
  /** Unsubscribes everything; done resolves with the metrics so far. */
  stop(): void;
  /** Periodic snapshots while running, and a last one (done = true) when the sources end. Hot. */
  readonly metrics$: Observable<PipelineMetrics>;
  readonly frames$: Observable<FusedFrame>;
  readonly decisions$: Observable<Decided<D>>;
  readonly drops$: Observable<DropEvent>;
  readonly health: HealthMonitor;
  metrics(): PipelineMetrics;
  /** Are reference frames turned into decisions? (stalled: they arrive, no decision comes out) */
  liveness(): DecisionLiveness;
  /** Resolves with the final metrics when the sources end and the last frame is decided; rejects on error. */
  readonly done: Promise<PipelineMetrics>;
}

/** Builds the pipeline; nothing runs until start(). */
export function createPipeline<D>(options: PipelineOptions<D>): Pipeline<D> {
  const { scheduler } = options;
  const registry = options.registry ?? new TopicRegistry();
  const sinks = options.sinks === undefined ? [] : Array.isArray(options.sinks) ? options.sinks : [options.sinks];
  const maxTopics = options.maxTopics ?? 1024;
  const health = new HealthMonitor({ ...options.health, registry, scheduler });
  const dropCounter = new DropCounter();
  const liveness = new DecisionLivenessMonitor(options.liveness);
  // The frames' trigger as the aligner sees it (the first of aligner.cameras, else the first camera topic accepted).
  const reference = new ReferenceCamera(options.aligner?.referenceTopic ?? options.aligner?.cameras?.[0]);
  const latency = new Histogram();
  const sensorLatency = new Histogram();
  const alignerWait = new Histogram();
  const topics = new Map<string, TopicCounts>();
  const rejectedByReason: PipelineMetrics["rejectedByReason"] = {};
  const totals = { in: 0, accepted: 0, rejected: 0, frames: 0, decisions: 0 };
  let aligner: FrameAligner | undefined;
  let finished = false;

  const metricsSubject = new Subject<PipelineMetrics>();
  const framesSubject = new Subject<FusedFrame>();
  const decisionsSubject = new Subject<Decided<D>>();
  const dropsSubject = new Subject<DropEvent>();
  let resolveDone!: (m: PipelineMetrics) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<PipelineMetrics>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => {}); // callers that never await done must not see an unhandled rejection

  const acceptTopic = options.acceptTopic ?? ((): boolean => true);
  /** Topics counted under their own name so far (bounded by maxTopics). */
  const named = new Set<string>();
  const labelOf = (topic: string): string => {
    if (named.has(topic)) return topic;
    if (named.size >= maxTopics || !acceptTopic(topic)) return OTHER_TOPIC_LABEL;
    named.add(topic);
    return topic;
  };
  const countsOf = (topic: string): TopicCounts => {
    const key = labelOf(topic);
    let c = topics.get(key);
    if (!c) topics.set(key, (c = { in: 0, accepted: 0, rejected: 0 }));
    return c;
  };
  const toSinks = <K extends keyof PipelineSink<D>>(method: K, value: Parameters<NonNullable<PipelineSink<D>[K]>>[0], topic: string): void => {
    for (const sink of sinks) {
      const fn = sink[method] as ((v: typeof value) => void | PromiseLike<void>) | undefined;
      if (!fn) continue;
      const failed = (): void => onDrop({ stage: `sink.${method}`, topic, reason: "send_failed" });
      try {
        const r = fn.call(sink, value);
        if (r && typeof r.then === "function") r.then(undefined, failed);
      } catch {
        failed();
      }
    }
  };
  const onDrop = (d: DropEvent): void => {
    const label = labelOf(d.topic);
    dropCounter.add(label === d.topic ? d : { ...d, topic: label });
    dropsSubject.next(d);
  };
  const onReject = (r: Rejection): void => {
    totals.rejected++;
    countsOf(r.topic).rejected++;
    rejectedByReason[r.reason] = (rejectedByReason[r.reason] ?? 0) + 1;
    onDrop({ stage: "validate", topic: r.topic, reason: r.reason });
    if (labelOf(r.topic) === r.topic) health.rejection(r);
    toSinks("rejection", r, r.topic);
  };

  const snapshot = (): PipelineMetrics => {
    const s = aligner?.stats;
    const h = health.snapshot();
    return {
      atNs: schedulerNowNs(scheduler),
      topics: Object.fromEntries([...topics].map(([k, v]) => [k, { ...v }])),
      messagesIn: totals.in,
      accepted: totals.accepted,
      rejected: totals.rejected,
      rejectedByReason: { ...rejectedByReason },
      frames: totals.frames,
      framesBy: { final: s?.final ?? 0, deadline: s?.deadline ?? 0, overflow: s?.overflow ?? 0, flushed: s?.flushed ?? 0 },
      decisions: totals.decisions,
      drops: dropCounter.snapshot(),
      dropsTotal: dropCounter.total,
      latency: latency.snapshot(),
      sensorToDecision: sensorLatency.snapshot(),
      alignerWait: alignerWait.snapshot(),
      healthTopics: h.length,
      unhealthyTopics: h.filter((t) => !t.ok).length,
      liveness: liveness.snapshot(schedulerNowNs(scheduler)),
      done: finished,
    };
  };

  let running: Subscription | undefined;
  let metricsTimer: Subscription | undefined;
  let rejectionsSub: Subscription | undefined;
  let healthSub: Subscription | undefined;

  const finish = (error?: unknown): void => {
    if (finished) return;
    finished = true;
    metricsTimer?.unsubscribe();
    rejectionsSub?.unsubscribe();
    healthSub?.unsubscribe();
    const last = snapshot();
    metricsSubject.next(last);
    for (const s of [metricsSubject, framesSubject, decisionsSubject, dropsSubject]) {
      if (error === undefined) s.complete();
      else s.error(error);
    }
    health.close();
    if (error === undefined) resolveDone(last);
    else rejectDone(error);
  };

  const pipeline: Pipeline<D> = {
    metrics$: metricsSubject.asObservable(),
    frames$: framesSubject.asObservable(),
    decisions$: decisionsSubject.asObservable(),
    drops$: dropsSubject.asObservable(),
    health,
    done,
    metrics: snapshot,
    liveness: () => liveness.snapshot(schedulerNowNs(scheduler)),
    start() {
      if (running) throw new Error("pipeline already started");
      healthSub = health.changes$.subscribe((c) => toSinks("health", c, c.topic));
      if (options.rejections) rejectionsSub = options.rejections.subscribe((r) => onReject(r));
      metricsTimer = every(scheduler, options.metricsIntervalNs ?? 1_000_000_000n, () => metricsSubject.next(snapshot()));
      const sources = Array.isArray(options.sources) ? merge(...options.sources) : options.sources;
      const counted = new Observable<SensorMessage>((subscriber) =>
        sources.subscribe({
          next: (m) => {
            totals.in++;
            countsOf(m.topic).in++;
            // A source that let a topic outside the accepted set through (the daemon's decoder does not):
            // it must not trigger a frame or take buffer space.
            if (options.acceptTopic && !acceptTopic(m.topic)) {
              onReject({ reason: "unknown_topic", topic: m.topic, detail: "not an accepted topic", receiveNs: m.receiveNs, bytes: m.bytes.length });
              return;
            }
            if (reference.matches(m)) {
              const was = liveness.snapshot(0n).stalled;
              liveness.arrived(m.topic, schedulerNowNs(scheduler));
              if (!was && liveness.snapshot(0n).stalled) toSinks("liveness", liveness.snapshot(schedulerNowNs(scheduler)), m.topic);
            }
            subscriber.next(m);
          },
          error: (e) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      );
      running = counted
        .pipe(
          validate({ ...options.validate, onReject }),
          monitorHealth(health),
          (accepted) =>
            new Observable<SensorMessage>((subscriber) =>
              accepted.subscribe({
                next: (m) => {
                  totals.accepted++;
                  countsOf(m.topic).accepted++;
                  if (reference.take(m)) liveness.accepted(m.topic);
                  toSinks("message", m, m.topic);
                  subscriber.next(m);
                },
                error: (e) => subscriber.error(e),
                complete: () => subscriber.complete(),
              }),
            ),
          // validate rejects out-of-order stamps per topic (unless told to accept them), so the aligner
          // may close a frame as soon as each topic is past what the frame needs (no waiting for the deadline).
          alignFrames({ inOrderPerTopic: options.validate?.outOfOrder !== "accept", ...options.aligner, scheduler, onDrop, onStart: (a) => (aligner = a) }),
          (frames) =>
            new Observable<FusedFrame>((subscriber) =>
              frames.subscribe({
                next: (f) => {
                  totals.frames++;
                  alignerWait.observe(f.emittedNs - (f.slots.camera?.receiveNs ?? f.lastInputReceiveNs));
                  framesSubject.next(f);
                  toSinks("frame", f, f.slots.camera?.topic ?? "frames");
                  subscriber.next(f);
                },
                error: (e) => subscriber.error(e),
                complete: () => subscriber.complete(),
              }),
            ),
          decide(options.decide, { scheduler, ...options.decideOptions, onDrop }),
        )
        .subscribe({
          next: (d) => {
            totals.decisions++;
            const wasStalled = liveness.snapshot(0n).stalled;
            liveness.decision(schedulerNowNs(scheduler));
            if (wasStalled) toSinks("liveness", liveness.snapshot(schedulerNowNs(scheduler)), d.frame.slots.camera?.topic ?? "frames");
            latency.observe(d.latencyNs);
            sensorLatency.observe(d.decidedNs - d.frame.stampNs);
            decisionsSubject.next(d);
            toSinks("decision", d, d.frame.slots.camera?.topic ?? "frames");
          },
          error: (e) => finish(e),
          complete: () => finish(),
        });
      return pipeline;
    },
    stop() {
      running?.unsubscribe();
      finish();
    },
  };
  return pipeline;
}
