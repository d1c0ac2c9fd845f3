/**
 * The daemon's configuration (`fusiond run --config FILE`), validated with zod so that a bad file
 * is answered with the key that is wrong and what is allowed. Pure: reading the file (YAML or JSON)
 * and the command-line overrides happen in bin/.
 */
import { z } from "zod";
import { FusiondError } from "../schemas/index.ts";

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected HOST:PORT, e.g. 127.0.0.1:9464");

const mqttSchema = z
  .object({
    url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, "expected an MQTT URL such as mqtt://127.0.0.1:1883"),
    username: z.string().optional(),
    password: z.string().optional(),
    /** PEM files for TLS (read by bin/). */
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
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
  })
  .strict();

/** Aligner parameters in milliseconds; omitted ones take the aligner's defaults (pipeline/frame-aligner.ts). */
export const alignerSchema = z
  .object({
    /** Topic whose messages trigger frames (default: every camera topic). */
    referenceTopic: z.string().optional(),
    radarToleranceMs: z.number().positive().max(10_000).optional(),
    gnssMaxAgeMs: z.number().positive().max(60_000).optional(),
    egoMaxAgeMs: z.number().positive().max(60_000).optional(),
    voiceTtlMs: z.number().positive().max(600_000).optional(),
    /** Messages stamped more than this below the newest stamp are dropped as late. */
    allowedLatenessMs: z.number().positive().max(60_000).optional(),
    /** How long a frame waits for late inputs on the pipeline's clock. */
    maxDelayMs: z.number().positive().max(60_000).optional(),
    maxBuffer: z.number().int().positive().max(1_000_000).optional(),
    maxPendingFrames: z.number().int().positive().max(100_000).optional(),
    /**
     * Modalities a frame does not wait for (uses what has arrived: interpolated or held). Default
     * ["gnss"]: waiting for the 10 Hz fix after the camera stamp would add up to 100 ms of latency.
     */
    noWaitFor: z.array(z.enum(["gnss", "ego"])).default(["gnss"]),
  })
  .strict();

export const daemonConfigSchema = z
  .object({
    vehicle: z.string().min(1).regex(/^[^/#+]+$/, "must not contain /, # or +").default("ego1"),
    mqtt: mqttSchema.optional(),
    zmq: zmqSchema.optional(),
    /** Topic patterns to subscribe to; default: every sensor topic of the vehicle. */
    topics: z.array(z.string().min(1)).optional(),
    aligner: alignerSchema.default({ noWaitFor: ["gnss"] }),
    /** Road map (JSON, schemas/map.ts RoadMap) for map context: stop lines, speed limits, tunnels. */
    map: z.string().optional(),
    model: z
      .object({
        dir: z.string().default("models/default"),
        backend: z.enum(["auto", "onnx", "onnx-webgpu", "webgpu", "tensorflow-gpu", "tensorflow", "wasm", "cpu"]).default("auto"),
        /** Model used when a critical modality is missing, by modality. */
        fallbacks: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .default({ dir: "models/default", backend: "auto", fallbacks: {} }),
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
        /** Topic patterns to record; default: every topic the registry marks as recorded. */
        topics: z.array(z.string()).optional(),
        compression: z.enum(["zstd", "lz4", "none"]).default("zstd"),
      })
      .strict()
      .optional(),
    /** Foxglove WebSocket live view (camera, GNSS, radar, decisions, health); off unless set. */
    foxglove: z.object({ listen: hostPort }).strict().optional(),
    http: z.object({ listen: z.union([hostPort, z.literal("off")]).default("127.0.0.1:9464") }).strict().default({ listen: "127.0.0.1:9464" }),
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

/**
 * Validates a parsed config object. Throws FusiondError `bad_config` listing every problem as
 * `key.path: what is wrong`, e.g. "aligner.maxWaitMs: Too big: expected number to be <=5000".
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
