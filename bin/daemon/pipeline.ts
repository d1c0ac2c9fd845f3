/**
 * The daemon's pipeline (the same code replay runs) on its inputs, model and sinks: decisions published,
 * recorded and counted (decision-output.ts), accepted inputs recorded and shown, health changes logged once they
 * hold (observers.ts), and when an input was last accepted (for /readyz).
 */
import type { Logger } from "pino";
import { merge, type SchedulerLike } from "rxjs";
import type { DrivingDecision } from "../../fusion/index.ts";
import type { Decider } from "../../fusion/inference/decider.ts";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import { alignerConfigFrom, createPipeline, resolveAlignerConfig, type Pipeline } from "../../pipeline/index.ts";
import { modelReadsCamera } from "../../pipeline/model-cameras.ts";
import type { McapRecorder } from "../../replay/index.ts";
import { msToNs, NS_PER_MS } from "../../schemas/index.ts";
import { monoMs } from "../../sensors/wall-clock.ts";
import { decisionOutput, type DecisionCounts } from "./decision-output.ts";
import type { FoxgloveLiveView } from "./foxglove.ts";
import { HealthLogDebouncer } from "./health-log.ts";
import type { DaemonInputs } from "./inputs.ts";
import { logLateDrops, observers, type LogOnce } from "./observers.ts";
import type { DaemonMetrics } from "./prometheus.ts";
import type { DaemonTopics } from "./topics.ts";

/** How long a sensor's new health status must hold before the log says so, ms. */
export const HEALTH_LOG_HOLD_MS = 2000;

export interface DaemonPipelineParts {
  config: DaemonConfig;
  scheduler: SchedulerLike;
  logger: Logger;
  logOnce: LogOnce;
  topics: DaemonTopics;
  inputs: DaemonInputs;
  decider: Decider;
  recorder: McapRecorder | undefined;
  live: FoxgloveLiveView | undefined;
  counts: DecisionCounts;
  metrics: DaemonMetrics;
  onDecision?: (d: DrivingDecision, latencyNs: bigint) => void;
}

/** When an input was last accepted, and since when the daemon has listened (monotonic ms). */
export interface Intake {
  lastInputMs: number | undefined;
  sinceMs: number;
}

/** Makes and starts the pipeline; a source failing later is logged (decisions have stopped). */
export function startDaemonPipeline(c: DaemonPipelineParts): { pipeline: Pipeline<DrivingDecision>; healthLog: HealthLogDebouncer; intake: Intake } {
  const { config, scheduler, logger, logOnce, inputs, decider, recorder, live } = c;
  const { registry, acceptTopic, decoder, decisionTopic, recorded } = c.topics;
  // Health changes reach the log once they have held for HEALTH_LOG_HOLD_MS (a start flaps; /healthz sees every change).
  const healthLog = new HealthLogDebouncer({
    holdMs: HEALTH_LOG_HOLD_MS,
    scheduler,
    log: (_topic, ok, fields) =>
      fields.unsteady ? logger.warn(fields, "sensor health unsteady (changing without holding 2 s; /healthz has each change)") : logger[ok ? "info" : "warn"](fields, ok ? "sensor healthy" : "sensor unhealthy"),
  });
  const intake: Intake = { lastInputMs: undefined, sinceMs: monoMs() };
  const aligner = alignerConfigFrom(config.aligner, config.vehicle);
  // Camera frames the model reads are decoded on arrival, while the frame may still wait in the aligner.
  const prefetchCamera = modelReadsCamera(aligner, decider.primary.spec.config.cameras);
  const pipeline = createPipeline<DrivingDecision>({
    sources: inputs.streams,
    rejections: merge(...inputs.sources.map((s) => s.rejections)),
    scheduler,
    registry,
    aligner,
    validate: { maxFutureNs: msToNs(config.validate.maxFutureMs) },
    acceptTopic,
    decide: (frame) => decider.decide(frame),
    sinks: {
      ...observers({ logger, logOnce, acceptTopic, live, healthLog, recorder, recorded, decider, prefetchCamera, onInput: () => (intake.lastInputMs = monoMs()) }),
      decision: decisionOutput({
        decisionTopic,
        codec: decoder.codec,
        counts: c.counts,
        metrics: c.metrics,
        sinks: inputs.sinks,
        recorder,
        recordDecisions: recorded(decisionTopic),
        live,
        logOnce,
        ...(c.onDecision ? { onDecision: c.onDecision } : {}),
      }),
    },
  });
  // A sensor whose data arrive too late for the frames is named in the log once, with what to do.
  const resolved = resolveAlignerConfig(aligner);
  logLateDrops(pipeline.drops$, logOnce, (topic) => registry.lookup(topic)?.kind, {
    cameraMs: Number(resolved.cameraLatenessNs / NS_PER_MS),
    allowedMs: Number(resolved.allowedLatenessNs / NS_PER_MS),
  });
  pipeline.start();
  intake.sinceMs = monoMs(); // the grace before "no input" counts from here
  // A source that fails later (not at start) ends the pipeline: say so rather than leave an unhandled rejection.
  pipeline.done.catch((err: unknown) => logger.error({ err: (err as Error).message, code: (err as { code?: string }).code }, "input stream failed; decisions have stopped"));
  return { pipeline, healthLog, intake };
}
