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
import { Counter } from "prom-client";
import { merge, type Observable, type SchedulerLike } from "rxjs";
import { roadMapView, type DrivingDecision, type MapView } from "../../fusion/index.ts";
import type { RoadMap } from "../../schemas/map.ts";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import { OTHER_TOPIC_LABEL, createPipeline, frameInputsMessage, type AlignerConfig, type Pipeline } from "../../pipeline/index.ts";
import { applyRetention, freeBytes, readSigningKey, recordToFile, type McapRecorder, type RecorderStatus } from "../../replay/index.ts";
import { DEFAULT_SENSOR_IDS, MessageDecoder, SensorAllowList, TopicRegistry, msToNs, topicMatches, type Rejection, type SensorMessage } from "../../schemas/index.ts";
import {
  MqttTransport,
  SensorSink,
  SensorSource,
  ZmqSink,
  ZmqSource,
  type MqttStatusEvent,
  type PublishResult,
  type RawSink,
  type ZapDenial,
} from "../../sensors/index.ts";
import { monoMs, wallNs, wallScheduler } from "./clock.ts";
import { FoxgloveLiveView, HEALTH_TOPIC } from "./foxglove.ts";
import { startHttpEndpoints, type HttpEndpoints } from "./http.ts";
import { loadDecider, type Decider } from "./model.ts";
import { setRealtimePriority } from "./realtime.ts";
import { readRoadMapFile } from "./road-map.ts";
import { DaemonMetrics } from "./prometheus.ts";
import { readCurveSecretFile } from "./curve-keys.ts";

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

/** The aligner's settings from the config's (ms → ns; camera ids → this vehicle's camera topics). */
export function alignerConfigFrom(c: DaemonConfig["aligner"], vehicle: string): AlignerConfig {
  const out: AlignerConfig = {};
  if (c.referenceTopic !== undefined) out.referenceTopic = c.referenceTopic;
  if (c.cameras?.length) {
    const registry = new TopicRegistry(vehicle);
    out.cameras = c.cameras.map((id) => registry.topicFor("camera", id));
    if (c.referenceTopic === undefined) out.referenceTopic = out.cameras[0];
  }
  const set = <K extends keyof AlignerConfig>(k: K, v: AlignerConfig[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set("radarToleranceNs", msOpt(c.radarToleranceMs));
  set("cameraToleranceNs", msOpt(c.cameraToleranceMs));
  set("gnssMaxAgeNs", msOpt(c.gnssMaxAgeMs));
  set("egoMaxAgeNs", msOpt(c.egoMaxAgeMs));
  set("voiceTtlNs", msOpt(c.voiceTtlMs));
  set("allowedLatenessNs", msOpt(c.allowedLatenessMs));
  set("maxDelayNs", msOpt(c.maxDelayMs));
  set("maxBuffer", c.maxBuffer);
  set("maxPendingFrames", c.maxPendingFrames);
  set("noWaitFor", c.noWaitFor);
  set("extrapolate", c.extrapolate);
  return out;
}

const readPem = (path: string | undefined): Buffer | undefined => (path ? readFileSync(path) : undefined);

/** /readyz: not ready once no input was accepted for this long (ms). */
const INPUT_QUIET_MS = 5000;

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const scheduler = options.scheduler ?? wallScheduler;
  const registry = new TopicRegistry(config.vehicle);
  // Only named sensor ids get in: a made-up id must not become a frame trigger, a buffer, a recording
  // channel, a health entry or a metric label (issue 22). Others are rejected as unknown_topic.
  const allowList = new SensorAllowList(registry, config.sensors ?? SensorAllowList.idsIn(registry, config.topics) ?? DEFAULT_SENSOR_IDS);
  const acceptTopic = (topic: string): boolean => allowList.accepts(topic);
  const decoder = new MessageDecoder({ registry, acceptTopic });
  logger.info({ sensors: [...allowList.ids] }, "accepted sensor ids (others are rejected as unknown_topic and counted under topic \"(other)\")");
  const decisionTopic = registry.topicFor("decision");
  const patterns = config.topics ?? registry.topics.filter((t) => t.kind !== "decision" && !t.kind.startsWith("sim")).map((t) => t.pattern);
  const cleanups: Array<() => Promise<void> | void> = [];
  const onceLogged = new Set<string>();
  let lastInputMs: number | undefined;
  let inputsSinceMs = monoMs(); // reset when intake starts: the grace before "no input" counts from there
  const logOnce = (key: string, obj: object, msg: string): void => {
    if (onceLogged.has(key) || onceLogged.size > 1000) return;
    onceLogged.add(key);
    logger.warn(obj, msg);
  };

  let roadMap = options.roadMap;
  if (!roadMap && !options.map && config.map) {
    roadMap = readRoadMapFile(config.map);
  }
  const map = options.map ?? (roadMap ? roadMapView(roadMap) : undefined);
  // A bad signing key fails at start, before anything is connected or recorded unsigned.
  const signer = config.recording?.signingKey ? readSigningKey(config.recording.signingKey, "recording.signingKey") : undefined;

  // ---- model first: a bad model directory fails at start, never at the first frame
  const decider = await loadDecider({
    modelDir: config.model.dir,
    fallbackDirs: Object.values(config.model.fallbacks),
    backend: config.model.backend,
    vehicleId: config.vehicle,
    ...(map ? { map } : {}),
    nowNs: () => BigInt(Math.round(scheduler.now() * 1e6)),
    cameraWorkers: config.model.cameraWorkers,
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
    const tls = m.caFile || m.certFile || m.keyFile ? { ca: readPem(m.caFile), cert: readPem(m.certFile), key: readPem(m.keyFile), passphrase: m.keyPassphrase } : undefined;
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
  // CURVE handshakes the ZAP handler refused (registered with /metrics below; the sink opens first).
  const zmqRefused = new Counter({ name: "fusiond_zmq_refused_total", help: "ZeroMQ clients refused by the CURVE allow-list (zmq.curve.allow)", registers: [] });
  const curveConfig = config.zmq?.curve;
  const curveKeys = curveConfig ? readCurveSecretFile(curveConfig.secretKeyFile, (msg) => logger.warn(msg)) : undefined;
  const clientCurve = curveKeys && curveConfig?.serverKey ? { curve: { role: "client" as const, ...curveKeys, serverKey: curveConfig.serverKey } } : {};
  if (curveKeys && !curveConfig?.serverKey && (config.zmq?.subscribe.length ?? 0) > 0) {
    logger.warn("zmq.curve has no serverKey: the zmq.subscribe endpoints are plaintext (set it to the sensors' public key to use CURVE)");
  }
  for (const endpoint of config.zmq?.subscribe ?? []) {
    const zsrc = new ZmqSource({ endpoint, now: wallNs, ...clientCurve });
    const src = new SensorSource(zsrc, decoder);
    sources.push(src);
    streams.push(src.messages(patterns));
    cleanups.push(() => zsrc.close());
    if (!config.mqtt) transportUp = 1;
  }
  if (config.outputs.zmq && config.zmq?.publish) {
    // Refused CURVE clients are logged once per key (at most 100 keys), counted by the ZAP handler.
    const refused = new Set<string>();
    const onDenied = (d: ZapDenial): void => {
      zmqRefused.inc();
      if (refused.has(d.clientKey) || refused.size >= 100) return;
      refused.add(d.clientKey);
      logger.warn({ clientKey: d.clientKey, address: d.address, reason: d.reason }, "ZeroMQ client refused (logged once per key): add its public key to zmq.curve.allow to let it in");
    };
    const serverCurve = curveKeys ? { curve: { role: "server" as const, secretKey: curveKeys.secretKey, ...(curveConfig?.allow ? { allow: curveConfig.allow } : {}), onDenied } } : {};
    const zsink = await ZmqSink.open({ endpoint: config.zmq.publish, mode: "bind", onFull: { waitMs: 50 }, ...serverCurve });
    outSinks.push(zsink);
  }
  const sinks = outSinks.map((s) => new SensorSink(s, { codec: decoder.codec, registry }));

  // ---- recording
  let recorder: McapRecorder | undefined;
  let recording: RecorderStatus | undefined;
  if (config.recording) {
    const r = config.recording;
    mkdirSync(r.dir, { recursive: true });
    const minFree = r.minFreeMB * 1024 * 1024;
    const checkSpace = (): string | undefined => {
      let free: number;
      try {
        free = freeBytes(r.dir);
      } catch (err) {
        return `cannot read the free space of ${r.dir}: ${(err as Error).message}`;
      }
      return free < minFree ? `${(free / 1024 / 1024).toFixed(0)} MB free in ${r.dir}, below recording.minFreeMB (${r.minFreeMB} MB): free space or set recording.maxTotalMB / maxAgeHours` : undefined;
    };
    const retention = r.maxTotalMB !== undefined || r.maxAgeHours !== undefined;
    const retain = (): void => {
      if (!retention) return;
      try {
        const open = new Set(recorder?.stats().files.slice(-1) ?? []);
        const res = applyRetention(r.dir, { ...(r.maxTotalMB ? { maxTotalBytes: r.maxTotalMB * 1024 * 1024 } : {}), ...(r.maxAgeHours ? { maxAgeMs: r.maxAgeHours * 3_600_000 } : {}) }, Date.now(), open);
        for (const d of res.deleted) logger.info({ file: d.path, bytes: d.bytes, why: d.why }, "retention: deleted an old recording");
        for (const f of res.failed) logOnce(`retention:${f.path}`, { file: f.path, err: f.error }, "retention: could not delete a recording");
      } catch (err) {
        logOnce("retention", { dir: r.dir, err: (err as Error).message }, "retention: cannot read the recording directory");
      }
    };
    retain(); // before the first file, so a start on a full disk can make room
    const retentionTimer = setInterval(retain, 30_000);
    retentionTimer.unref();
    cleanups.push(() => clearInterval(retentionTimer));
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
      retry: { intervalNs: msToNs(r.retryS * 1000) },
      checkSpace: () => {
        const low = checkSpace();
        if (low) retain(); // make room where retention allows; the next retry checks again
        return low;
      },
      onStatus: (s) => {
        recording = s;
        if (s.state === "failed") logger.error({ code: s.code, reason: s.reason, file: s.file, retryS: r.retryS }, `recording failed: ${s.reason} — messages are dropped (counted in fusiond_recorder_messages_total) and a new file is tried every ${r.retryS} s`);
        else logger.info({ file: s.file, dropped: s.dropped }, "recording resumed in a new file");
      },
      ...(signer ? { signer } : {}),
      metadata: {
        vehicle: config.vehicle,
        config: options.configText ?? JSON.stringify(config),
        modelId: decider.primary.modelId,
        modelHash: decider.primary.modelHash,
        fusiondVersion: options.version ?? "",
        ...(roadMap ? { map: JSON.stringify(roadMap) } : {}),
      },
    });
    const st = recorder.stats();
    if (st.state === "failed") logger.error({ reason: st.error }, "recording not started: too little free space; decisions go on, recording starts when space is back");
    else logger.info({ path }, "recording");
  }
  const recordingState = (): string => {
    if (!recorder) return "off";
    const s = recorder.stats();
    return s.state === "ok" ? "ok" : `failed: ${recording?.code ?? ""}${recording?.code ? " " : ""}${s.error ?? ""}`.trim();
  };

  // ---- live view
  let live: FoxgloveLiveView | undefined;
  if (config.foxglove) {
    const at = config.foxglove.listen.lastIndexOf(":");
    live = await FoxgloveLiveView.start({ host: config.foxglove.listen.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(config.foxglove.listen.slice(at + 1)), codec: decoder.codec, name: `fusiond ${config.vehicle}`, ...(config.foxglove.token ? { token: config.foxglove.token } : {}), ...(config.foxglove.allowedOrigins ? { allowedOrigins: config.foxglove.allowedOrigins } : {}) });
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
      return { written: s.messages - s.lost, dropped: s.droppedTotal + s.lost, bytes: s.bytesWritten, failed: s.state === "failed" ? 1 : 0 };
    },
    transportUp: () => transportUp,
    stalled: () => (pipelineRef?.liveness().stalled ? 1 : 0),
  });
  metrics.registry.registerMetric(zmqRefused);

  // recording.topics: MQTT-style patterns of what to record (sensors that passed validation, and the decisions);
  // default every accepted topic.
  const recordPatterns = config.recording?.topics;
  const recorded = (topic: string): boolean => !recordPatterns || recordPatterns.some((p) => topicMatches(p, topic));
  const recordDecisions = recorded(decisionTopic);
  // The decision is encoded once (in the decision sink below) for the recorder, the live view and every transport.
  const recordDecision = (bytes: Uint8Array, stampNs: bigint): void => {
    if (recordDecisions) recorder?.addMessage({ topic: decisionTopic, type: "fusiond.DrivingDecision", bytes, receiveNs: wallNs(), stampNs });
    live?.publish(decisionTopic, "fusiond.DrivingDecision", bytes, stampNs);
  };
  // Health changes reach the log once they have held for HEALTH_LOG_HOLD_MS (a start flaps; /healthz sees every change).
  const healthLog = new HealthLogDebouncer({
    holdMs: HEALTH_LOG_HOLD_MS,
    scheduler,
    log: (_topic, ok, fields) =>
      fields.unsteady ? logger.warn(fields, "sensor health unsteady (changing without holding 2 s; /healthz has each change)") : logger[ok ? "info" : "warn"](fields, ok ? "sensor healthy" : "sensor unhealthy"),
  });

  // ---- the pipeline (the same code replay runs)
  const rejections: Observable<Rejection>[] = sources.map((s) => s.rejections);
  const pipeline = createPipeline<DrivingDecision>({
    sources: streams,
    rejections: merge(...rejections),
    scheduler,
    registry,
    aligner: alignerConfigFrom(config.aligner, config.vehicle),
    validate: { maxFutureNs: msToNs(config.validate.maxFutureMs) },
    acceptTopic,
    decide: (frame) => decider.decide(frame),
    sinks: {
      message: (m) => {
        lastInputMs = monoMs();
        // An utterance's features are worked out on arrival, not by the first frame that holds it.
        if (m.kind === "voice") setImmediate(() => decider.prefetchVoice(m.message));
        if (recorded(m.topic)) recorder?.addSensorMessage(m);
        live?.publish(m.topic, m.type, m.bytes, m.stampNs);
      },
      liveness: (l) => {
        if (l.stalled) logger.error({ referencesSinceDecision: l.referencesSinceDecision }, `decisions stalled: ${l.reason} (/healthz answers 503 until a decision comes out)`);
        else logger.info("decisions flowing again");
      },
      rejection: (r) =>
        logOnce(`${r.reason}:${acceptTopic(r.topic) ? r.topic : OTHER_TOPIC_LABEL}`, { topic: r.topic, reason: r.reason, detail: r.detail }, "input rejected (logged once per accepted topic and reason, once for all others; counted in /metrics)"),
      health: (c) => {
        const h = c.health;
        live?.publishJson(HEALTH_TOPIC, "fusiond.TopicHealth", h, c.atNs);
        if (c.cause === "status") healthLog.update(c.topic, h.ok, { topic: c.topic, alive: h.alive, rateOk: h.rateOk, valid: h.valid, rateHz: h.rateHz });
        else logOnce(`${c.cause}:${c.topic}`, { topic: c.topic, cause: c.cause }, "sensor stream irregular (logged once per topic; counted in health)");
      },
      decision: async (d) => {
        // Provenance: the messages the frame was built from, so replay rebuilds exactly this frame.
        const decision: DrivingDecision = { ...d.decision, inputs: frameInputsMessage(d.frame) };
        decisionsByAction[decision.action] = (decisionsByAction[decision.action] ?? 0) + 1;
        if (decision.overridden) overridesByReason[decision.override_reason] = (overridesByReason[decision.override_reason] ?? 0) + 1;
        metrics.endToEnd.observe(Number(d.latencyNs) / 1e9);
        metrics.inference.observe(decision.inference_ms / 1000);
        metrics.alignerWait.observe(Number(d.frame.emittedNs - (d.frame.slots.camera?.receiveNs ?? d.frame.lastInputReceiveNs)) / 1e9);
        const bytes = recorder || live || sinks.length > 0 ? decoder.codec.encode("fusiond.DrivingDecision", decision) : undefined;
        if (bytes) recordDecision(bytes, d.frame.stampNs);
        // Sensor to decision as a user measures it: the capture stamp to the moment the decision is handed to the transports.
        const sensorNs = wallNs() - d.frame.stampNs;
        metrics.sensorToDecision.observe(Number(sensorNs) / 1e9);
        const results: PublishResult[] = bytes ? await Promise.all(sinks.map((s) => s.publishEncoded(decisionTopic, bytes))) : [];
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
  inputsSinceMs = monoMs();
  // A source that fails later (not at start) ends the pipeline: say so rather than leave an unhandled rejection.
  pipeline.done.catch((err: unknown) => logger.error({ err: (err as Error).message, code: (err as { code?: string }).code }, "input stream failed; decisions have stopped"));

  // ---- http
  let http: HttpEndpoints | undefined;
  if (config.http.listen !== "off") {
    const at = config.http.listen.lastIndexOf(":");
    http = await startHttpEndpoints({
      host: config.http.listen.slice(0, at).replace(/^\[|\]$/g, ""),
      port: Number(config.http.listen.slice(at + 1)),
      registry: metrics.registry,
      ...(config.http.token ? { token: config.http.token } : {}),
      health: () => {
        // Judged on accepted topics only (health tracks no other; filtered again so that stays true).
        const topics = pipeline.health.snapshot().filter((t) => acceptTopic(t.topic));
        const critical = topics.filter((t) => t.kind === "camera" || t.kind === "radar");
        const live = pipeline.liveness();
        const ok = transportUp === 1 && critical.length > 0 && critical.every((t) => t.alive) && !live.stalled;
        return {
          ok,
          detail: {
            transport: transportUp ? "connected" : "disconnected (reconnecting)",
            decisions: live.stalled ? `stalled: ${live.reason}` : "flowing",
            sensors: Object.fromEntries(topics.map((t) => [t.topic, { alive: t.alive, rateOk: t.rateOk, valid: t.valid, rateHz: t.rateHz }])),
          },
        };
      },
      // Not ready while recording is configured but failing: the daemon does not do all it was asked to.
      ready: () => {
        const rec = recordingState();
        // Connected but nothing accepted for a while: a broker whose ACL grants a subscription and delivers nothing
        // (Mosquitto's acl_file), sensors not started, a wrong vehicle id — not ready, and it says so.
        const quietMs = monoMs() - (lastInputMs ?? inputsSinceMs);
        const inputs = quietMs <= INPUT_QUIET_MS ? "flowing" : `none accepted for ${(quietMs / 1000).toFixed(1)} s (sensors on ${patterns.join(" ")}? a broker ACL that lets this client read them? the vehicle id?)`;
        return {
          ok: transportUp === 1 && !rec.startsWith("failed") && inputs === "flowing",
          detail: { model: decider.primary.modelId, backend: decider.backend.chosen, transport: transportUp ? "connected" : "disconnected", inputs, recording: rec, realtime },
        };
      },
    });
    logger.info({ url: http.url, auth: config.http.token ? "bearer token" : "none" }, "http endpoints: /metrics /healthz /readyz");
  }

  let stopping: Promise<void> | undefined;
  const started = monoMs();
  const daemon: Daemon = {
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
            // Never fails the shutdown: a disk that failed was reported when it did; close what can be closed.
            await recorder.close().catch((err: unknown) => logger.error({ err: (err as Error).message }, "recording: closing failed"));
            const s = recorder.stats();
            logger.info({ files: s.files, messages: s.messages - s.lost, dropped: s.droppedTotal, lost: s.lost, chunks: s.chunks, state: s.state }, "recording closed");
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
  // A subscription the broker's ACL refuses fails the start, with the topic and what to do; the
  // daemon would otherwise run and receive nothing.
  if (mqtt) {
    try {
      if ((await mqtt.subscriptionsSettled(10_000)) === "timeout") logger.warn("the MQTT broker has not acknowledged every subscription within 10 s; going on (a refusal later is logged)");
    } catch (err) {
      await daemon.stop("start failed");
      throw err;
    }
  }
  return daemon;
}
