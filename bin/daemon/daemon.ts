/**
 * `fusiond run`: the composition root of the daemon. Picks the transports and the wall clock, loads
 * the model, and joins them with the pipeline (which imports none of them): subscribe → decode →
 * validate → health → align → decide → publish decisions, record, expose /metrics /healthz /readyz.
 * Never exits because of bad input or a lost broker; stop() drains and closes within a bound.
 */
import { HealthLogDebouncer } from "./health-log.ts";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { merge, type Observable, type SchedulerLike } from "rxjs";
import { roadMapView, type DrivingDecision, type MapView } from "../../fusion/index.ts";
import type { RoadMap } from "../../schemas/map.ts";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import { createPipeline, frameInputsMessage, type AlignerConfig, type Pipeline } from "../../pipeline/index.ts";
import { recordToFile, type McapRecorder } from "../../replay/index.ts";
import { MessageDecoder, TopicRegistry, msToNs, type Rejection, type SensorMessage } from "../../schemas/index.ts";
import {
  MqttTransport,
  SensorSink,
  SensorSource,
  ZmqSink,
  ZmqSource,
  type MqttStatusEvent,
  type PublishResult,
  type RawSink,
} from "../../sensors/index.ts";
import { monoMs, wallNs, wallScheduler } from "./clock.ts";
import { FoxgloveLiveView, HEALTH_TOPIC } from "./foxglove.ts";
import { startHttpEndpoints, type HttpEndpoints } from "./http.ts";
import { loadDecider, type Decider } from "./model.ts";
import { setRealtimePriority } from "./realtime.ts";
import { readRoadMapFile } from "./road-map.ts";
import { DaemonMetrics } from "./prometheus.ts";

/** How long a sensor's new health status must hold before the log says so, ms. */
export const HEALTH_LOG_HOLD_MS = 2000;

export interface DaemonOptions {
  config: DaemonConfig;
  logger: Logger;
  /** The raw config text, stored in the recording's metadata. */
  configText?: string;
  version?: string;
  /** Default: the wall clock (asyncScheduler). */
  scheduler?: SchedulerLike;
  /**
   * The road map for GNSS map context (default: config.map read from its JSON file, else none). Given as data
   * it is also stored in the recording (metadata "fusiond", key "map"), so that replay decides with it.
   */
  roadMap?: RoadMap;
  /** A map view only (not recorded: a replay of the session has no map unless given --map). */
  map?: MapView;
  /** Called with every decision after it was published (the demo's status line uses it). */
  onDecision?: (d: DrivingDecision, latencyNs: bigint) => void;
}

export interface Daemon {
  readonly http: HttpEndpoints | undefined;
  readonly pipeline: Pipeline<DrivingDecision>;
  readonly decider: Decider;
  readonly metrics: DaemonMetrics;
  readonly recordingFiles: () => string[];
  /** Loads the model again (SIGHUP); the old one serves until the new one is warm. */
  reload(): Promise<void>;
  /** Stops intake, drains, closes the recording and sockets. Resolves within shutdownTimeoutS. */
  stop(reason: string): Promise<void>;
  readonly decisionTopic: string;
}

const msOpt = (ms: number | undefined): bigint | undefined => (ms === undefined ? undefined : msToNs(ms));

export function alignerConfigFrom(c: DaemonConfig["aligner"]): AlignerConfig {
  const out: AlignerConfig = {};
  if (c.referenceTopic !== undefined) out.referenceTopic = c.referenceTopic;
  const set = <K extends keyof AlignerConfig>(k: K, v: AlignerConfig[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set("radarToleranceNs", msOpt(c.radarToleranceMs));
  set("gnssMaxAgeNs", msOpt(c.gnssMaxAgeMs));
  set("egoMaxAgeNs", msOpt(c.egoMaxAgeMs));
  set("voiceTtlNs", msOpt(c.voiceTtlMs));
  set("allowedLatenessNs", msOpt(c.allowedLatenessMs));
  set("maxDelayNs", msOpt(c.maxDelayMs));
  set("maxBuffer", c.maxBuffer);
  set("maxPendingFrames", c.maxPendingFrames);
  set("noWaitFor", c.noWaitFor);
  return out;
}

const readPem = (path: string | undefined): Buffer | undefined => (path ? readFileSync(path) : undefined);

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const scheduler = options.scheduler ?? wallScheduler;
  const registry = new TopicRegistry(config.vehicle);
  const decoder = new MessageDecoder({ registry });
  const decisionTopic = registry.topicFor("decision");
  const patterns = config.topics ?? registry.topics.filter((t) => t.kind !== "decision" && !t.kind.startsWith("sim")).map((t) => t.pattern);
  const cleanups: Array<() => Promise<void> | void> = [];
  const onceLogged = new Set<string>();

  let roadMap = options.roadMap;
  if (!roadMap && !options.map && config.map) {
    roadMap = readRoadMapFile(config.map);
  }
  const map = options.map ?? (roadMap ? roadMapView(roadMap) : undefined);

  // ---- model first: a bad model directory fails at start, never at the first frame
  const decider = await loadDecider({
    modelDir: config.model.dir,
    fallbackDirs: Object.values(config.model.fallbacks),
    backend: config.model.backend,
    vehicleId: config.vehicle,
    ...(map ? { map } : {}),
    nowNs: () => BigInt(Math.round(scheduler.now() * 1e6)),
  });
  cleanups.push(() => decider.close());
  logger.info({ model: decider.primary.modelId, hash: decider.primary.modelHash, backend: decider.backend.chosen, tried: decider.backend.log }, "model loaded");

  // ---- real-time priority, after the model (and the thread pool its files were read with) is up
  let realtime = "off";
  if (config.realtime) {
    const rt = setRealtimePriority(config.realtime.priority);
    realtime = rt.ok ? `fifo ${config.realtime.priority}` : "failed";
    if (rt.ok) logger.info({ priority: config.realtime.priority }, rt.detail);
    else logger.warn({ priority: config.realtime.priority }, rt.detail);
  }

  // ---- inputs
  const sources: SensorSource[] = [];
  const outSinks: RawSink[] = [];
  let mqtt: MqttTransport | undefined;
  let transportUp = 0;
  const streams: Observable<SensorMessage>[] = [];
  if (config.mqtt) {
    const m = config.mqtt;
    const tls = m.caFile || m.certFile || m.keyFile ? { ca: readPem(m.caFile), cert: readPem(m.certFile), key: readPem(m.keyFile) } : undefined;
    mqtt = await MqttTransport.connect({
      url: m.url,
      protocolVersion: m.protocolVersion === 5 ? "auto" : 4,
      now: wallNs,
      registry,
      ...(m.clientId ? { clientId: m.clientId } : {}),
      ...(m.username ? { username: m.username } : {}),
      ...(m.password ? { password: m.password } : {}),
      ...(tls ? { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) } : {}),
      onStatus: (e: MqttStatusEvent) => {
        if (e.kind === "connected") transportUp = 1;
        if (e.kind === "offline") transportUp = 0;
        if (e.kind === "connected") logger.info({ protocolVersion: e.protocolVersion }, "mqtt connected");
        else if (e.kind === "reconnecting") logger.warn({ delayMs: e.delayMs }, "mqtt connection lost; reconnecting");
        else if (e.kind === "error") logger.warn({ err: e.message }, "mqtt error");
        else logger.warn("mqtt offline");
      },
    });
    transportUp = 1;
    const src = new SensorSource(mqtt, decoder);
    sources.push(src);
    streams.push(src.messages(patterns));
    if (config.outputs.mqtt) outSinks.push(mqtt);
  }
  for (const endpoint of config.zmq?.subscribe ?? []) {
    const zsrc = new ZmqSource({ endpoint, now: wallNs });
    const src = new SensorSource(zsrc, decoder);
    sources.push(src);
    streams.push(src.messages(patterns));
    cleanups.push(() => zsrc.close());
    if (!config.mqtt) transportUp = 1;
  }
  if (config.outputs.zmq && config.zmq?.publish) {
    const zsink = await ZmqSink.open({ endpoint: config.zmq.publish, mode: "bind", onFull: { waitMs: 50 } });
    outSinks.push(zsink);
  }
  const sinks = outSinks.map((s) => new SensorSink(s, { codec: decoder.codec, registry }));

  // ---- recording
  let recorder: McapRecorder | undefined;
  if (config.recording) {
    const r = config.recording;
    mkdirSync(r.dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const path = join(r.dir, `${config.vehicle}_${stamp}.mcap`);
    const rotate = {
      ...(r.rotateMB ? { maxBytes: r.rotateMB * 1024 * 1024 } : {}),
      ...(r.rotateSeconds ? { maxDurationNs: msToNs(r.rotateSeconds * 1000) } : {}),
    };
    recorder = await recordToFile(path, {
      compression: r.compression,
      scheduler,
      // A chunk's compression (~2 ms) waits for the next turn, off the path from a frame's last input to its decision.
      deferChunkClose: true,
      ...(Object.keys(rotate).length ? { rotate } : {}),
      metadata: {
        vehicle: config.vehicle,
        config: options.configText ?? JSON.stringify(config),
        modelId: decider.primary.modelId,
        modelHash: decider.primary.modelHash,
        fusiondVersion: options.version ?? "",
        ...(roadMap ? { map: JSON.stringify(roadMap) } : {}),
      },
    });
    logger.info({ path }, "recording");
  }

  // ---- live view
  let live: FoxgloveLiveView | undefined;
  if (config.foxglove) {
    const at = config.foxglove.listen.lastIndexOf(":");
    live = await FoxgloveLiveView.start({ host: config.foxglove.listen.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(config.foxglove.listen.slice(at + 1)), codec: decoder.codec, name: `fusiond ${config.vehicle}` });
    cleanups.push(() => live!.close());
    logger.info({ url: live.url }, "Foxglove live view (open a Foxglove WebSocket connection to this URL)");
  }

  // ---- metrics
  const decisionsByAction: Record<string, number> = {};
  const overridesByReason: Record<string, number> = {};
  const publishes = { sent: 0, failed: 0 };
  let pipelineRef: Pipeline<DrivingDecision> | undefined;
  const metrics = new DaemonMetrics({
    pipeline: () => pipelineRef?.metrics(),
    health: () => pipelineRef?.health.snapshot() ?? [],
    sources: () => sources.map((s, i) => ({ name: i === 0 && mqtt ? "mqtt" : `zmq${i}`, received: s.counters.received, accepted: s.counters.accepted, rejected: s.counters.rejected })),
    decisionsByAction: () => decisionsByAction,
    overridesByReason: () => overridesByReason,
    publishes: () => publishes,
    recorder: () => {
      if (!recorder) return undefined;
      const s = recorder.stats();
      return { written: s.messages, dropped: s.droppedTotal, bytes: s.bytesWritten };
    },
    transportUp: () => transportUp,
  });

  const recordDecision = (d: DrivingDecision, stampNs: bigint): void => {
    if (!recorder && !live) return;
    const bytes = decoder.codec.encode("fusiond.DrivingDecision", d);
    recorder?.addMessage({ topic: decisionTopic, type: "fusiond.DrivingDecision", bytes, receiveNs: wallNs(), stampNs });
    live?.publish(decisionTopic, "fusiond.DrivingDecision", bytes, stampNs);
  };
  // Health changes reach the log once they have held for HEALTH_LOG_HOLD_MS (a start flaps; /healthz sees every change).
  const healthLog = new HealthLogDebouncer({
    holdMs: HEALTH_LOG_HOLD_MS,
    scheduler,
    log: (_topic, ok, fields) =>
      fields.unsteady ? logger.warn(fields, "sensor health unsteady (changing without holding 2 s; /healthz has each change)") : logger[ok ? "info" : "warn"](fields, ok ? "sensor healthy" : "sensor unhealthy"),
  });
  const logOnce = (key: string, obj: object, msg: string): void => {
    if (onceLogged.has(key) || onceLogged.size > 1000) return;
    onceLogged.add(key);
    logger.warn(obj, msg);
  };

  // ---- the pipeline (the same code replay runs)
  const rejections: Observable<Rejection>[] = sources.map((s) => s.rejections);
  const pipeline = createPipeline<DrivingDecision>({
    sources: streams,
    rejections: merge(...rejections),
    scheduler,
    registry,
    aligner: alignerConfigFrom(config.aligner),
    decide: (frame) => decider.decide(frame),
    sinks: {
      message: (m) => {
        // An utterance's features are worked out on arrival, not by the first frame that holds it.
        if (m.kind === "voice") setImmediate(() => decider.prefetchVoice(m.message));
        recorder?.addSensorMessage(m);
        live?.publish(m.topic, m.type, m.bytes, m.stampNs);
      },
      rejection: (r) => logOnce(`${r.reason}:${r.topic}`, { topic: r.topic, reason: r.reason, detail: r.detail }, "input rejected (logged once per topic and reason; counted in /metrics)"),
      health: (c) => {
        const h = c.health;
        live?.publishJson(HEALTH_TOPIC, "fusiond.TopicHealth", h, c.atNs);
        if (c.cause === "status") healthLog.update(c.topic, h.ok, { topic: c.topic, alive: h.alive, rateOk: h.rateOk, valid: h.valid, rateHz: h.rateHz });
        else logOnce(`${c.cause}:${c.topic}`, { topic: c.topic, cause: c.cause }, "sensor stream irregular (logged once per topic; counted in health)");
      },
      decision: async (d) => {
        // Provenance: the messages the frame was built from, so replay rebuilds exactly this frame.
        const decision: DrivingDecision & { inputs: ReturnType<typeof frameInputsMessage> } = { ...d.decision, inputs: frameInputsMessage(d.frame) };
        decisionsByAction[decision.action] = (decisionsByAction[decision.action] ?? 0) + 1;
        if (decision.overridden) overridesByReason[decision.override_reason] = (overridesByReason[decision.override_reason] ?? 0) + 1;
        metrics.endToEnd.observe(Number(d.latencyNs) / 1e9);
        metrics.inference.observe(decision.inference_ms / 1000);
        metrics.alignerWait.observe(Number(d.frame.emittedNs - (d.frame.slots.camera?.receiveNs ?? d.frame.lastInputReceiveNs)) / 1e9);
        recordDecision(decision, d.frame.stampNs);
        const results: PublishResult[] = await Promise.all(sinks.map((s) => s.publish(decisionTopic, decision)));
        for (const r of results) {
          if (r.ok) publishes.sent++;
          else {
            publishes.failed++;
            logOnce(`publish:${r.reason}`, { reason: r.reason, detail: r.detail }, "decision publish failed (logged once; counted)");
          }
        }
        options.onDecision?.(decision, d.latencyNs);
      },
    },
  });
  pipelineRef = pipeline;
  pipeline.start();

  // ---- http
  let http: HttpEndpoints | undefined;
  if (config.http.listen !== "off") {
    const at = config.http.listen.lastIndexOf(":");
    http = await startHttpEndpoints({
      host: config.http.listen.slice(0, at).replace(/^\[|\]$/g, ""),
      port: Number(config.http.listen.slice(at + 1)),
      registry: metrics.registry,
      health: () => {
        const topics = pipeline.health.snapshot();
        const critical = topics.filter((t) => t.kind === "camera" || t.kind === "radar");
        const ok = transportUp === 1 && critical.length > 0 && critical.every((t) => t.alive);
        return {
          ok,
          detail: {
            transport: transportUp ? "connected" : "disconnected (reconnecting)",
            sensors: Object.fromEntries(topics.map((t) => [t.topic, { alive: t.alive, rateOk: t.rateOk, valid: t.valid, rateHz: t.rateHz }])),
          },
        };
      },
      ready: () => ({ ok: transportUp === 1, detail: { model: decider.primary.modelId, backend: decider.backend.chosen, transport: transportUp ? "connected" : "disconnected", realtime } }),
    });
    logger.info({ url: http.url }, "http endpoints: /metrics /healthz /readyz");
  }

  let stopping: Promise<void> | undefined;
  const started = monoMs();
  return {
    http,
    pipeline,
    decider,
    metrics,
    decisionTopic,
    recordingFiles: () => recorder?.stats().files ?? [],
    async reload() {
      logger.info({ dir: config.model.dir }, "reloading model");
      try {
        const next = await decider.reload();
        logger.info({ model: next.modelId, hash: next.modelHash }, "model reloaded; the new model serves from now on");
      } catch (err) {
        logger.error({ err: (err as Error).message }, "model reload failed; the old model keeps serving");
      }
    },
    stop(reason: string) {
      stopping ??= (async () => {
        logger.info({ reason, uptimeS: Math.round((monoMs() - started) / 1000) }, "stopping: intake off, draining");
        const timeoutMs = config.shutdownTimeoutS * 1000;
        const work = (async () => {
          pipeline.stop();
          healthLog.close();
          for (const s of sources) s.close();
          if (recorder) {
            await recorder.close();
            const s = recorder.stats();
            logger.info({ files: s.files, messages: s.messages, dropped: s.droppedTotal, chunks: s.chunks }, "recording closed");
          }
          await Promise.all(outSinks.map((s) => s.close()));
          if (mqtt) await mqtt.close();
          for (const c of cleanups.reverse()) await c();
          await http?.close();
        })();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            logger.error({ timeoutMs }, "shutdown took too long; giving up on the rest");
            resolve();
          }, timeoutMs);
        });
        await Promise.race([work, timeout]);
        clearTimeout(timer);
        logger.info(pipeline.metrics().messagesIn !== undefined ? { messages: pipeline.metrics().messagesIn, decisions: pipeline.metrics().decisions } : {}, "stopped");
      })();
      return stopping;
    },
  };
}
