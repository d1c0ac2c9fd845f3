/**
 * `fusiond run`: the composition root of the daemon. Picks the transports and the wall clock, loads
 * the model, and joins them with the pipeline (which imports none of them): subscribe → decode →
 * validate → health → align → decide → publish decisions, record, expose /metrics /healthz /readyz.
 * Never exits because of bad input or a lost broker; stop() drains and closes within a bound.
 */
import type { Logger } from "pino";
import type { SchedulerLike } from "rxjs";
import { roadMapView, servedRadarScan, type DrivingDecision, type MapView } from "../../fusion/index.ts";
import type { RoadMap } from "../../domain/road-map.ts";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import type { Pipeline } from "../../pipeline/index.ts";
import { withModelCameras } from "../../pipeline/model-cameras.ts";
import { daemonModelRadarScan } from "../../pipeline/model-alignment.ts";
import { singleCameraModelWarning, type ModelChoice } from "../../pipeline/model-choice.ts";
import { shippedModels } from "./shipped-models.ts";
import { TopicRegistry } from "../../schemas/index.ts";
import { readSigningKey } from "../../replay/index.ts";
import { monoMs, wallScheduler } from "../../sensors/wall-clock.ts";
import type { Decider } from "../../fusion/inference/decider.ts";
import { readRoadMapFile } from "../../domain/road-map-file.ts";
import { loadDaemonDecider, reloadModel } from "./decider.ts";
import { newDecisionCounts } from "./decision-output.ts";
import { startDaemonHttp } from "./endpoints.ts";
import { openLiveView } from "./foxglove.ts";
import type { HttpEndpoints } from "./http.ts";
import { openInputs } from "./inputs.ts";
import { daemonMetrics } from "./metrics.ts";
import { onceLogger } from "./observers.ts";
import { startDaemonPipeline } from "./pipeline.ts";
import type { DaemonMetrics } from "./prometheus.ts";
import { realtimePriority } from "./realtime.ts";
import { daemonMetadata, startRecording } from "./recording.ts";
import { once, shutDown } from "./shutdown.ts";
import { daemonTopics } from "./topics.ts";

export { HEALTH_LOG_HOLD_MS } from "./pipeline.ts";

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
  /**
   * Set when no model was named and config.model.dir was chosen for the configured cameras
   * (pipeline/model-choice.ts): logged with its reason. Unset: the model was named, and a single-camera model
   * named for several cameras is warned about.
   */
  modelChoice?: ModelChoice;
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

/** Which model, and why: chosen for the configured cameras (info, or a warning when none fits), or named (a warning when it fuses one of several cameras). */
function logModelChoice(options: DaemonOptions, modelCameras: readonly string[] | undefined): void {
  const { config, logger, modelChoice } = options;
  const cameras = config.aligner.cameras;
  if (modelChoice) {
    logger.info({ model: modelChoice.dir, cameras: cameras ?? null, why: modelChoice.why }, `model ${modelChoice.dir} chosen (none named): ${modelChoice.why}`);
    if (modelChoice.warning) logger.warn({ model: modelChoice.dir, cameras }, modelChoice.warning);
    return;
  }
  const warning = singleCameraModelWarning(config.model.dir, cameras, modelCameras, shippedModels());
  if (warning) logger.warn({ model: config.model.dir, cameras }, warning);
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
  const roadMap = options.roadMap ?? (!options.map && options.config.map ? readRoadMapFile(options.config.map) : undefined);
  const map = options.map ?? (roadMap ? roadMapView(roadMap) : undefined);

  // A bad signing key fails at start, before anything is loaded, connected or recorded unsigned.
  const signer = options.config.recording?.signingKey ? readSigningKey(options.config.recording.signingKey, "recording.signingKey") : undefined;

  // ---- model first: a bad model directory fails at start, never at the first frame
  const decider = await loadDaemonDecider(options.config, map, scheduler, logger, cleanups);
  logModelChoice(options, decider.primary.spec.config.cameras);
  // A model with camera slots names the cameras to align and accept (a config naming others fails here).
  const withCameras = withModelCameras(options.config, decider.primary.spec.config.cameras, new TopicRegistry(options.config.vehicle));
  if (withCameras !== options.config) logger.info({ cameras: withCameras.aligner.cameras, sensors: withCameras.sensors }, "aligned cameras (the model's where it has camera slots; the first is the reference) and their sensor ids");
  // A model trained on the latest radar scan at or before the camera, or chosen to be served so (its input spec's
  // serving.radarScan), is served so: frames do not wait for radar.
  const spec = decider.primary.spec;
  const servingChoice = spec.serving?.radarScan !== undefined;
  const radarScan = daemonModelRadarScan(withCameras, servedRadarScan(spec), withCameras.model.dir, servingChoice ? "chosen to be served" : "trained");
  const config = radarScan.config;
  if (radarScan.conflict) logger.warn({ model: config.model.dir }, radarScan.conflict);
  else if (config !== withCameras) {
    const why = servingChoice ? "the model is served so: its input spec's serving.radarScan" : "the model was trained so";
    const chosen = spec.serving?.chosen ? { chosen: spec.serving.chosen } : {};
    logger.info({ radarScan: config.aligner.radarScan, extrapolate: config.aligner.extrapolate, ...chosen }, `radar: the latest scan at or before the camera, moved to its stamp (${why}); frames do not wait for the next scan`);
  }
  const topics = daemonTopics(config, logger);
  const { decoder, decisionTopic, patterns } = topics;
  const registry = topics.registry;
  const logOnce = onceLogger(logger);

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
        // What replay aligns with: the effective config where the model named the cameras.
        metadata: daemonMetadata(config, config === options.config ? options.configText : undefined, decider, options.version, roadMap),
      })
    : undefined;
  const recorder = recording?.recorder;
  const live = config.foxglove ? await openLiveView(config.foxglove, decoder.codec, config.vehicle, logger) : undefined;
  if (live) cleanups.push(() => live.close());

  // ---- metrics (read at scrape time), the pipeline (the same code replay runs), http
  const counts = newDecisionCounts();
  let pipelineRef: Pipeline<DrivingDecision> | undefined;
  const metrics = daemonMetrics(inputs, counts, recorder, () => pipelineRef);
  const { pipeline, healthLog, intake } = startDaemonPipeline({ config, scheduler, logger, logOnce, topics, inputs, decider, recorder, live, counts, metrics, ...(options.onDecision ? { onDecision: options.onDecision } : {}) });
  pipelineRef = pipeline;
  const http = await startDaemonHttp({ config, logger, metrics, pipeline, inputs, acceptTopic: topics.acceptTopic, recording, intake, patterns, decider, realtime });

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
