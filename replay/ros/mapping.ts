/**
 * The mapping from ROS topics to fusiond topics: a YAML file (validated with zod), or the defaults, which
 * recognise the common message types by type (and, for PointCloud2, by a topic name that says radar).
 *
 * ```yaml
 * vehicle: ego1                # {v} in the fusiond topics (default "ros")
 * defaults: true               # also map what the rules below do not name, by type (default true)
 * topics:
 *   - topic: /sensors/camera/front/image/compressed   # exact, or a glob with * (any characters)
 *     to: camera               # camera | radar | gnss | ego | voice | skip
 *     id: front                # sensor id: vehicles/{v}/sensors/camera/front
 *   - topic: /radar/points
 *     to: radar
 *     fields: { velocity: doppler, rcs: rcs_db }   # PointCloud2 field names, if not x/y/z/velocity/rcs
 * ```
 */
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { FusiondError } from "../../schemas/index.ts";
import type { RosConnection } from "./types.ts";

export const TARGETS = ["camera", "radar", "gnss", "ego", "voice", "skip"] as const;
export type Target = (typeof TARGETS)[number];

/** std_msgs integers: an ego field no standard ROS type carries (lane_index, lane_change), on a topic of its own. */
export const INTEGER_TYPES = ["std_msgs/Int8", "std_msgs/UInt8", "std_msgs/Int16", "std_msgs/UInt16", "std_msgs/Int32", "std_msgs/UInt32"] as const;
export const EGO_SCALAR_FIELDS = ["lane_index", "lane_change"] as const;

/** Which ROS types each target takes. */
export const TYPES_FOR: Record<Exclude<Target, "skip">, readonly string[]> = {
  camera: ["sensor_msgs/CompressedImage", "sensor_msgs/Image"],
  radar: ["sensor_msgs/PointCloud2", "radar_msgs/RadarScan"],
  gnss: ["sensor_msgs/NavSatFix"],
  ego: ["nav_msgs/Odometry", "geometry_msgs/TwistStamped", "geometry_msgs/TwistWithCovarianceStamped", "sensor_msgs/Imu", ...INTEGER_TYPES],
  voice: ["audio_common_msgs/AudioData", "audio_common_msgs/AudioDataStamped"],
};

const sensorId = z.string().regex(/^[A-Za-z0-9_.-]+$/, "a sensor id is letters, digits, '_', '.', '-'");

const Rule = z
  .object({
    topic: z.string().min(1),
    /** Only when the topic has this type (package/Name). */
    type: z.string().optional(),
    to: z.enum(TARGETS),
    id: sensorId.optional(),
    /** Event time: the message's header.stamp (default), or the receive time (for types without a header). */
    stamp: z.enum(["header", "receive"]).default("header"),
    /** frame_id written instead of the header's. */
    frameId: z.string().optional(),
    /** PointCloud2 field names (radar). */
    fields: z.object({ x: z.string(), y: z.string(), z: z.string(), velocity: z.string(), rcs: z.string() }).partial().strict().optional(),
    /** Audio (voice): what AudioData does not say. */
    sampleRate: z.number().int().positive().optional(),
    channels: z.number().int().positive().optional(),
    format: z.string().optional(),
    /** std_msgs integer (ego): which EgoState field it carries (default: from a topic name ending in lane_index / lane_change). */
    field: z.enum(EGO_SCALAR_FIELDS).optional(),
    /** Imu (ego): take the yaw rate from the Imu's angular_velocity.z instead of the Odometry/Twist. */
    yawRate: z.boolean().optional(),
    /** Imu (ego): pair an Imu sample with an Odometry/Twist sample when their stamps are this close, ms (default 10). */
    toleranceMs: z.number().nonnegative().optional(),
  })
  .strict();
export type MappingRule = z.infer<typeof Rule>;

const MappingFile = z
  .object({
    vehicle: z.string().regex(/^[A-Za-z0-9_.-]+$/, "a vehicle id is letters, digits, '_', '.', '-'").default("ros"),
    defaults: z.boolean().default(true),
    topics: z.array(Rule).default([]),
  })
  .strict();
export type RosMapping = z.infer<typeof MappingFile>;

/** The mapping used without a file: every common type by its type, vehicle "ros". */
export const DEFAULT_MAPPING: RosMapping = { vehicle: "ros", defaults: true, topics: [] };

/** Parses and validates a mapping (YAML or JSON text); `name` is the file, for the error. */
export function parseMapping(text: string, name: string): RosMapping {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new FusiondError("bad_mapping", `${name}: not YAML: ${(err as Error).message}`, { file: name });
  }
  const r = MappingFile.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ");
    throw new FusiondError("bad_mapping", `${name}: ${issues} (see docs/ros.md for the mapping format)`, { file: name });
  }
  for (const [i, rule] of r.data.topics.entries()) {
    if (rule.to === "skip" || !rule.type) continue;
    if (!TYPES_FOR[rule.to].includes(rule.type)) {
      throw new FusiondError("bad_mapping", `${name}: topics.${i}: to: ${rule.to} takes ${TYPES_FOR[rule.to].join(", ")}, not ${rule.type}`, { file: name });
    }
  }
  return r.data;
}

const globRe = (glob: string): RegExp => new RegExp("^" + glob.split("*").map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");

/** What became of a connection: a target with its rule, or why it is not mapped. */
export type Resolution = { rule: MappingRule; explicit: boolean } | { rule?: undefined; reason: string };

/** The rule for a connection: the first explicit rule that matches, else (with defaults) one by type. */
export function resolveConnection(mapping: RosMapping, c: Pick<RosConnection, "topic" | "type">): Resolution {
  for (const rule of mapping.topics) {
    if (!globRe(rule.topic).test(c.topic)) continue;
    if (rule.type && rule.type !== c.type) continue;
    if (rule.to === "skip") return { reason: "skipped by the mapping" };
    if (!TYPES_FOR[rule.to].includes(c.type)) {
      throw new FusiondError("bad_mapping", `topic ${c.topic} has type ${c.type}; to: ${rule.to} takes ${TYPES_FOR[rule.to].join(", ")}`, { topic: c.topic });
    }
    return { rule, explicit: true };
  }
  if (!mapping.defaults) return { reason: "no rule in the mapping names it" };
  const byType = (Object.keys(TYPES_FOR) as (keyof typeof TYPES_FOR)[]).find((t) => TYPES_FOR[t].includes(c.type));
  if (!byType) return { reason: "no fusiond stream takes this type" };
  if ((INTEGER_TYPES as readonly string[]).includes(c.type)) {
    const field = EGO_SCALAR_FIELDS.find((f) => c.topic.endsWith(f));
    if (!field) return { reason: "an integer whose topic does not end in lane_index or lane_change; map it with to: ego, field: ..." };
    return { rule: Rule.parse({ topic: c.topic, to: "ego", field, stamp: "receive" }), explicit: false };
  }
  if (c.type === "sensor_msgs/PointCloud2" && !/radar/i.test(c.topic)) {
    return { reason: "a PointCloud2 whose topic does not say radar (lidar?); map it with to: radar" };
  }
  return { rule: Rule.parse({ topic: c.topic, to: byType }), explicit: false };
}

const GENERIC = new Set(["image", "image_raw", "image_color", "image_rect", "image_rect_color", "compressed", "points", "pointcloud", "fix", "data", "scan", "raw", "sensors", "sensor", "msg"]);

/** A sensor id from a topic name: `/camera/front/image_raw/compressed` → `front`; "0" when nothing is left. */
export function defaultSensorId(topic: string, target: string): string {
  const parts = topic
    .split("/")
    .filter(Boolean)
    .filter((p) => !GENERIC.has(p.toLowerCase()) && p.toLowerCase() !== target && !(target === "gnss" && /^(gps|gnss|navsat)$/i.test(p)));
  const id = parts.join("_").replace(/[^A-Za-z0-9_.-]/g, "_");
  return id || "0";
}
