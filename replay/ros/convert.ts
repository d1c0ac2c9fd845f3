/**
 * Converts a ROS recording (any RosReader) into fusiond messages on a McapRecorder: event stamps from the
 * ROS headers (exact, ns), receive times from the bag's record times (MCAP log_time). What cannot be mapped
 * is listed by topic, type and count and skipped; fields the source types cannot carry are listed per
 * fusiond topic and left unset. A file fusiond cannot read (unknown definition or encoding on a mapped
 * topic, bz2, a corrupt chunk) is a FusiondError naming file, offset and topic.
 */
import { defaultCodec, FusiondError, type ProtoCodec } from "../../schemas/index.ts";
import type { McapRecorder } from "../recorder.ts";
import { convertCamera, convertGnss, convertRadar, convertVoice, imuOf, MISSING_BY_TYPE, motionOf, stampOf, type Converted } from "./convert-message.ts";
import { decoderFor, rosError, type RosDecode } from "./decode.ts";
import { EgoMerger, type EgoOut } from "./ego-merger.ts";
import { defaultSensorId, EGO_SCALAR_FIELDS, INTEGER_TYPES, resolveConnection, type MappingRule, type RosMapping } from "./mapping.ts";
import type { RosConnection, RosProblem, RosReader } from "./types.ts";

export interface TopicCount {
  topic: string;
  type: string;
  count: number;
}
export interface MappedTopic extends TopicCount {
  /** The fusiond topic written. */
  to: string;
  /** From the mapping file (true) or the defaults (false). */
  explicit: boolean;
}
export interface ConvertReport {
  input: string;
  format: "ros1" | "ros2";
  bytesIn: number;
  messagesIn: number;
  messagesOut: number;
  mapped: MappedTopic[];
  /** Not mapped: skipped, with why. */
  unmapped: Array<TopicCount & { reason: string }>;
  /** Mapped but rejected message by message (e.g. an image format fusiond does not read), counted by reason. */
  rejected: Array<TopicCount & { reason: string }>;
  /** Fusiond fields the ROS types cannot carry, per fusiond topic: written as missing, not zero. */
  missing: Array<{ to: string; from: string; fields: string[] }>;
  /** Messages whose header stamp was zero: the receive time stood in. */
  stampFromReceive: number;
  /** What the reader recovered past (unindexed or cut files), by offset. */
  problems: RosProblem[];
  startNs?: bigint;
  endNs?: bigint;
}

export interface ConvertOptions {
  mapping: RosMapping;
  codec?: ProtoCodec;
  /** Called now and then with the bytes of input consumed. */
  onProgress?: (bytesRead: number, size: number, messagesOut: number) => void;
}

interface ConnState {
  rule?: MappingRule;
  explicit: boolean;
  reason?: string;
  decode?: RosDecode;
  to?: string;
  count: number;
  seq: number;
}

const MAX_QUEUED = 32 * 1024 * 1024;

export async function convertRos(reader: RosReader, recorder: McapRecorder, options: ConvertOptions): Promise<ConvertReport> {
  const { mapping } = options;
  const codec = options.codec ?? defaultCodec();
  const file = reader.file;
  const v = mapping.vehicle;
  const states = new Map<RosConnection, ConnState>();
  const usedTopics = new Map<string, string>(); // fusiond topic → the ROS topic that has it
  const rejected = new Map<string, TopicCount & { reason: string }>();
  const missing = new Map<string, { to: string; from: string; fields: Set<string> }>();
  let egoMotionFrom: string | undefined;
  let egoImuFrom: string | undefined;
  const scalarsFrom = new Set<string>();
  let messagesIn = 0;
  let messagesOut = 0;
  let stampFromReceive = 0;
  let startNs: bigint | undefined;
  let endNs: bigint | undefined;

  const write = (topic: string, type: string, message: Record<string, unknown>, receiveNs: bigint, stampNs: bigint, c: RosConnection): void => {
    let bytes: Uint8Array;
    try {
      // The converters build typed values field by field, so the codec's fromObject/verify pass (a third of
      // the CPU of converting a camera frame) is skipped; the reflected type encodes the plain object as it is.
      bytes = codec.type(type).encode(message).finish();
    } catch (err) {
      throw rosError("convert_failed", file, c, `the converted ${type} does not encode (${(err as Error).message})`);
    }
    if (!recorder.addMessage({ topic, type, bytes, receiveNs, stampNs })) {
      throw new FusiondError("write_failed", `${file}: the output recorder dropped a message (${recorder.stats().error ?? "write queue full"}); nothing was written`, { file });
    }
    messagesOut++;
    if (startNs === undefined || receiveNs < startNs) startNs = receiveNs;
    if (endNs === undefined || receiveNs > endNs) endNs = receiveNs;
  };
  const noteMissing = (to: string, from: string, fields: readonly string[]): void => {
    let m = missing.get(to);
    if (!m) missing.set(to, (m = { to, from, fields: new Set() }));
    for (const f of fields) m.fields.add(f);
  };
  const reject = (c: RosConnection, reason: string): void => {
    const key = `${c.topic}\0${reason}`;
    const r = rejected.get(key) ?? { topic: c.topic, type: c.type, count: 0, reason };
    r.count++;
    rejected.set(key, r);
  };

  const egoTopic = `vehicles/${v}/ego`;
  let egoConn: RosConnection | undefined;
  const merger = new EgoMerger(
    (e: EgoOut) => {
      if (!e.paired) noteMissing(egoTopic, egoMotionFrom ?? "?", ["accel_mps2"]);
      write(egoTopic, "fusiond.EgoState", e.message, e.receiveNs, e.stampNs, egoConn!);
    },
    { toleranceNs: 10_000_000n, windowNs: 200_000_000n, yawFromImu: false, scalarMaxAgeNs: 1_000_000_000n },
  );
  const mergerOptions = merger.options;

  const stateOf = (c: RosConnection): ConnState => {
    let s = states.get(c);
    if (s) return s;
    const r = resolveConnection(mapping, c);
    s = { explicit: false, count: 0, seq: 0 };
    if (!r.rule) s.reason = r.reason;
    else {
      s.rule = r.rule;
      s.explicit = r.explicit;
      const kind = r.rule.to;
      if (kind === "ego" && (INTEGER_TYPES as readonly string[]).includes(c.type)) {
        const field = r.rule.field ?? EGO_SCALAR_FIELDS.find((f) => c.topic.endsWith(f));
        if (!field) throw rosError("bad_mapping", file, c, "an integer topic mapped to: ego needs field: lane_index or lane_change");
        s.rule = { ...r.rule, field };
        s.to = egoTopic;
        scalarsFrom.add(field);
      } else if (kind === "ego") {
        const isImu = c.type === "sensor_msgs/Imu";
        const taken = isImu ? egoImuFrom : egoMotionFrom;
        if (taken !== undefined && taken !== c.topic) {
          s.rule = undefined;
          s.reason = `a second ${isImu ? "Imu" : "motion"} source for the ego state (${taken} is used); map one with to: skip`;
        } else if (isImu) {
          egoImuFrom = c.topic;
          mergerOptions.yawFromImu = r.rule.yawRate ?? false;
          if (r.rule.toleranceMs !== undefined) mergerOptions.toleranceNs = BigInt(Math.round(r.rule.toleranceMs * 1e6));
          s.to = egoTopic;
        } else {
          egoMotionFrom = c.topic;
          egoConn = c;
          s.to = egoTopic;
          noteMissing(egoTopic, c.type, (MISSING_BY_TYPE[c.type] ?? []).filter((f) => !f.startsWith("accel")));
        }
      } else {
        const id = r.rule.id ?? defaultSensorId(c.topic, kind);
        const folder = kind === "camera" && c.type === "sensor_msgs/Image" ? "camera_raw" : kind;
        let to = `vehicles/${v}/sensors/${folder}/${id}`;
        for (let n = 2; usedTopics.has(to) && usedTopics.get(to) !== c.topic; n++) to = `vehicles/${v}/sensors/${folder}/${id}_${n}`;
        usedTopics.set(to, c.topic);
        s.to = to;
        const known = MISSING_BY_TYPE[c.type];
        if (known) noteMissing(to, c.type, known);
      }
      if (s.rule) s.decode = decoderFor(file, c); // throws for an unknown definition or encoding
    }
    states.set(c, s);
    return s;
  };

  for await (const rec of reader.records()) {
    messagesIn++;
    const c = rec.connection;
    const s = stateOf(c);
    s.count++;
    if (!s.rule || !s.decode) continue;
    let m: Record<string, unknown>;
    try {
      m = s.decode(rec.data);
    } catch (err) {
      reject(c, `does not deserialize (${(err as Error).message})`);
      continue;
    }
    const { stampNs, fromHeader } = stampOf(m, s.rule, rec.receiveNs);
    if (!fromHeader && s.rule.stamp === "header" && m["header"] !== undefined) stampFromReceive++;
    if (s.rule.to === "ego") {
      if (s.rule.field) {
        const value = Number(m["data"]);
        if (Number.isFinite(value)) merger.scalar(s.rule.field, value, rec.receiveNs);
      } else if (c.type === "sensor_msgs/Imu") {
        const imu = imuOf(m);
        merger.imu({ stampNs, ...imu }, rec.receiveNs);
      } else {
        const mo = motionOf(c.type, m);
        const frameId = s.rule.frameId ?? String((m["header"] as Record<string, unknown> | undefined)?.["frame_id"] ?? "");
        merger.motion({ stampNs, receiveNs: rec.receiveNs, speed: mo.speed, yawRate: mo.yawRate, frameId });
      }
    } else {
      merger.expire(rec.receiveNs);
      let out: (ReturnType<typeof convertRadar>) | undefined;
      switch (s.rule.to) {
        case "camera": out = convertCamera(c.type, m, s.rule, stampNs); break;
        case "gnss": out = convertGnss(m, s.rule, stampNs); break;
        case "radar": out = convertRadar(c.type, m, s.rule, stampNs, typeof (m["header"] as Record<string, unknown> | undefined)?.["seq"] === "number" ? ((m["header"] as Record<string, number>)["seq"]!) : s.seq++); break;
        case "voice": out = convertVoice(c.type, m, s.rule, stampNs); break;
      }
      if (!out) continue;
      if (!out.ok) {
        reject(c, out.reason);
        continue;
      }
      if (out.missing?.length) noteMissing(s.to!, c.type, out.missing);
      const value: Converted = out.value;
      write(s.to!, value.type, value.message, rec.receiveNs, value.stampNs, c);
    }
    if ((messagesIn & 255) === 0) {
      options.onProgress?.(reader.position, reader.size, messagesOut);
      // Backpressure: the recorder drops rather than wait; a converter must wait instead.
      if (recorder.stats().queuedBytes > MAX_QUEUED) {
        await recorder.flush();
      }
    }
  }
  merger.end();
  options.onProgress?.(reader.size, reader.size, messagesOut);

  const mapped: MappedTopic[] = [];
  const unmapped: ConvertReport["unmapped"] = [];
  for (const [c, s] of states) {
    if (s.rule && s.to) mapped.push({ topic: c.topic, type: c.type, count: s.count, to: s.to, explicit: s.explicit });
    else unmapped.push({ topic: c.topic, type: c.type, count: s.count, reason: s.reason ?? "not mapped" });
  }
  mapped.sort((a, b) => a.topic.localeCompare(b.topic));
  unmapped.sort((a, b) => a.topic.localeCompare(b.topic));
  return {
    input: file,
    format: reader.format,
    bytesIn: reader.size,
    messagesIn,
    messagesOut,
    mapped,
    unmapped,
    rejected: [...rejected.values()],
    missing: [...missing.values()]
      .map((m) => ({ to: m.to, from: m.from, fields: [...m.fields].filter((f) => m.to !== egoTopic || !scalarsFrom.has(f)) }))
      .filter((m) => m.fields.length > 0)
      .sort((a, b) => a.to.localeCompare(b.to)),
    stampFromReceive,
    problems: [...reader.problems],
    ...(startNs !== undefined ? { startNs } : {}),
    ...(endNs !== undefined ? { endNs } : {}),
  };
}
