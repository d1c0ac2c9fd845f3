/**
 * Every key of docs/deployment.md's configuration block changes what the daemon does (issue #15 point 4).
 * The key list is read from the doc itself, so a key documented without a row here fails, and so does a key
 * the schema accepts that the doc does not list. Each row runs a config with the key changed from the
 * baseline, and the same config without the change, and asserts that what it picks out differs:
 * the aligner's frames (in-process), the logger's output, or what an in-process daemon does against an
 * embedded broker (start refused, log lines, /healthz /readyz /metrics, sockets bound, files recorded).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parse as parseYaml } from "yaml";
import { McapIndexedReader } from "@mcap/core";
import { Publisher, Subscriber, curveKeyPair } from "zeromq";
import { WebSocket } from "ws";
import type { AedesOptions } from "aedes";
import { startDaemon, type Daemon } from "../../bin/daemon/daemon.ts";
import { alignerConfigFrom } from "../../pipeline/daemon-aligner.ts";
import { createLogger } from "../../bin/daemon/logger.ts";
import { writeKeyPair } from "../../bin/commands/keygen.ts";
import { daemonConfigSchema, parseDaemonConfig, type DaemonConfig } from "../../pipeline/daemon-config.ts";
import { FrameAligner } from "../../pipeline/index.ts";
import { defaultCodec, nsToTimestamp, TopicRegistry, type Modality, type SensorMessage } from "../../schemas/index.ts";
import { EmbeddedBroker, MqttTransport } from "../../sensors/index.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { freePort, portOpen, sleep, waitFor } from "../sensors/helpers.ts";
import { msg, reading, MS } from "../pipeline/helpers.ts";
import { capturedLogger, simulatorOn, untrainedModel } from "./daemon-helpers.ts";

// ---- the keys: from the doc, and from the schema

const DOC = new URL("../../docs/deployment.md", import.meta.url);

interface ZodLike {
  _zod: { def: { type: string; innerType?: ZodLike; out?: ZodLike; shape?: Record<string, ZodLike> } };
}
/** The object schema under optional/default/preprocess wrappers, or undefined for a leaf. */
function objectShape(s: ZodLike): Record<string, ZodLike> | undefined {
  const d = s._zod.def;
  if (d.type === "object") return d.shape;
  const inner = d.innerType ?? (d.type === "pipe" ? d.out : undefined);
  return inner ? objectShape(inner) : undefined;
}

/** Leaf key paths: a key whose schema is not an object is a leaf (model.fallbacks, a record, is one key). */
function schemaKeys(shape: Record<string, ZodLike>, prefix = ""): string[] {
  return Object.entries(shape).flatMap(([k, s]) => {
    const inner = objectShape(s);
    return inner ? schemaKeys(inner, `${prefix}${k}.`) : [`${prefix}${k}`];
  });
}

/** The keys of the ```yaml block under "## Configuration keys", flattened as the schema nests them. */
function docKeys(): string[] {
  const text = readFileSync(DOC, "utf8");
  const block = /## Configuration keys[\s\S]*?```yaml\n([\s\S]*?)```/.exec(text)?.[1];
  assert.ok(block, "docs/deployment.md has a ```yaml block under ## Configuration keys");
  const walk = (obj: Record<string, unknown>, shape: Record<string, ZodLike> | undefined, prefix: string): string[] =>
    Object.entries(obj).flatMap(([k, v]) => {
      const inner = shape?.[k] ? objectShape(shape[k]) : undefined;
      return inner && v !== null && typeof v === "object" && !Array.isArray(v) ? walk(v as Record<string, unknown>, inner, `${prefix}${k}.`) : [`${prefix}${k}`];
    });
  return walk(parseYaml(block) as Record<string, unknown>, objectShape(daemonConfigSchema as unknown as ZodLike), "");
}

// ---- what a config does, observed

/** Per run: a fresh folder (recordings, keys, maps) and fresh ports. */
interface Ctx {
  dir: string;
  rec: string;
  port: number;
  /** The broker's URL and port (the baseline's mqtt.url). */
  brokerUrl: string;
  brokerPort: number;
  model: string;
  vehicle: string;
  curveSecret: string;
  curvePublic: string;
  encryptedKey: string;
}

/** What a daemon run showed: enough for every row to pick its difference from. */
interface Obs {
  error?: string;
  logs: Array<Record<string, unknown>>;
  decisionTopic?: string;
  http: boolean;
  healthzStatus?: number;
  readyz?: Record<string, unknown>;
  metrics: string;
  connects: Array<{ clientId: string; username?: string; password?: string; protocolVersion?: number }>;
  files: string[];
  /** Chunk compressions and channel topics of the recordings the daemon wrote. */
  chunkCompression: string[];
  recordedTopics: string[];
  zmqPublishOpen: boolean;
  foxglove: { plain?: number; origin?: number };
  cameraPool: boolean;
  backend?: string;
  stopLogs: Record<string, unknown>[];
}

/** Frames and drops of the aligner the config makes, on a fixed one-second drive. */
function alignerTrace(c: DaemonConfig, inOrderPerTopic = false): string {
  const v = c.vehicle;
  const reg = new TopicRegistry(v);
  const ms: SensorMessage[] = [];
  const add = (kind: Modality, stampMs: number, lagMs: number, topic?: string): void =>
    void ms.push(msg(kind, BigInt(stampMs) * MS, reading(kind, BigInt(stampMs) * MS), BigInt(stampMs + lagMs) * MS, topic ?? reg.topicFor(kind, kind === "voice" ? "cabin" : kind === "gnss" ? "main" : kind === "ego" ? undefined : "front")));
  for (let t = 0; t < 1000; t += 50) {
    add("camera", t, t === 500 ? 120 : 2); // one frame 120 ms late (within the default camera lateness)
    add("camera", t + 20, 2, reg.topicFor("camera", "rear"));
    if (t + 10 < 400 || t + 10 > 650) add("radar", t + 10, t + 10 === 710 ? 300 : 40); // silent a while; one scan 300 ms late
  }
  for (let t = 5; t < 1000; t += 100) add("gnss", t, 80);
  for (let t = 3; t < 1000; t += 20) add("ego", t, 30);
  add("voice", 100, 50);
  ms.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
  const drops: string[] = [];
  const aligner = new FrameAligner({ inOrderPerTopic, ...alignerConfigFrom(c.aligner, v) }, (d) => drops.push(`${d.reason} ${d.topic}`));
  const frames = [];
  for (const m of ms) {
    for (let due = aligner.nextDeadlineNs(); due !== undefined && due <= m.receiveNs; due = aligner.nextDeadlineNs()) frames.push(...aligner.expire(due, due));
    frames.push(...aligner.push(m, m.receiveNs));
  }
  frames.push(...aligner.flush(2000n * MS));
  return JSON.stringify({ frames, drops }, (_, x: unknown) => (typeof x === "bigint" ? String(x) : x instanceof Uint8Array ? x.length : x));
}

/** Whether the config's log level lets an info line through (bin/commands/run.ts makes the logger so). */
function infoLogged(c: DaemonConfig): boolean {
  let out = "";
  const stream = new Writable({ write: (chunk: Buffer, _e, cb) => void ((out += chunk.toString()), cb()) });
  createLogger({ level: c.log.level, base: {}, format: "json", stream }).info("hello");
  return out.includes("hello");
}

async function recordingContents(file: string): Promise<{ compression: string[]; topics: string[] }> {
  const bytes = readFileSync(file);
  if (bytes.subarray(-8).toString("latin1") !== "\x89MCAP0\r\n") return { compression: ["(not closed)"], topics: [] };
  const reader = await McapIndexedReader.Initialize({
    readable: { size: () => Promise.resolve(BigInt(bytes.length)), read: (o, n) => Promise.resolve(bytes.subarray(Number(o), Number(o + n))) },
  });
  return { compression: [...new Set(reader.chunkIndexes.map((c) => c.compression))], topics: [...reader.channelsById.values()].map((c) => c.topic) };
}

async function wsStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ["foxglove.websocket.v1"], { headers });
    ws.on("open", () => (ws.close(), resolve(101)));
    ws.on("unexpected-response", (_req, res) => (res.resume(), resolve(res.statusCode ?? 0)));
    ws.on("error", () => resolve(-1));
  });
}

interface RunOptions {
  /** Seconds of simulated sensors fed through the broker (decisions flow). */
  feed?: number;
  /** Done after the start, before observing. */
  during?: (ctx: Ctx, d: Daemon) => Promise<void>;
}

const connects: Obs["connects"] = [];
let broker: EmbeddedBroker;
let modelDir: string;
const codec = defaultCodec();

/** The test process's main thread back to normal scheduling (after a realtime.priority row). */
function normalScheduling(): void {
  spawnSync("chrt", ["--other", "-p", "0", String(process.pid)]);
}

/** The simulator's sensors on the broker for `seconds`. */
async function feed(ctx: Ctx, seconds: number): Promise<void> {
  const f = await simulatorOn(ctx.brokerUrl, ctx.vehicle, seconds + 1);
  await sleep(seconds * 1000);
  f.sim.stop();
  await f.sim.done;
  await f.client.close();
}

async function runDaemon(config: DaemonConfig, ctx: Ctx, o: RunOptions): Promise<Obs> {
  connects.length = 0;
  const { logger, lines } = capturedLogger();
  const obs: Obs = { logs: lines, http: false, metrics: "", connects, files: [], chunkCompression: [], recordedTopics: [], zmqPublishOpen: false, foxglove: {}, cameraPool: false, stopLogs: [] };
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ config, logger });
  } catch (err) {
    obs.error = (err as Error).message;
    obs.connects = [...connects];
    return obs;
  }
  try {
    if (o.feed) {
      await feed(ctx, o.feed);
      await waitFor(() => daemon.pipeline.metrics().decisions > 0, "decisions from the simulator", 10_000);
    }
    await o.during?.(ctx, daemon);
    obs.decisionTopic = daemon.decisionTopic;
    obs.cameraPool = daemon.decider.cameraPool !== undefined;
    obs.backend = daemon.decider.backend.chosen;
    obs.metrics = await daemon.metrics.registry.metrics();
    if (daemon.http) {
      obs.http = true;
      obs.healthzStatus = (await fetch(`${daemon.http.url}/healthz`)).status;
      const headers: Record<string, string> = config.http.token ? { authorization: `Bearer ${config.http.token}` } : {};
      obs.readyz = (await (await fetch(`${daemon.http.url}/readyz`, { headers })).json()) as Record<string, unknown>;
    }
    const pub = config.zmq?.publish;
    if (pub) obs.zmqPublishOpen = await portOpen(Number(pub.slice(pub.lastIndexOf(":") + 1)));
    if (config.foxglove) {
      const url = `ws://${config.foxglove.listen}`;
      obs.foxglove = { plain: await wsStatus(url, {}), origin: await wsStatus(url, { origin: "https://app.foxglove.dev" }) };
    }
  } finally {
    const before = lines.length;
    await daemon.stop("test");
    obs.stopLogs = lines.slice(before);
    if (config.realtime) normalScheduling();
  }
  obs.connects = [...connects];
  if (existsSync(ctx.rec)) {
    obs.files = readdirSync(ctx.rec).sort();
    for (const f of obs.files.filter((f) => f.startsWith(config.vehicle))) {
      const r = await recordingContents(join(ctx.rec, f));
      obs.chunkCompression = [...new Set([...obs.chunkCompression, ...r.compression])];
      obs.recordedTopics = [...new Set([...obs.recordedTopics, ...r.topics])].sort();
    }
  }
  return obs;
}

// ---- the table

type Partial = (ctx: Ctx) => Record<string, unknown>;
interface Row {
  /** The baseline's extra keys (besides the broker, model, vehicle and a free HTTP port). */
  base?: Partial;
  /** The key changed (merged over base, one level deep per top-level key). */
  changed: Partial;
  /** What differs. Exactly one of the three probes. "in order": the aligner as the daemon runs it behind validate (inOrderPerTopic). */
  aligner?: true | "in order";
  logger?: true;
  daemon?: { pick: (o: Obs) => unknown } & RunOptions;
}

const msgs = (o: Obs): string[] => o.logs.map((l) => String(l["msg"]));
const logged = (re: RegExp) => (o: Obs): boolean => msgs(o).some((m) => re.test(m));
const startError = (o: Obs): string => (o.error ?? "started").replace(/\/tmp\/[^\s:]+/g, "PATH").slice(0, 60);
const acceptedIds = (o: Obs): unknown => o.logs.find((l) => String(l["msg"]).startsWith("accepted sensor ids"))?.["sensors"];
const missing = (ctx: Ctx, name: string): string => join(ctx.dir, `missing-${name}`);
const fed = { feed: 2 };
const withRecording: Partial = (ctx) => ({ recording: { dir: ctx.rec } });
const sentDecisions = (o: Obs): boolean => /fusiond_decision_publishes_total\{result="sent"\} [1-9]/.test(o.metrics);
const futureRadar = async (ctx: Ctx): Promise<void> => {
  const client = await MqttTransport.connect({ url: ctx.brokerUrl, protocolVersion: 4, now: wallNs, registry: new TopicRegistry(ctx.vehicle) });
  const payload = codec.encode("fusiond.RadarScan", { timestamp: nsToTimestamp(wallNs() + 500n * MS), returns: [] });
  await client.publish(`vehicles/${ctx.vehicle}/sensors/radar/front`, payload, { qos: 1 });
  await sleep(500);
  await client.close();
};
const oldRecording = async (ctx: Ctx): Promise<void> => {
  const f = join(ctx.rec, "old_2000-01-01.mcap");
  writeFileSync(f, Buffer.alloc(2 * 1024 * 1024));
  const tenHoursAgo = Date.now() / 1000 - 36_000;
  utimesSync(f, tenHoursAgo, tenHoursAgo);
};
/** The daemon's recordings (not the old file every run starts with). */
const recordings = (o: Obs): string[] => o.files.filter((f) => !f.startsWith("old_"));
const oldRecordingKept = (o: Obs): boolean => o.files.includes("old_2000-01-01.mcap");

const ROWS: Record<string, Row> = {
  vehicle: { changed: () => ({ vehicle: "other-vehicle" }), daemon: { pick: (o) => o.decisionTopic } },
  // ---- mqtt: what the broker sees, or a start refused
  "mqtt.url": { changed: (c) => ({ mqtt: { url: `mqtt://127.0.0.1:${c.port}` } }), daemon: { pick: startError } },
  "mqtt.username": { changed: () => ({ mqtt: { username: "ego-user" } }), daemon: { pick: (o) => o.connects.map((c) => c.username) } },
  "mqtt.password": { changed: () => ({ mqtt: { username: "ego-user", password: "pw-123" } }), base: () => ({ mqtt: { username: "ego-user" } }), daemon: { pick: (o) => o.connects.map((c) => c.password) } },
  "mqtt.caFile": { changed: (c) => ({ mqtt: { caFile: missing(c, "ca.pem") } }), daemon: { pick: startError } },
  "mqtt.certFile": { changed: (c) => ({ mqtt: { certFile: missing(c, "cert.pem") } }), daemon: { pick: startError } },
  "mqtt.keyFile": { changed: (c) => ({ mqtt: { keyFile: missing(c, "key.pem") } }), daemon: { pick: startError } },
  "mqtt.keyPassphrase": {
    // An encrypted key: without its passphrase it cannot be read; with it the TLS handshake is tried (and fails: the broker speaks plain MQTT).
    base: (c) => ({ mqtt: { url: `mqtts://127.0.0.1:${c.brokerPort}`, keyFile: c.encryptedKey } }),
    changed: () => ({ mqtt: { keyPassphrase: "the-passphrase" } }),
    daemon: { pick: (o) => /decrypt|passphrase|bad password/i.test(o.error ?? "") },
  },
  "mqtt.clientId": { changed: () => ({ mqtt: { clientId: "fusiond-config-test" } }), daemon: { pick: (o) => o.connects.map((c) => c.clientId.startsWith("fusiond-config-test")) } },
  "mqtt.protocolVersion": { base: () => ({ mqtt: { protocolVersion: 4 } }), changed: () => ({ mqtt: { protocolVersion: 5 } }), daemon: { pick: (o) => o.connects.map((c) => c.protocolVersion) } },
  // ---- zmq
  "zmq.subscribe": {
    changed: (c) => ({ zmq: { subscribe: [`tcp://127.0.0.1:${c.port}`] } }),
    daemon: {
      pick: (o) => /source="zmq1"\} [1-9]/.test(o.metrics),
      during: async (c) => {
        const pub = new Publisher({ linger: 0 });
        await pub.bind(`tcp://127.0.0.1:${c.port}`);
        for (let i = 0; i < 10; i++) {
          await sleep(100);
          await pub.send([`vehicles/${c.vehicle}/sensors/radar/front`, codec.encode("fusiond.RadarScan", { timestamp: nsToTimestamp(wallNs()), returns: [] })]);
        }
        pub.close();
      },
    },
  },
  "zmq.publish": { base: () => ({ outputs: { zmq: true } }), changed: (c) => ({ zmq: { publish: `tcp://127.0.0.1:${c.port}` } }), daemon: { pick: (o) => o.zmqPublishOpen } },
  "zmq.curve.secretKeyFile": { changed: (c) => ({ zmq: { curve: { secretKeyFile: missing(c, "curve.key_secret") } } }), daemon: { pick: startError } },
  "zmq.curve.serverKey": {
    base: (c) => ({ zmq: { subscribe: [`tcp://127.0.0.1:${c.port}`], curve: { secretKeyFile: c.curveSecret } } }),
    changed: (c) => ({ zmq: { subscribe: [`tcp://127.0.0.1:${c.port}`], curve: { secretKeyFile: c.curveSecret, serverKey: curveKeyPair().publicKey } } }),
    daemon: { pick: logged(/zmq\.curve has no serverKey/) },
  },
  "zmq.curve.allow": {
    base: (c) => ({ outputs: { zmq: true }, zmq: { publish: `tcp://127.0.0.1:${c.port}`, curve: { secretKeyFile: c.curveSecret } } }),
    changed: (c) => ({ zmq: { publish: `tcp://127.0.0.1:${c.port}`, curve: { secretKeyFile: c.curveSecret, allow: [curveKeyPair().publicKey] } } }),
    daemon: {
      pick: (o) => /fusiond_zmq_refused_total [1-9]/.test(o.metrics),
      during: async (c) => {
        const stranger = curveKeyPair();
        const sub = new Subscriber({ linger: 0, curveServerKey: c.curvePublic, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
        sub.connect(`tcp://127.0.0.1:${c.port}`);
        sub.subscribe();
        await sleep(700);
        sub.close();
      },
    },
  },
  // ---- which sensors
  topics: { changed: (c) => ({ topics: [`vehicles/${c.vehicle}/sensors/camera/front`, `vehicles/${c.vehicle}/sensors/radar/front`] }), daemon: { pick: acceptedIds } },
  sensors: { changed: () => ({ sensors: ["camera/front", "radar/front"] }), daemon: { pick: acceptedIds } },
  // ---- alignment: the aligner's frames on a fixed drive
  "aligner.cameras": { changed: () => ({ aligner: { cameras: ["front", "rear"] } }), aligner: true },
  "aligner.cameraToleranceMs": { base: () => ({ aligner: { cameras: ["front", "rear"] } }), changed: () => ({ aligner: { cameraToleranceMs: 5 } }), aligner: true },
  "aligner.referenceTopic": { changed: (c) => ({ aligner: { referenceTopic: `vehicles/${c.vehicle}/sensors/camera/rear` } }), aligner: true },
  "aligner.radarToleranceMs": { changed: () => ({ aligner: { radarToleranceMs: 5 } }), aligner: true },
  // Scans 50 ms apart said to be ≥ 100 apart: frames stop waiting for the scan after the camera (10 ms later).
  "aligner.radarMinIntervalMs": { changed: () => ({ aligner: { radarMinIntervalMs: 100 } }), aligner: "in order" },
  "aligner.gnssMaxAgeMs": { changed: () => ({ aligner: { gnssMaxAgeMs: 10 } }), aligner: true },
  "aligner.egoMaxAgeMs": { changed: () => ({ aligner: { egoMaxAgeMs: 5 } }), aligner: true },
  "aligner.voiceTtlMs": { changed: () => ({ aligner: { voiceTtlMs: 50 } }), aligner: true },
  "aligner.allowedLatenessMs": { changed: () => ({ aligner: { allowedLatenessMs: 1000 } }), aligner: true },
  // The frame 120 ms late, dropped as late when cameras may be only 60 ms late.
  "aligner.cameraLatenessMs": { changed: () => ({ aligner: { cameraLatenessMs: 60 } }), aligner: true },
  "aligner.maxDelayMs": { changed: () => ({ aligner: { maxDelayMs: 20 } }), aligner: true },
  "aligner.maxBuffer": { changed: () => ({ aligner: { maxBuffer: 1 } }), aligner: true },
  "aligner.maxPendingFrames": { changed: () => ({ aligner: { maxPendingFrames: 1 } }), aligner: true },
  "aligner.noWaitFor": { changed: () => ({ aligner: { noWaitFor: [] } }), aligner: true },
  "aligner.extrapolate": { changed: () => ({ aligner: { extrapolate: [] } }), aligner: true },
  // The latest scan at or before the camera, not the nearest (waited for).
  "aligner.radarScan": { changed: () => ({ aligner: { radarScan: "latest" } }), aligner: true },
  // ---- input validation: a radar scan stamped 500 ms ahead of its arrival
  "validate.maxFutureMs": { changed: () => ({ validate: { maxFutureMs: 1000 } }), daemon: { pick: (o) => /reason="future"\} [1-9]/.test(o.metrics), during: futureRadar } },
  // ---- model
  "model.dir": { changed: (c) => ({ model: { dir: missing(c, "model") } }), daemon: { pick: startError } },
  "model.backend": { changed: () => ({ model: { backend: "cpu" } }), daemon: { pick: (o) => o.backend } },
  "model.fallbacks": { changed: (c) => ({ model: { fallbacks: { camera: missing(c, "no-camera-model") } } }), daemon: { pick: startError } },
  "model.cameraWorkers": { changed: () => ({ model: { cameraWorkers: 0 } }), daemon: { pick: (o) => o.cameraPool } },
  // ---- outputs
  "outputs.mqtt": { changed: () => ({ outputs: { mqtt: false } }), daemon: { pick: sentDecisions, ...fed } },
  "outputs.zmq": { base: (c) => ({ zmq: { publish: `tcp://127.0.0.1:${c.port}` } }), changed: () => ({ outputs: { zmq: true } }), daemon: { pick: (o) => o.zmqPublishOpen } },
  // ---- recording
  "recording.dir": { changed: withRecording, daemon: { pick: (o) => recordings(o).length } },
  "recording.rotateMB": { base: withRecording, changed: () => ({ recording: { rotateMB: 0.05 } }), daemon: { pick: (o) => recordings(o).length > 1, ...fed } },
  "recording.rotateSeconds": { base: withRecording, changed: () => ({ recording: { rotateSeconds: 0.5 } }), daemon: { pick: (o) => recordings(o).length > 1, ...fed } },
  "recording.compression": { base: withRecording, changed: () => ({ recording: { compression: "lz4" } }), daemon: { pick: (o) => o.chunkCompression, ...fed } },
  "recording.topics": { base: withRecording, changed: (c) => ({ recording: { topics: [`vehicles/${c.vehicle}/decision`] } }), daemon: { pick: (o) => o.recordedTopics.map((t) => t.replace(/^vehicles\/[^/]+\//, "")), ...fed } },
  "recording.minFreeMB": { base: withRecording, changed: () => ({ recording: { minFreeMB: 1e12 } }), daemon: { pick: (o) => String(o.readyz?.["recording"]).slice(0, 14) } },
  "recording.retryS": {
    // Below minFreeMB the recorder retries every retryS of log time, and each retry applies retention first:
    // an old file written after the first retry is deleted within 1.5 s with retryS 0.2, not with 5 s.
    base: (c) => ({ recording: { dir: c.rec, minFreeMB: 1e12, maxAgeHours: 1 } }),
    changed: () => ({ recording: { retryS: 0.2 } }),
    daemon: {
      pick: oldRecordingKept,
      during: async (c) => {
        await feed(c, 0.5);
        await oldRecording(c);
        await feed(c, 1.5);
      },
    },
  },
  "recording.maxTotalMB": { base: withRecording, changed: () => ({ recording: { maxTotalMB: 1 } }), daemon: { pick: oldRecordingKept } },
  "recording.maxAgeHours": { base: withRecording, changed: () => ({ recording: { maxAgeHours: 1 } }), daemon: { pick: oldRecordingKept } },
  "recording.signingKey": { base: withRecording, changed: (c) => ({ recording: { signingKey: missing(c, "recording.key") } }), daemon: { pick: startError } },
  // ---- the rest
  map: { changed: (c) => ({ map: missing(c, "map.json") }), daemon: { pick: startError } },
  "http.listen": { changed: () => ({ http: { listen: "off" } }), daemon: { pick: (o) => o.http } },
  "http.token": { changed: () => ({ http: { token: "a-token-of-some-length" } }), daemon: { pick: (o) => o.healthzStatus === 401 } },
  "foxglove.listen": { changed: (c) => ({ foxglove: { listen: `127.0.0.1:${c.port}` } }), daemon: { pick: (o) => o.foxglove.plain } },
  "foxglove.token": { base: (c) => ({ foxglove: { listen: `127.0.0.1:${c.port}` } }), changed: () => ({ foxglove: { token: "a-token-of-some-length" } }), daemon: { pick: (o) => o.foxglove.plain } },
  "foxglove.allowedOrigins": { base: (c) => ({ foxglove: { listen: `127.0.0.1:${c.port}` } }), changed: () => ({ foxglove: { allowedOrigins: ["https://app.foxglove.dev"] } }), daemon: { pick: (o) => o.foxglove.origin } },
  "log.level": { changed: () => ({ log: { level: "warn" } }), logger: true },
  // Closing a recording that holds data takes longer than a millisecond.
  // The budget the stop runs under (its log line): whether a 1-ms stop actually overruns depends on how fast the
  // recording, sockets and workers close (it did not always since the recorder's small chunks). Giving up after the
  // budget is test/bin/daemon-shutdown.test.ts's.
  shutdownTimeoutS: { base: withRecording, changed: () => ({ shutdownTimeoutS: 0.001 }), daemon: { pick: (o) => o.stopLogs.find((l) => l["msg"] === "shutting down")?.["timeoutMs"], ...fed } },
  // Where the test may set SCHED_FIFO (root), it is the test process's main thread: put back at once.
  "realtime.priority": { changed: () => ({ realtime: { priority: 1 } }), daemon: { pick: (o) => o.readyz?.["realtime"] === "off", during: () => Promise.resolve(normalScheduling()) } },
};

/** `over`'s top-level keys merged one level deep into `base`'s. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = b && typeof b === "object" && !Array.isArray(b) && v && typeof v === "object" && !Array.isArray(v) ? { ...b, ...v } : v;
  }
  return out;
}

/** A fresh folder and port, for a vehicle the row's two runs share (so that only the key differs). */
async function freshCtx(vehicle: string): Promise<Ctx> {
  const dir = mkdtempSync(join(tmpdir(), "fusiond-config-keys-"));
  const rec = join(dir, "rec");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(rec);
  await oldRecording({ rec } as Ctx);
  const curve = writeKeyPair(join(dir, "curve"));
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1", privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "the-passphrase" }, publicKeyEncoding: { type: "spki", format: "pem" } });
  const encryptedKey = join(dir, "client.key");
  writeFileSync(encryptedKey, privateKey, { mode: 0o600 });
  return { dir, rec, port: await freePort(), brokerUrl: broker.url, brokerPort: broker.port, model: modelDir, vehicle, curveSecret: curve.secretFile, curvePublic: curve.publicKey, encryptedKey };
}

function configOf(ctx: Ctx, extra: Record<string, unknown>): DaemonConfig {
  const base = { vehicle: ctx.vehicle, mqtt: { url: ctx.brokerUrl, protocolVersion: 4 }, model: { dir: ctx.model, backend: "wasm" }, http: { listen: "127.0.0.1:0" } };
  return parseDaemonConfig(merge(base, extra), "the row's config");
}

/**
 * Daemon baselines that rows share (the same base, hook and feed): one run serves them all. Sound because a
 * row's pick never depends on the vehicle id, the folder or the ports, which differ between the runs.
 */
const baselines = new Map<string, Promise<unknown>>();
const refIds = new Map<unknown, number>();
const refId = (f: unknown): number => (f === undefined ? 0 : (refIds.get(f) ?? (refIds.set(f, refIds.size + 1), refIds.size)));

async function observe(row: Row, withChange: boolean, vehicle: string): Promise<unknown> {
  const d = row.daemon;
  if (d && !withChange) {
    const key = `${refId(row.base)} ${refId(d.during)} ${d.feed ?? 0}`;
    let obs = baselines.get(key);
    if (!obs) baselines.set(key, (obs = observeOnce(row, false, vehicle, (o) => o)));
    return d.pick((await obs) as Obs);
  }
  return observeOnce(row, withChange, vehicle, (o) => d!.pick(o));
}

async function observeOnce(row: Row, withChange: boolean, vehicle: string, pick: (o: Obs) => unknown): Promise<unknown> {
  const ctx = await freshCtx(vehicle);
  try {
    const extra = withChange ? merge(row.base?.(ctx) ?? {}, row.changed(ctx)) : (row.base?.(ctx) ?? {});
    // vehicle is the one key the ctx also sets: the row's value wins.
    const config = configOf(ctx, extra);
    if (row.aligner) return alignerTrace(config, row.aligner === "in order");
    if (row.logger) return infoLogged(config);
    const d = row.daemon!;
    if (extra["vehicle"]) ctx.vehicle = String(extra["vehicle"]);
    return pick(await runDaemon(config, ctx, d));
  } finally {
    rmSync(ctx.dir, { recursive: true, force: true });
  }
}

describe("docs/deployment.md: every configuration key changes what the daemon does", function () {
  this.timeout(600_000);
  const keys = docKeys();

  before(async () => {
    modelDir = await untrainedModel();
    const aedes: AedesOptions = {
      preConnect: (client, packet, done) => {
        const p = packet as { clientId: string; username?: string; password?: Buffer; protocolVersion?: number };
        connects.push({ clientId: p.clientId, ...(p.username ? { username: p.username } : {}), ...(p.password ? { password: p.password.toString() } : {}), ...(p.protocolVersion ? { protocolVersion: p.protocolVersion } : {}) });
        done(null, true);
      },
    };
    broker = await EmbeddedBroker.start({ aedes });
  });
  after(async () => {
    await broker?.stop();
  });

  it("the doc lists every key the config accepts, and only those", () => {
    const schema = schemaKeys(objectShape(daemonConfigSchema as unknown as ZodLike)!);
    assert.deepEqual([...keys].sort(), [...schema].sort());
  });

  it("has a row for every key of the doc, and no row for a key it does not list", () => {
    assert.deepEqual(Object.keys(ROWS).sort(), [...keys].sort());
  });

  for (const [i, key] of docKeys().entries()) {
    it(`${key}`, async () => {
      const vehicle = `cfg${process.pid}r${i}`;
      const row = ROWS[key];
      assert.ok(row, `no row for ${key}: add one to test/bin/config-keys.test.ts (or remove the key from the schema and docs/deployment.md)`);
      const before = await observe(row, false, vehicle);
      const after = await observe(row, true, vehicle);
      assert.notDeepEqual(after, before, `${key}: changing it changed nothing observable (${JSON.stringify(before)})`);
    });
  }
});
