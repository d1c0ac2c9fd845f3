/**
 * `fusiond run`: the composition root of the daemon. Picks the transports and the wall clock, loads
 * the model, and joins them with the pipeline (which imports none of them): subscribe → decode →
 * validate → health → align → decide → publish decisions, record, expose /metrics /healthz /readyz.
 * Never exits because of bad input or a lost broker; stop() drains and closes within a bound.
 */
import type { Logger } from "pino";
import { merge, type SchedulerLike } from "rxjs";
import { roadMapView, type DrivingDecision, type MapView } from "../../fusion/index.ts";
import type { RoadMap } from "../../domain/road-map.ts";
import { configSecrets, type DaemonConfig } from "../../pipeline/daemon-config.ts";
import { camerasNotAligned, modelReadsCamera, withModelCameras } from "../../pipeline/model-cameras.ts";
import { alignerConfigFrom, createPipeline, type Pipeline } from "../../pipeline/index.ts";
import { readSigningKey } from "../../replay/index.ts";
import { cutSecrets, DEFAULT_SENSOR_IDS, MessageDecoder, SensorAllowList, TopicRegistry, msToNs, topicMatches } from "../../schemas/index.ts";
import { schedulerNowNs } from "../../schemas/scheduler-time.ts";
import { monoMs, wallScheduler } from "../../sensors/wall-clock.ts";
import { loadDecider, type Decider } from "../../fusion/inference/decider.ts";
import { readRoadMapFile } from "../../domain/road-map-file.ts";
import { decisionOutput, newDecisionCounts } from "./decision-output.ts";
import { FoxgloveLiveView } from "./foxglove.ts";
import { HealthLogDebouncer } from "./health-log.ts";
import { startHttpEndpoints, type HttpEndpoints } from "./http.ts";
import { openInputs } from "./inputs.ts";
import { observers, type LogOnce } from "./observers.ts";
import { DaemonMetrics } from "./prometheus.ts";
import { healthAnswer, readinessAnswer } from "./probes.ts";
import { setRealtimePriority } from "./realtime.ts";
import { startRecording } from "./recording.ts";
import { once, shutDown } from "./shutdown.ts";

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
  /** The config in effect: the given one, with the model's cameras where it has camera slots. */
  readonly config: DaemonConfig;
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

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  // What a start that fails part-way has opened (the model's camera workers, sockets, the recording, the live
  // view) is closed again, newest first, so that a failed start leaves nothing running (the process can exit).
  const startState = { daemon: false };
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    return await startDaemonSteps(options, cleanups, startState);
  } catch (err) {
    if (!startState.daemon) for (const c of [...cleanups].reverse()) await Promise.resolve().then(c).catch(() => undefined);
    throw err;
  }
}

async function startDaemonSteps(options: DaemonOptions, cleanups: Array<() => Promise<void> | void>, startState: { daemon: boolean }): Promise<Daemon> {
  const { logger } = options;
  const scheduler = options.scheduler ?? wallScheduler;
  const registry = new TopicRegistry(options.config.vehicle);
  const roadMap = options.roadMap ?? (!options.map && options.config.map ? readRoadMapFile(options.config.map) : undefined);
  const map = options.map ?? (roadMap ? roadMapView(roadMap) : undefined);
  const decider = await loadModel(options.config, scheduler, map, cleanups, logger);
  // A model with camera slots names the cameras to align and accept (a config naming others fails here).
  const config = withModelCameras(options.config, decider.primary.spec.config.cameras, registry);
  if (config !== options.config) logger.info({ cameras: config.aligner.cameras, sensors: config.sensors }, "aligned cameras (the model's where it has camera slots; the first is the reference) and their sensor ids");
  // Only named sensor ids get in: a made-up id must not become a frame trigger, a buffer, a recording
  // channel, a health entry or a metric label (issue 22). Others are rejected as unknown_topic.
  const allowList = new SensorAllowList(registry, config.sensors ?? SensorAllowList.idsIn(registry, config.topics) ?? DEFAULT_SENSOR_IDS);
  const acceptTopic = (topic: string): boolean => allowList.accepts(topic);
  const decoder = new MessageDecoder({ registry, acceptTopic });
  logger.info({ sensors: [...allowList.ids] }, "accepted sensor ids (others are rejected as unknown_topic and counted under topic \"(other)\")");
  const decisionTopic = registry.topicFor("decision");
  const patterns = config.topics ?? registry.topics.filter((t) => t.kind !== "decision" && !t.kind.startsWith("sim")).map((t) => t.pattern);
  const logOnce = onceLogger(logger);
  // A bad signing key fails at start, before anything is connected or recorded unsigned.
  const signer = config.recording?.signingKey ? readSigningKey(config.recording.signingKey, "recording.signingKey") : undefined;

  // ---- real-time priority, after the model (and the thread pool its files were read with) is up
  const realtime = realtimePriority(config, logger);
  const inputs = await openInputs({ config, registry, decoder, patterns, logger, cleanups });
  const recording = config.recording
    ? await startRecording(config.recording, {
        vehicle: config.vehicle,
        scheduler,
        logger,
        signer,
        cleanups,
        logOnce,
        metadata: {
          vehicle: config.vehicle,
          // What replay aligns with: the effective config where the model named the cameras.
          config: config === options.config && options.configText ? options.configText : cutSecrets(JSON.stringify(config), configSecrets(config)),
          modelId: decider.primary.modelId,
          modelHash: decider.primary.modelHash,
          fusiondVersion: options.version ?? "",
          ...(roadMap ? { map: JSON.stringify(roadMap) } : {}),
        },
      })
    : undefined;
  const recorder = recording?.recorder;
  const live = config.foxglove ? await openLiveView(config.foxglove, decoder, config.vehicle, logger) : undefined;
  if (live) cleanups.push(() => live.close());

  // ---- metrics, read at scrape time from the pipeline (set below), the sources and the recorder
  const counts = newDecisionCounts();
  let pipelineRef: Pipeline<DrivingDecision> | undefined;
  const metrics = new DaemonMetrics({
    pipeline: () => pipelineRef?.metrics(),
    health: () => pipelineRef?.health.snapshot() ?? [],
    sources: () => inputs.sources.map((s, i) => ({ name: i === 0 && inputs.mqtt ? "mqtt" : `zmq${i}`, received: s.counters.received, accepted: s.counters.accepted, rejected: s.counters.rejected })),
    decisionsByAction: () => counts.byAction,
    overridesByReason: () => counts.overridesByReason,
    publishes: () => counts.publishes,
    recorder: () => {
      if (!recorder) return undefined;
      const s = recorder.stats();
      return { written: s.messages - s.lost, dropped: s.droppedTotal + s.lost, bytes: s.bytesWritten, failed: s.state === "failed" ? 1 : 0 };
    },
    transportUp: inputs.transportUp,
    stalled: () => (pipelineRef?.liveness().stalled ? 1 : 0),
  });
  metrics.registry.registerMetric(inputs.zmqRefused);

  // recording.topics: MQTT-style patterns of what to record (sensors that passed validation, and the decisions);
  // default every accepted topic.
  const recordPatterns = config.recording?.topics;
  const recorded = (topic: string): boolean => !recordPatterns || recordPatterns.some((p) => topicMatches(p, topic));
  // Health changes reach the log once they have held for HEALTH_LOG_HOLD_MS (a start flaps; /healthz sees every change).
  const healthLog = new HealthLogDebouncer({
    holdMs: HEALTH_LOG_HOLD_MS,
    scheduler,
    log: (_topic, ok, fields) =>
      fields.unsteady ? logger.warn(fields, "sensor health unsteady (changing without holding 2 s; /healthz has each change)") : logger[ok ? "info" : "warn"](fields, ok ? "sensor healthy" : "sensor unhealthy"),
  });
  const intake = { lastInputMs: undefined as number | undefined, sinceMs: monoMs() };

  // ---- the pipeline (the same code replay runs)
  const aligner = alignerConfigFrom(config.aligner, config.vehicle);
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
        counts,
        metrics,
        sinks: inputs.sinks,
        recorder,
        recordDecisions: recorded(decisionTopic),
        live,
        logOnce,
        ...(options.onDecision ? { onDecision: options.onDecision } : {}),
      }),
    },
  });
  pipelineRef = pipeline;
  pipeline.start();
  intake.sinceMs = monoMs(); // the grace before "no input" counts from here
  // A source that fails later (not at start) ends the pipeline: say so rather than leave an unhandled rejection.
  pipeline.done.catch((err: unknown) => logger.error({ err: (err as Error).message, code: (err as { code?: string }).code }, "input stream failed; decisions have stopped"));

  // ---- http
  let http: HttpEndpoints | undefined;
  if (config.http.listen !== "off") {
    http = await startHttpEndpoints({
      ...hostPort(config.http.listen),
      registry: metrics.registry,
      ...(config.http.token ? { token: config.http.token } : {}),
      // Judged on accepted topics only (health tracks no other; filtered again so that stays true).
      health: () => healthAnswer(pipeline.health.snapshot().filter((t) => acceptTopic(t.topic)), pipeline.liveness(), inputs.transportUp()),
      // Not ready while recording is configured but failing: the daemon does not do all it was asked to.
      ready: () =>
        readinessAnswer({
          transportUp: inputs.transportUp(),
          recording: recording?.state() ?? "off",
          quietMs: monoMs() - (intake.lastInputMs ?? intake.sinceMs),
          patterns,
          model: decider.primary.modelId,
          backend: decider.backend.chosen,
          realtime,
        }),
    });
    logger.info({ url: http.url, auth: config.http.token ? "bearer token" : "none" }, "http endpoints: /metrics /healthz /readyz");
  }

  const started = monoMs();
  startState.daemon = true;
  const daemon: Daemon = {
    config,
    http,
    pipeline,
    decider,
    metrics,
    decisionTopic,
    recordingFiles: () => recorder?.stats().files ?? [],
    reload: () => reloadModel(decider, config, logger),
    stop: once((reason: string) => {
      logger.info({ reason, uptimeS: Math.round((monoMs() - started) / 1000) }, "stopping: intake off, draining");
      return shutDown({ pipeline, healthLog, inputs, recorder, cleanups, http, logger, timeoutMs: config.shutdownTimeoutS * 1000 });
    }),
  };
  // A subscription the broker's ACL refuses fails the start, with the topic and what to do; the
  // daemon would otherwise run and receive nothing.
  if (inputs.mqtt) {
    try {
      if ((await inputs.mqtt.subscriptionsSettled(10_000)) === "timeout") logger.warn("the MQTT broker has not acknowledged every subscription within 10 s; going on (a refusal later is logged)");
    } catch (err) {
      await daemon.stop("start failed");
      throw err;
    }
  }
  return daemon;
}

/** The model first: a bad model directory fails at start, never at the first frame. */
async function loadModel(config: DaemonConfig, scheduler: SchedulerLike, map: MapView | undefined, cleanups: Array<() => Promise<void> | void>, logger: Logger): Promise<Decider> {
  const decider = await loadDecider({
    modelDir: config.model.dir,
    fallbackDirs: Object.values(config.model.fallbacks),
    backend: config.model.backend,
    vehicleId: config.vehicle,
    ...(map ? { map } : {}),
    nowNs: () => schedulerNowNs(scheduler),
    cameraWorkers: config.model.cameraWorkers,
  });
  cleanups.push(() => decider.close());
  logger.info({ model: decider.primary.modelId, hash: decider.primary.modelHash, backend: decider.backend.chosen, tried: decider.backend.log }, "model loaded");
  return decider;
}

/** Logs a warning once per key (and nothing new once 1000 keys were logged). */
function onceLogger(logger: Logger): LogOnce {
  const logged = new Set<string>();
  return (key, obj, msg) => {
    if (logged.has(key) || logged.size > 1000) return;
    logged.add(key);
    logger.warn(obj, msg);
  };
}

/** "host:port" (an IPv6 host in brackets) as its parts. */
function hostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(":");
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(listen.slice(at + 1)) };
}

/** config.realtime: SCHED_FIFO at its priority; what /readyz reports ("off", "fifo N", "failed"). */
function realtimePriority(config: DaemonConfig, logger: Logger): string {
  if (!config.realtime) return "off";
  const rt = setRealtimePriority(config.realtime.priority);
  if (rt.ok) logger.info({ priority: config.realtime.priority }, rt.detail);
  else logger.warn({ priority: config.realtime.priority }, rt.detail);
  return rt.ok ? `fifo ${config.realtime.priority}` : "failed";
}

async function openLiveView(c: NonNullable<DaemonConfig["foxglove"]>, decoder: MessageDecoder, vehicle: string, logger: Logger): Promise<FoxgloveLiveView> {
  const live = await FoxgloveLiveView.start({ ...hostPort(c.listen), codec: decoder.codec, name: `fusiond ${vehicle}`, ...(c.token ? { token: c.token } : {}), ...(c.allowedOrigins ? { allowedOrigins: c.allowedOrigins } : {}) });
  logger.info({ url: live.url }, "Foxglove live view (open a Foxglove WebSocket connection to this URL)");
  return live;
}

/** SIGHUP: loads the model again; the old one serves until the new one is warm, and on when loading fails. */
async function reloadModel(decider: Decider, config: DaemonConfig, logger: Logger): Promise<void> {
  logger.info({ dir: config.model.dir }, "reloading model");
  try {
    // The aligner's cameras are fixed at start: a model with other camera slots needs a restart.
    const next = await decider.reload(undefined, (m) => {
      const problem = camerasNotAligned(config.aligner.cameras, m.spec.config.cameras);
      if (problem) throw new Error(problem);
    });
    logger.info({ model: next.modelId, hash: next.modelHash }, "model reloaded; the new model serves from now on");
  } catch (err) {
    logger.error({ err: (err as Error).message }, "model reload failed; the old model keeps serving");
  }
}

