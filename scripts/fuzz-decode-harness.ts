/**
 * The daemon's decode path as one fuzz target: raw bytes on a topic (with MQTT 5 properties or not)
 * → MessageDecoder (allow-list, size limit, schema, strict wire check, protobufjs decode, stamp) →
 * MessageValidator (stamps, finiteness, ranges, order) → the features of the message's modality
 * (camera JPEG/PNG/raw decode and patches, radar points, GNSS, ego, voice log-mel). Every input ends
 * in exactly one outcome: accepted (features computed) or rejected with a reason; anything thrown
 * is a crash. Shared by the mocha property test (test/schemas/decode-path.fuzz.test.ts, ≥ 100k
 * inputs) and scripts/fuzz-decode.ts (long runs).
 */
import fc from "fast-check";
import { cameraFeatures } from "../fusion/features/camera.ts";
import { DEFAULT_FEATURE_CONFIG } from "../fusion/features/config.ts";
import { egoFeatures } from "../fusion/features/ego.ts";
import { gnssFeatures } from "../fusion/features/gnss.ts";
import { radarFeatures } from "../fusion/features/radar.ts";
import { voiceFeatures } from "../fusion/features/voice.ts";
import { MessageValidator } from "../pipeline/validate.ts";
import { DEFAULT_SENSOR_IDS, MessageDecoder, PROTOBUF_CONTENT_TYPE, SensorAllowList, TopicRegistry, defaultCodec, nsToTimestamp, type RawMessage, type RejectReason } from "../schemas/index.ts";
import { encodeJpeg } from "../sim/sensors/camera.ts";

export const VEHICLE = "fz";
/** Receive time of every input; stamps are drawn around it. */
export const T0 = 1_700_000_000_000_000_000n;

const codec = defaultCodec();
const registry = new TopicRegistry(VEHICLE);
const allow = new SensorAllowList(registry, DEFAULT_SENSOR_IDS);

/** The accepted topics, by their registry type. */
const TOPICS: Record<string, string> = {
  "foxglove.CompressedImage": `vehicles/${VEHICLE}/sensors/camera/front`,
  "foxglove.RawImage": `vehicles/${VEHICLE}/sensors/camera_raw/front`,
  "fusiond.RadarScan": `vehicles/${VEHICLE}/sensors/radar/front`,
  "foxglove.LocationFix": `vehicles/${VEHICLE}/sensors/gnss/main`,
  "foxglove.RawAudio": `vehicles/${VEHICLE}/sensors/voice/cabin`,
  "fusiond.EgoState": `vehicles/${VEHICLE}/ego`,
};
const TYPES = Object.keys(TOPICS);

/** A real 16x16 baseline JPEG (the simulator's encoder), for mutation: the JPEG decoders get fuzzed too. */
const JPEG = encodeJpeg(new Uint8Array(16 * 16 * 4).map((_, i) => (i * 53) & 255), 16, 16, 80);

export type Outcome = "accepted" | RejectReason;

export interface FuzzInput {
  topic: string;
  payload: Uint8Array;
  schema?: string;
  contentType?: string;
  receiveOffsetNs: bigint;
  /** Validate as the first message of a new stream (else with the per-topic state the inputs before left). */
  freshStream: boolean;
}

// ---- arbitraries -------------------------------------------------------------------------------

const stampArb = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: -2_000_000_000n, max: 2_000_000_000n }).map((d) => nsToTimestamp(T0 + d)) },
  { weight: 1, arbitrary: fc.record({ seconds: fc.integer(), nanos: fc.integer() }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const num = fc.oneof({ weight: 6, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: true }) }, { weight: 1, arbitrary: fc.double() });
const u32 = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffff_ffff }));
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
/** The JPEG as is, with some bytes changed, cut short, or random bytes. */
const jpegData = fc.oneof(
  fc.constant(JPEG),
  fc.array(fc.tuple(fc.nat(JPEG.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((edits) => {
    const out = JPEG.slice();
    for (const [at, v] of edits) out[at] = v;
    return out;
  }),
  fc.nat(JPEG.length).map((n) => JPEG.slice(0, n)),
  bytes(64),
);
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
/** Absent 4 times in 5 (MQTT 5 properties: most traffic here has none). */
const rarely = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

/** A plain object of each type, its fields drawn from plausible and hostile values. */
const VALUE: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  "foxglove.CompressedImage": fc.record({
    timestamp: stampArb,
    frame_id: fc.string({ maxLength: 8 }),
    data: jpegData,
    format: fc.constantFrom("jpeg", "jpg", "image/jpeg", "png", "", "gif", "JPEG"),
  }),
  "foxglove.RawImage": fc.record({
    timestamp: stampArb,
    width: u32,
    height: u32,
    encoding: fc.constantFrom("rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", ""),
    step: u32,
    data: bytes(512),
  }),
  "fusiond.RadarScan": fc.record({
    timestamp: stampArb,
    frame_id: fc.string({ maxLength: 8 }),
    returns: fc.array(fc.record({ range_m: num, azimuth_rad: num, elevation_rad: num, radial_velocity_mps: num, rcs_dbsm: num }), { maxLength: 40 }),
    seq: u32,
  }),
  "foxglove.LocationFix": fc.record({
    timestamp: stampArb,
    latitude: num,
    longitude: num,
    altitude: num,
    position_covariance: fc.array(num, { maxLength: 12 }),
    position_covariance_type: fc.integer({ min: 0, max: 3 }),
  }),
  "foxglove.RawAudio": fc.record({
    timestamp: stampArb,
    data: bytes(2048),
    format: fc.constantFrom("pcm-s16", "pcm", "", "opus", "PCM-S16LE"),
    sample_rate: fc.oneof(fc.constantFrom(16000, 8000, 48000), fc.integer({ min: 1, max: 10 }), u32),
    number_of_channels: u32,
  }),
  "fusiond.EgoState": fc.record({
    timestamp: stampArb,
    speed_mps: num,
    yaw_rate_rps: num,
    steering_rad: num,
    accel_mps2: num,
    lane_index: opt(fc.integer({ min: -5, max: 100 })),
    lane_change: fc.integer({ min: -2, max: 2 }),
  }),
};

const encoded = (type: string): fc.Arbitrary<Uint8Array> =>
  VALUE[type]!.map((v) => codec.encode(type, Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined))));

/** Byte-level damage to a valid payload: flips, cuts, appended or inserted bytes. */
const mutate = (payload: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc.tuple(payload, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("flip", "cut", "append", "insert"), bytes(16)).map(([p, at, v, how, extra]) => {
    const i = p.length ? at % p.length : 0;
    if (how === "flip") {
      const out = p.slice();
      if (out.length) out[i] = out[i]! ^ (v || 1);
      return out;
    }
    if (how === "cut") return p.slice(0, i);
    const out = new Uint8Array(p.length + extra.length);
    const where = how === "append" ? p.length : i;
    out.set(p.subarray(0, where));
    out.set(extra, where);
    out.set(p.subarray(where), where + extra.length);
    return out;
  });

const strayTopic = fc.oneof(
  fc.tuple(fc.constantFrom("camera", "camera_raw", "radar", "gnss", "voice"), fc.string({ minLength: 1, maxLength: 12 })).map(([k, id]) => `vehicles/${VEHICLE}/sensors/${k}/${id.replace(/\//g, "_") || "x"}`),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(`vehicles/${VEHICLE}/decision`, `vehicles/other/sensors/camera/front`, `vehicles/${VEHICLE}/lidar`),
);

/** One input: mostly well-formed traffic on accepted topics, then damaged, foreign, stray and random. */
export const fuzzInput: fc.Arbitrary<FuzzInput> = fc
  .tuple(
    fc.constantFrom(...TYPES),
    fc.constantFrom(...TYPES),
    fc.integer({ min: 0, max: 99 }),
    strayTopic,
    rarely(fc.constantFrom("own", "own", "other", "garbage")),
    rarely(fc.constantFrom(PROTOBUF_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE, "application/json")),
    fc.bigInt({ min: -3_000_000_000n, max: 3_000_000_000n }),
    fc.integer({ min: 0, max: 9 }),
  )
  .chain(([topicType, payloadType, dice, stray, schema, contentType, receiveOffsetNs, streamDice]) => {
    // 40% well-formed, 25% damaged, 15% another type, 10% random bytes, 10% a stray topic.
    const payload = dice < 40 ? encoded(topicType) : dice < 65 ? mutate(encoded(topicType)) : dice < 80 ? encoded(payloadType) : bytes(256);
    return payload.map((p) => {
      const input: FuzzInput = { topic: dice >= 90 ? stray : TOPICS[topicType]!, payload: p, receiveOffsetNs, freshStream: streamDice < 7 };
      if (schema !== undefined) input.schema = schema === "own" ? topicType : schema === "other" ? payloadType : "x.Y";
      if (contentType !== undefined) input.contentType = contentType;
      return input;
    });
  });

// ---- the target --------------------------------------------------------------------------------

export class DecodePath {
  readonly decoder = new MessageDecoder({ registry, codec, acceptTopic: (t) => allow.accepts(t) });
  /** Kept across inputs unless one starts a fresh stream, so duplicate and out-of-order checks are fuzzed too. */
  validator = new MessageValidator();
  readonly outcomes = new Map<Outcome, number>();
  /** Accepted messages whose features came out unusable (a present slot the model can't use), by problem. */
  readonly featureProblems = new Map<string, number>();
  /** Feature values that were not finite (NaN/Infinity reaching the model), by modality. */
  readonly nonFinite = new Map<string, number>();

  /** Runs one input through the path. Throws only on a crash (a bug). */
  run(input: FuzzInput): Outcome {
    const raw: RawMessage = { topic: input.topic, payload: input.payload, receiveNs: T0 + input.receiveOffsetNs };
    if (input.schema !== undefined) raw.schema = input.schema;
    if (input.contentType !== undefined) raw.contentType = input.contentType;
    const decoded = this.decoder.decode(raw);
    if (!decoded.ok) return this.count(checkedReason(decoded.rejection.reason, decoded.rejection.detail));
    const m = decoded.message;
    if (input.freshStream) this.validator = new MessageValidator();
    const rejection = this.validator.check(m);
    if (rejection) return this.count(checkedReason(rejection.reason, rejection.detail));
    const cfg = DEFAULT_FEATURE_CONFIG;
    let values: Float32Array[] = [];
    let problem: string | undefined;
    switch (m.kind) {
      case "camera": {
        const f = cameraFeatures(m.message, cfg);
        values = [f.patches];
        problem = f.problem;
        break;
      }
      case "radar": {
        const f = radarFeatures(m.message, cfg);
        values = [f.points, f.pointMask, f.summary];
        break;
      }
      case "gnss":
        values = [gnssFeatures(m.message, undefined, true).values];
        break;
      case "ego":
        values = [egoFeatures(m.message, true, { map: undefined }, true).values];
        break;
      case "voice": {
        const f = voiceFeatures(m.message, cfg);
        values = [f.values];
        problem = f.problem;
        break;
      }
      default:
        throw new Error(`accepted a message of kind ${m.kind} on ${m.topic}, which no sensor topic carries`);
    }
    if (problem !== undefined) bump(this.featureProblems, `${m.kind}: ${problem.replace(/[\d.]+/g, "N").slice(0, 60)}`);
    if (values.some((v) => v.some((x) => !Number.isFinite(x)))) bump(this.nonFinite, m.kind);
    return this.count("accepted");
  }

  total(): number {
    let n = 0;
    for (const v of this.outcomes.values()) n += v;
    return n;
  }

  private count(o: Outcome): Outcome {
    bump(this.outcomes, o);
    return o;
  }
}

const REASONS = new Set<string>(["decode_error", "wrong_type", "oversized", "unknown_topic", "invalid", "late", "duplicate", "out_of_order", "queue_overflow", "send_failed", "future"]);

/** A rejection must carry a known reason and say what was wrong. */
function checkedReason(reason: RejectReason, detail: string): RejectReason {
  if (!REASONS.has(reason)) throw new Error(`rejection with unknown reason ${reason}`);
  if (!detail) throw new Error(`rejection ${reason} without a detail`);
  return reason;
}

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
