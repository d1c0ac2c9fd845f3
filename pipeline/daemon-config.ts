/**
 * The daemon's configuration (`fusiond run --config FILE`), validated with zod so that a bad file
 * is answered with the key that is wrong and what is allowed. Pure: reading the file (YAML or JSON)
 * and the command-line overrides happen in bin/.
 */
import { z } from "zod";
import { FusiondError, sensorIdKinds } from "../schemas/index.ts";

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected HOST:PORT, e.g. 127.0.0.1:9464");

/** A CURVE key in Z85: 40 characters of ZeroMQ's Z85 alphabet (32 bytes). */
export const z85Key = z.string().regex(/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/, "expected a 40-character Z85 CURVE key (fusiond keygen prints one)");

/** An HTTP bearer token: printable, no spaces, long enough to resist guessing. */
const bearerToken = z.string().regex(/^[\x21-\x7e]{16,}$/, "expected at least 16 printable characters without spaces (e.g. openssl rand -hex 32)");

const mqttSchema = z
  .object({
    url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, "expected an MQTT URL such as mqtt://127.0.0.1:1883"),
    username: z.string().optional(),
    password: z.string().optional(),
    /** PEM files for TLS (read by bin/). */
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    /** Passphrase of an encrypted keyFile (or FUSIOND_MQTT_KEY_PASSPHRASE). A secret: never logged. */
    keyPassphrase: z.string().optional(),
    clientId: z.string().optional(),
    /** 4 or 5; 5 adds content type and the `schema` user property. */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
  })
  .strict();

const zmqSchema = z
  .object({
    /** Endpoints to SUB from, e.g. tcp://127.0.0.1:5555 or ipc:///run/fusiond/sensors. */
    subscribe: z.array(z.string().regex(/^(tcp|ipc|inproc):\/\//, "expected a ZeroMQ endpoint such as tcp://127.0.0.1:5555")).default([]),
    /** Endpoint to bind a PUB socket on for decisions. */
    publish: z.string().regex(/^(tcp|ipc|inproc):\/\//).optional(),
    /** ZeroMQ CURVE (encryption and authentication); off unless set. docs/deployment.md, "Securing the transports". */
    curve: z
      .object({
        /** Our key pair: a CZMQ-style secret certificate as written by `fusiond keygen` (holds both keys). */
        secretKeyFile: z.string(),
        /** The public key of the sensors' PUB sockets we connect to (they are CURVE servers). */
        serverKey: z85Key.optional(),
        /** Public keys of the clients allowed on the sockets we serve (the decision PUB); anyone else is refused. */
        allow: z.array(z85Key).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Aligner parameters in milliseconds; omitted ones take the aligner's defaults (pipeline/frame-aligner.ts). */
export const alignerSchema = z
  .object({
    /** Topic whose messages trigger frames (default: the first of cameras, else the first camera topic that delivers). */
    referenceTopic: z.string().optional(),
    /**
     * The vehicle's camera ids (vehicles/{v}/sensors/camera/{id}), reference first: every frame holds each
     * other camera's frame nearest the reference stamp (masked when missing or stale); cameras not listed are
     * not aligned. Default: the model's camera slots, else none — the first camera topic that delivers is the
     * reference (a single-camera vehicle) and other camera topics are not aligned.
     */
    cameras: z.array(z.string().regex(/^[^/#+]+$/, "a camera id such as front (no /, # or +)")).min(1).optional(),
    /** Other cameras: the frame nearest the reference stamp within ± this. */
    cameraToleranceMs: z.number().positive().max(10_000).optional(),
    radarToleranceMs: z.number().positive().max(10_000).optional(),
    /**
     * Scans of one radar come at least this far apart (default: 80% of the topic registry's radar period, 40 for
     * its 20 Hz): a frame is final once no scan that soon could be nearer than its best, without waiting for the
     * next one. 0: wait for it.
     */
    radarMinIntervalMs: z.number().min(0).max(10_000).optional(),
    gnssMaxAgeMs: z.number().positive().max(60_000).optional(),
    egoMaxAgeMs: z.number().positive().max(60_000).optional(),
    voiceTtlMs: z.number().positive().max(600_000).optional(),
    /** Messages stamped more than this below the newest stamp are dropped as late. */
    allowedLatenessMs: z.number().positive().max(60_000).optional(),
    /**
     * Camera frames have their own lateness (default 250): a camera frame stamped up to this below the newest
     * stamp is still decided (at once, with the samples around its stamp). Real cameras arrive 30–150 ms after
     * their capture stamp, the CAN bus within a few ms.
     */
    cameraLatenessMs: z.number().positive().max(60_000).optional(),
    /** How long a frame waits for late inputs on the pipeline's clock. */
    maxDelayMs: z.number().positive().max(60_000).optional(),
    maxBuffer: z.number().int().positive().max(1_000_000).optional(),
    maxPendingFrames: z.number().int().positive().max(100_000).optional(),
    /**
     * Modalities a frame does not wait for (uses what has arrived: interpolated, extrapolated or held).
     * Default: the aligner's, ["gnss", "ego"] (waiting for the 10 Hz fix after the camera stamp would add up
     * to 100 ms of latency, and the 50 Hz ego sample after it up to 20 ms); [] waits for every modality.
     * Adding "radar" takes the scan nearest the camera stamp among those that have arrived: no wait for the
     * scan after it (up to a radar period less latency), at the price of a scan up to that much older (the
     * shipped default model, trained on the nearest scan, loses 0.004 macro-F1 so; extrapolate "radar" moves
     * the scan's returns to the camera stamp).
     */
    noWaitFor: z.array(z.enum(["gnss", "ego", "radar"])).optional(),
    /**
     * Modalities estimated at the frame time. GNSS/ego: from their last two samples when the one after it has
     * not arrived. Radar (when also in noWaitFor): each return of the scan taken moved to the frame time along
     * its radial velocity. Default: the aligner's, ["gnss", "ego"]: with noWaitFor, the frame leaves when camera
     * and radar are there; [] holds the last sample instead.
     */
    extrapolate: z.array(z.enum(["gnss", "ego", "radar"])).optional(),
    /**
     * The radar scan a frame holds: "nearest" the camera stamp (waited for unless radar is in noWaitFor), or
     * "latest" at or before it (never waited for: the frame leaves when the cameras are there). Default: the
     * model's (a model trained on the latest scan says so in its input spec, config.radarScan, and then radar is
     * also extrapolated unless `extrapolate` is set), else "nearest".
     */
    radarScan: z.enum(["nearest", "latest"]).optional(),
  })
  .strict();

export const daemonConfigSchema = z
  .object({
    vehicle: z.string().min(1).regex(/^[^/#+]+$/, "must not contain /, # or +").default("ego1"),
    mqtt: mqttSchema.optional(),
    zmq: zmqSchema.optional(),
    /** Topic patterns to subscribe to; default: every sensor topic of the vehicle. */
    topics: z.array(z.string().min(1)).optional(),
    /**
     * Accepted sensor ids as <kind>/<id> (e.g. camera/front): messages on any other
     * vehicles/{v}/sensors/<kind>/<id> are rejected (unknown_topic, counted under topic "(other)").
     * Default: the sensor topics named in `topics` (with the simulator's ids of kinds it subscribes
     * by pattern), else the simulator's set (DEFAULT_SENSOR_IDS).
     */
    sensors: z
      .array(
        z
          .string()
          .regex(/^[a-z_]+\/[^/#+\s]+$/, "expected <kind>/<id>, e.g. camera/front")
          .refine((s) => sensorIdKinds().includes(s.slice(0, s.indexOf("/"))), { message: `kind must be one of ${sensorIdKinds().join(", ")}` }),
      )
      .min(1)
      .optional(),
    aligner: alignerSchema.default({}),
    validate: z
      .object({
        /**
         * A message stamped more than this after its own receive time is rejected (`future`): the sender's
         * clock is ahead, or someone is moving event time. Keep it below aligner.maxDelayMs.
         */
        maxFutureMs: z.number().min(0).max(60_000).default(100),
      })
      .strict()
      .default({ maxFutureMs: 100 }),
    /** Road map (JSON, domain/road-map.ts RoadMap) for map context: stop lines, speed limits, tunnels. */
    map: z.string().optional(),
    model: z
      .object({
        dir: z.string().default("models/default"),
        backend: z.enum(["auto", "onnx", "onnx-webgpu", "webgpu", "tensorflow-gpu", "tensorflow", "wasm", "cpu"]).default("auto"),
        /** Model used when a critical modality is missing, by modality. */
        fallbacks: z.record(z.string(), z.string()).default({}),
        /**
         * Worker threads that decode large camera frames (at the size the model needs) off the main thread;
         * small frames (≤ 128×128) are done inline. 0: everything on the main thread.
         */
        cameraWorkers: z.number().int().min(0).max(16).default(1),
      })
      .strict()
      .default({ dir: "models/default", backend: "auto", fallbacks: {}, cameraWorkers: 1 }),
    outputs: z
      .object({
        /** Publish decisions on vehicles/{v}/decision over MQTT (when mqtt is configured). */
        mqtt: z.boolean().default(true),
        /** Also publish over ZeroMQ (zmq.publish). */
        zmq: z.boolean().default(false),
      })
      .strict()
      .default({ mqtt: true, zmq: false }),
    recording: z
      .object({
        dir: z.string(),
        rotateMB: z.number().positive().optional(),
        rotateSeconds: z.number().positive().optional(),
        /** Topic patterns (MQTT-style) to record, sensors and decisions alike; default: every accepted topic and the decisions. */
        topics: z.array(z.string()).optional(),
        compression: z.enum(["zstd", "lz4", "none"]).default("zstd"),
        /** Free space below which recording stops (the open file is closed properly) until space is back, MB. */
        minFreeMB: z.number().min(0).default(256),
        /** After a failure (ENOSPC, EIO, too little space), try again in a new file every this many seconds. */
        retryS: z.number().positive().max(3600).default(5),
        /** Retention: delete the oldest recordings in dir once they take more than this together, MB. */
        maxTotalMB: z.number().positive().optional(),
        /** Retention: delete recordings last written longer ago than this, hours. */
        maxAgeHours: z.number().positive().optional(),
        /** Ed25519 private key (PEM) that signs each closed file (`fusiond sign-keygen`); files are unsigned without it. */
        signingKey: z.string().optional(),
      })
      .strict()
      .optional(),
    /** Foxglove WebSocket live view (camera, GNSS, radar, decisions, health); off unless set. */
    foxglove: z
      .object({
        listen: hostPort,
        /** Bearer token a client must send (Authorization header, or ?token= for browsers); or FUSIOND_FOXGLOVE_TOKEN. */
        token: bearerToken.optional(),
        /** Origins allowed to open the WebSocket; default: none sent, or a loopback origin. E.g. https://app.foxglove.dev */
        allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, "expected an origin such as https://app.foxglove.dev")).optional(),
      })
      .strict()
      .optional(),
    /** `http: off` (or false) is short for `http: { listen: off }`, as docs/deployment.md offers it. */
    http: z.preprocess(
      (v) => (v === "off" || v === false ? { listen: "off" } : v),
      z
        .object({
          listen: z.union([hostPort, z.literal("off")]).default("127.0.0.1:9464"),
          /** Bearer token for /metrics /healthz /readyz (Authorization: Bearer ...); or FUSIOND_HTTP_TOKEN. */
          token: bearerToken.optional(),
        })
        .strict()
        .default({ listen: "127.0.0.1:9464" }),
    ),
    log: z
      .object({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info") })
      .strict()
      .default({ level: "info" }),
    /**
     * Real-time scheduling of the main thread (SCHED_FIFO at this priority, 1–99), for a steady
     * frame-to-decision latency on a loaded machine; needs CAP_SYS_NICE (docs/deployment.md). Off unless set.
     */
    realtime: z.object({ priority: z.number().int().min(1).max(99) }).strict().optional(),
    /** Seconds to drain and close on SIGTERM before exiting anyway. */
    shutdownTimeoutS: z.number().positive().max(120).default(10),
  })
  .strict()
  .refine((c) => c.mqtt !== undefined || (c.zmq?.subscribe.length ?? 0) > 0, {
    message: "no input: set mqtt.url (or --mqtt URL) or zmq.subscribe (or --zmq ENDPOINT)",
  });

export type DaemonConfig = z.infer<typeof daemonConfigSchema>;

/** The secrets a config holds (to cut them out of anything printed), including a password in the MQTT URL. */
export function configSecrets(c: DaemonConfig): string[] {
  const out = [c.mqtt?.password, c.mqtt?.keyPassphrase, c.http.token, c.foxglove?.token];
  if (c.mqtt) {
    const m = /^[a-z]+:\/\/[^/@]*:([^/@]*)@/i.exec(c.mqtt.url);
    if (m?.[1]) {
      out.push(m[1]);
      try {
        out.push(decodeURIComponent(m[1]));
      } catch {
        // not percent-encoded validly: the raw text is all there is
      }
    }
  }
  return [...new Set(out.filter((s): s is string => typeof s === "string" && s.length > 0))];
}

/**
 * Validates a parsed config object. Throws FusiondError `bad_config` listing every problem as
 * `key.path: what is wrong`, e.g. "aligner.maxDelayMs: Too big: expected number to be <=60000".
 */
export function parseDaemonConfig(input: unknown, source = "config"): DaemonConfig {
  const result = daemonConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.length ? issue.path.join(".") : "(top level)";
    const extra = issue.code === "unrecognized_keys" ? ` (allowed keys are listed in docs/deployment.md)` : "";
    return `${key}: ${issue.message}${extra}`;
  });
  throw new FusiondError("bad_config", `${source} is not a valid fusiond config:\n  ${problems.join("\n  ")}`, { source, problems });
}
