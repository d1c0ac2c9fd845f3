/**
 * ROS messages → fusiond messages (plain objects with the proto field names), one function per source
 * type. Each says which fusiond fields the source type cannot carry: those are left unset (proto3
 * `optional` where the schema has presence), so they read as missing, never as a made-up zero.
 */
import { nsToTimestamp } from "../../schemas/index.ts";
import type { MappingRule } from "./mapping.ts";
import { rosTimeToNs } from "./types.ts";

type Msg = Record<string, unknown>;

/** A converted message; `kind` picks the fusiond topic (camera_raw for foxglove.RawImage). */
export interface Converted {
  kind: "camera" | "camera_raw" | "radar" | "gnss" | "voice";
  type: string;
  message: Msg;
  stampNs: bigint;
}

/** The outcome of converting one message: a message, or why it was rejected (counted and listed). */
export type Conversion = { ok: true; value: Converted } | { ok: false; reason: string };

/** Fields of the fusiond message that a source type never carries, for the report. */
export const MISSING_BY_TYPE: Record<string, readonly string[]> = {
  "nav_msgs/Odometry": ["steering_rad", "lane_index", "lane_change", "accel_mps2 (unless an Imu is mapped)"],
  "geometry_msgs/TwistStamped": ["steering_rad", "lane_index", "lane_change", "accel_mps2 (unless an Imu is mapped)"],
  "geometry_msgs/TwistWithCovarianceStamped": ["steering_rad", "lane_index", "lane_change", "accel_mps2 (unless an Imu is mapped)"],
  "sensor_msgs/NavSatFix": ["heading", "velocity"],
  "radar_msgs/RadarScan": ["seq (counted per topic instead)", "rcs_dbsm (amplitude is written there, in the sensor's units)"],
  "audio_common_msgs/AudioData": ["timestamp (no header: the receive time is used)", "sample_rate, number_of_channels, format (from the mapping: 16000, 1, pcm-s16 unless given)"],
};

const obj = (v: unknown): Msg => (v && typeof v === "object" ? (v as Msg) : {});
const num = (v: unknown): number => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : NaN);
const bytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : Array.isArray(v) ? Uint8Array.from(v as number[]) : new Uint8Array());

/** The event stamp of a message: header.stamp, or the receive time by rule (or when the header's is zero). */
export function stampOf(m: Msg, rule: MappingRule, receiveNs: bigint): { stampNs: bigint; fromHeader: boolean } {
  if (rule.stamp === "header") {
    const ns = rosTimeToNs(obj(m["header"])["stamp"]);
    if (ns !== undefined && ns > 0n) return { stampNs: ns, fromHeader: true };
  }
  return { stampNs: receiveNs, fromHeader: false };
}

const frameOf = (m: Msg, rule: MappingRule): string => rule.frameId ?? String(obj(m["header"])["frame_id"] ?? "");

export function convertCamera(type: string, m: Msg, rule: MappingRule, stampNs: bigint): Conversion {
  const timestamp = nsToTimestamp(stampNs);
  if (type === "sensor_msgs/CompressedImage") {
    const f = String(m["format"] ?? "").toLowerCase();
    const format = /jpe?g/.test(f) ? "jpeg" : /png/.test(f) ? "png" : undefined;
    if (!format) return { ok: false, reason: `CompressedImage format "${m["format"]}" (fusiond reads jpeg, png)` };
    return { ok: true, value: { kind: "camera", type: "foxglove.CompressedImage", stampNs, message: { timestamp, frame_id: frameOf(m, rule), data: bytes(m["data"]), format } } };
  }
  const encoding = String(m["encoding"] ?? "");
  if (!["rgb8", "bgr8", "mono8"].includes(encoding)) return { ok: false, reason: `Image encoding "${encoding}" (fusiond reads rgb8, bgr8, mono8)` };
  const width = num(m["width"]);
  const height = num(m["height"]);
  const step = num(m["step"]);
  const data = bytes(m["data"]);
  if (data.length < step * height) return { ok: false, reason: `Image data of ${data.length} bytes is shorter than step × height (${step} × ${height})` };
  return {
    ok: true,
    value: { kind: "camera_raw", type: "foxglove.RawImage", stampNs, message: { timestamp, frame_id: frameOf(m, rule), width, height, encoding, step, data } },
  };
}

/** ROS NavSatStatus.STATUS_NO_FIX. */
const NO_FIX = -1;

export function convertGnss(m: Msg, rule: MappingRule, stampNs: bigint): Conversion {
  const status = num(obj(m["status"])["status"]);
  const noFix = status === NO_FIX;
  const cov = m["position_covariance"];
  const covariance = noFix ? new Array<number>(9).fill(0) : Array.from((cov as ArrayLike<number>) ?? []).map(Number);
  const covType = num(m["position_covariance_type"]);
  return {
    ok: true,
    value: {
      kind: "gnss",
      type: "foxglove.LocationFix",
      stampNs,
      message: {
        timestamp: nsToTimestamp(stampNs),
        frame_id: frameOf(m, rule),
        // The simulator's (and fusiond's) no-fix convention: no position, covariance unknown.
        latitude: noFix ? NaN : num(m["latitude"]),
        longitude: noFix ? NaN : num(m["longitude"]),
        altitude: noFix ? NaN : num(m["altitude"]),
        position_covariance: covariance.length === 9 ? covariance : new Array<number>(9).fill(0),
        position_covariance_type: noFix || !(covType >= 0 && covType <= 3) ? 0 : covType,
        metadata: [
          { key: "fix", value: noFix ? "none" : "3d" },
          { key: "ros_status", value: String(status) },
        ],
      },
    },
  };
}

const POINT_FIELD_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 8 };

function fieldReader(view: DataView, datatype: number, little: boolean): ((at: number) => number) | undefined {
  switch (datatype) {
    case 1: return (at) => view.getInt8(at);
    case 2: return (at) => view.getUint8(at);
    case 3: return (at) => view.getInt16(at, little);
    case 4: return (at) => view.getUint16(at, little);
    case 5: return (at) => view.getInt32(at, little);
    case 6: return (at) => view.getUint32(at, little);
    case 7: return (at) => view.getFloat32(at, little);
    case 8: return (at) => view.getFloat64(at, little);
    default: return undefined;
  }
}

/** Which PointCloud2 fields a radar rule reads, and which of them the cloud lacks. */
export function radarFieldNames(rule: MappingRule): { x: string; y: string; z: string; velocity: string; rcs: string } {
  return { x: "x", y: "y", z: "z", velocity: "velocity", rcs: "rcs", ...rule.fields };
}

export function convertRadar(type: string, m: Msg, rule: MappingRule, stampNs: bigint, seq: number): Conversion & { missing?: string[] } {
  const base = { timestamp: nsToTimestamp(stampNs), frame_id: frameOf(m, rule) };
  if (type === "radar_msgs/RadarScan") {
    const returns = (m["returns"] as Msg[] | undefined ?? []).map((r) => ({
      range_m: num(r["range"]),
      azimuth_rad: num(r["azimuth"]),
      elevation_rad: num(r["elevation"]),
      radial_velocity_mps: num(r["doppler_velocity"]),
      rcs_dbsm: num(r["amplitude"]),
    }));
    return { ok: true, value: { kind: "radar", type: "fusiond.RadarScan", stampNs, message: { ...base, returns, seq } } };
  }
  const names = radarFieldNames(rule);
  const fields = new Map((m["fields"] as Msg[] | undefined ?? []).map((f) => [String(f["name"]), { offset: num(f["offset"]), datatype: num(f["datatype"]) }]));
  const data = bytes(m["data"]);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = !m["is_bigendian"];
  const pointStep = num(m["point_step"]);
  const rowStep = num(m["row_step"]);
  const width = num(m["width"]);
  const height = num(m["height"]);
  const read = (name: string): ((i: number, row: number) => number) | undefined => {
    const f = fields.get(name);
    if (!f) return undefined;
    const get = fieldReader(view, f.datatype, little);
    if (!get || f.offset + (POINT_FIELD_SIZE[f.datatype] ?? 99) > pointStep) return undefined;
    return (i, row) => get(row * rowStep + i * pointStep + f.offset);
  };
  const [x, y, z] = [read(names.x), read(names.y), read(names.z)];
  if (!x || !y || !z) return { ok: false, reason: `PointCloud2 without readable fields ${names.x}/${names.y}/${names.z} (has ${[...fields.keys()].join(", ")}; map them with fields:)` };
  if (height * rowStep > data.length || width * pointStep > rowStep) {
    return { ok: false, reason: `PointCloud2 data of ${data.length} bytes is shorter than its ${width} × ${height} points` };
  }
  const vel = read(names.velocity);
  const rcs = read(names.rcs);
  const returns: Msg[] = [];
  for (let row = 0; row < height; row++) {
    for (let i = 0; i < width; i++) {
      const px = x(i, row);
      const py = y(i, row);
      const pz = z(i, row);
      const ground = Math.hypot(px, py);
      const r: Msg = { range_m: Math.hypot(ground, pz), azimuth_rad: Math.atan2(py, px), elevation_rad: Math.atan2(pz, ground) };
      if (vel) r["radial_velocity_mps"] = vel(i, row);
      if (rcs) r["rcs_dbsm"] = rcs(i, row);
      returns.push(r);
    }
  }
  const missing = [...(vel ? [] : ["radial_velocity_mps"]), ...(rcs ? [] : ["rcs_dbsm"])];
  return { ok: true, value: { kind: "radar", type: "fusiond.RadarScan", stampNs, message: { ...base, returns, seq } }, missing };
}

export function convertVoice(type: string, m: Msg, rule: MappingRule, stampNs: bigint): Conversion {
  const data = bytes(type === "audio_common_msgs/AudioDataStamped" ? obj(m["audio"])["data"] : m["data"]);
  return {
    ok: true,
    value: {
      kind: "voice",
      type: "foxglove.RawAudio",
      stampNs,
      message: { timestamp: nsToTimestamp(stampNs), data, format: rule.format ?? "pcm-s16", sample_rate: rule.sampleRate ?? 16000, number_of_channels: rule.channels ?? 1 },
    },
  };
}

/** The motion an Odometry / Twist carries: forward speed and yaw rate. */
export function motionOf(type: string, m: Msg): { speed: number; yawRate: number } {
  const twist = type === "geometry_msgs/TwistStamped" ? obj(m["twist"]) : obj(obj(m["twist"])["twist"]);
  return { speed: num(obj(twist["linear"])["x"]), yawRate: num(obj(twist["angular"])["z"]) };
}

/** What an Imu carries for the ego state: longitudinal acceleration and yaw rate. */
export function imuOf(m: Msg): { accel: number; yawRate: number } {
  return { accel: num(obj(m["linear_acceleration"])["x"]), yawRate: num(obj(m["angular_velocity"])["z"]) };
}
