/**
 * The daemon's pipeline sinks other than decisions (decision-output.ts has those): accepted inputs recorded
 * (as recording.topics allows) and shown on the live view, voice features prefetched, rejections and irregular
 * streams logged once, health changes logged once they hold, decision liveness logged.
 */
import type { Logger } from "pino";
import type { Observable, Subscription } from "rxjs";
import type { DrivingDecision } from "../../fusion/index.ts";
import type { Decider } from "../../fusion/inference/decider.ts";
import { OTHER_TOPIC_LABEL, type DropEvent, type PipelineSink } from "../../pipeline/index.ts";
import type { McapRecorder } from "../../replay/index.ts";
import { HEALTH_TOPIC, type FoxgloveLiveView } from "./foxglove.ts";
import type { HealthLogDebouncer } from "./health-log.ts";

export type LogOnce = (key: string, obj: object, msg: string) => void;

export interface ObserverContext {
  logger: Logger;
  logOnce: LogOnce;
  acceptTopic: (topic: string) => boolean;
  live: FoxgloveLiveView | undefined;
  healthLog: HealthLogDebouncer;
  recorder: McapRecorder | undefined;
  recorded: (topic: string) => boolean;
  decider: Decider;
  /** Camera topics whose features are worked out on arrival (those the model reads). */
  prefetchCamera: (topic: string) => boolean;
  /** An input was accepted (for /readyz). */
  onInput: () => void;
}

/** The pipeline's sinks other than decisions: record and show accepted inputs, log rejections, health and liveness. */
export function observers(c: ObserverContext): Omit<PipelineSink<DrivingDecision>, "decision"> {
  const { logger, logOnce, live } = c;
  return {
    message: (m) => {
      c.onInput();
      // An utterance's features are worked out on arrival, not by the first frame that holds it.
      if (m.kind === "voice") setImmediate(() => c.decider.prefetchVoice(m.message));
      // A camera frame's features too: the frame may wait in the aligner (the radar scan after it) meanwhile.
      if (m.kind === "camera" && c.prefetchCamera(m.topic)) setImmediate(() => c.decider.prefetchCamera(m.message));
      if (c.recorded(m.topic)) c.recorder?.addSensorMessage(m);
      live?.publish(m.topic, m.type, m.bytes, m.stampNs);
    },
    liveness: (l) => {
      if (l.stalled) logger.error({ referencesSinceDecision: l.referencesSinceDecision }, `decisions stalled: ${l.reason} (/healthz answers 503 until a decision comes out)`);
      else logger.info("decisions flowing again");
    },
    rejection: (r) =>
      logOnce(`${r.reason}:${c.acceptTopic(r.topic) ? r.topic : OTHER_TOPIC_LABEL}`, { topic: r.topic, reason: r.reason, detail: r.detail }, "input rejected (logged once per accepted topic and reason, once for all others; counted in /metrics)"),
    health: (h) => {
      const th = h.health;
      live?.publishJson(HEALTH_TOPIC, "fusiond.TopicHealth", th, h.atNs);
      if (h.cause === "status") c.healthLog.update(h.topic, th.ok, { topic: h.topic, alive: th.alive, rateOk: th.rateOk, valid: th.valid, rateHz: th.rateHz });
      else logOnce(`${h.cause}:${h.topic}`, { topic: h.topic, cause: h.cause }, "sensor stream irregular (logged once per topic; counted in health)");
    },
  };
}

/** Logs a warning once per key (and nothing new once 1000 keys were logged). */
export function onceLogger(logger: Logger): LogOnce {
  const logged = new Set<string>();
  return (key, obj, msg) => {
    if (logged.has(key) || logged.size > 1000) return;
    logged.add(key);
    logger.warn(obj, msg);
  };
}

/**
 * Logs, once per topic, the first input the aligner drops as late, with what to do about it (every drop is
 * counted in /metrics, fusiond_drops_total; this says why a sensor's data are not in the frames). Camera frames
 * have their own lateness (aligner.cameraLatenessMs); the other inputs the general one (aligner.allowedLatenessMs).
 */
export function lateDropLogger(logOnce: LogOnce, kindOf: (topic: string) => string | undefined, lateness: { cameraMs: number; allowedMs: number }): (d: DropEvent) => void {
  return (d) => {
    if (d.stage !== "align" || d.reason !== "late") return;
    const camera = kindOf(d.topic) === "camera";
    const key = camera ? "aligner.cameraLatenessMs" : "aligner.allowedLatenessMs";
    const ms = camera ? lateness.cameraMs : lateness.allowedMs;
    logOnce(
      `align-late:${d.topic}`,
      { topic: d.topic, stampNs: d.stampNs === undefined ? undefined : String(d.stampNs), [key]: ms },
      `input dropped as late: stamped more than ${ms} ms behind the newest input (${key}). Its sensor's clock or pipeline lags the others: check the sensor's clock, or raise ${key} if it really takes that long (logged once per topic; every drop is counted in /metrics fusiond_drops_total)`,
    );
  };
}

/**
 * Subscribes lateDropLogger to the pipeline's drops. The stream errors when the pipeline fails (a refused
 * subscription, a dead source): that failure is the pipeline's to report (pipeline.done), so it is taken here —
 * a subscription without an error callback turned it into an uncaught error, which the wasm backend's
 * uncaughtException hook rethrew (exit code 7 instead of the start's refusal, exit 1).
 */
export function logLateDrops(drops$: Observable<DropEvent>, ...args: Parameters<typeof lateDropLogger>): Subscription {
  return drops$.subscribe({ next: lateDropLogger(...args), error: () => undefined });
}
