/**
 * The topic registry: topic → message type, nominal rate, QoS, payload bound and stamp field. What is
 * recorded is the daemon config's `recording.topics` (default: every accepted topic and the decisions).
 * Liveness and rate checks (pipeline/health) are derived from it, as in openpilot's services.py.
 */
import { FusiondError } from "./errors.ts";
import type { KindMessage, KindTypeNames } from "./messages.ts";
import type { TopicKind } from "./types.ts";

export type QoS = 0 | 1 | 2;

/** A registry entry; its `type` and `stampField` are checked against its kind at compile time (schemas/messages.ts). */
export type TopicSpec<K extends TopicKind = TopicKind> = { [P in K]: TopicSpecOf<P> }[K];

export interface TopicSpecOf<K extends TopicKind> {
  /** Template with `{v}` (vehicle id) and optionally `{id}` (sensor id), e.g. "vehicles/{v}/sensors/camera/{id}". */
  template: string;
  kind: K;
  /** Full protobuf type name. */
  type: KindTypeNames[K];
  /** Nominal rate, Hz; null for sporadic topics (voice, decisions on demand). */
  rateHz: number | null;
  qos: QoS;
  /** Largest accepted payload, bytes. */
  maxBytes: number;
  /** Field holding the event stamp (a google.protobuf.Timestamp). */
  stampField: keyof KindMessage<K> & string;
}

const MiB = 1024 * 1024;

/** The default layout of docs/architecture.md §2. */
export const DEFAULT_TOPICS: readonly TopicSpec[] = [
  { template: "vehicles/{v}/sensors/camera/{id}", kind: "camera", type: "foxglove.CompressedImage", rateHz: 20, qos: 0, maxBytes: 8 * MiB, stampField: "timestamp" },
  { template: "vehicles/{v}/sensors/camera_raw/{id}", kind: "camera", type: "foxglove.RawImage", rateHz: 20, qos: 0, maxBytes: 32 * MiB, stampField: "timestamp" },
  { template: "vehicles/{v}/sensors/radar/{id}", kind: "radar", type: "fusiond.RadarScan", rateHz: 20, qos: 0, maxBytes: 1 * MiB, stampField: "timestamp" },
  { template: "vehicles/{v}/sensors/gnss/{id}", kind: "gnss", type: "foxglove.LocationFix", rateHz: 10, qos: 0, maxBytes: 64 * 1024, stampField: "timestamp" },
  { template: "vehicles/{v}/sensors/voice/{id}", kind: "voice", type: "foxglove.RawAudio", rateHz: null, qos: 1, maxBytes: 4 * MiB, stampField: "timestamp" },
  { template: "vehicles/{v}/ego", kind: "ego", type: "fusiond.EgoState", rateHz: 50, qos: 0, maxBytes: 64 * 1024, stampField: "timestamp" },
  { template: "vehicles/{v}/decision", kind: "decision", type: "fusiond.DrivingDecision", rateHz: 20, qos: 1, maxBytes: 64 * 1024, stampField: "frame_stamp" },
  { template: "vehicles/{v}/sim/step", kind: "sim_step", type: "fusiond.SimStep", rateHz: null, qos: 1, maxBytes: 64 * 1024, stampField: "stamp" },
  { template: "vehicles/{v}/sim/truth", kind: "sim_truth", type: "fusiond.GroundTruth", rateHz: null, qos: 1, maxBytes: 1 * MiB, stampField: "stamp" },
];

/** A registry entry bound to a vehicle: the concrete patterns to subscribe to and to match. */
export type BoundTopic = TopicSpec & {
  /** MQTT-style subscription pattern (`{id}` → `+`), e.g. "vehicles/ego1/sensors/camera/+". */
  pattern: string;
};

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Does an MQTT topic match an MQTT pattern with `+` and `#` wildcards? */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split("/");
  const t = topic.split("/");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "#") return i === p.length - 1;
    if (i >= t.length) return false;
    if (p[i] !== "+" && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

export class TopicRegistry {
  readonly topics: readonly BoundTopic[];
  private readonly matchers: { re: RegExp; topic: BoundTopic }[];
  private readonly cache = new Map<string, BoundTopic | null>();

  /** @param vehicle vehicle id substituted for `{v}`; `+` matches any vehicle. */
  constructor(readonly vehicle: string = "+", specs: readonly TopicSpec[] = DEFAULT_TOPICS) {
    if (vehicle.includes("/") || vehicle.includes("#")) {
      throw new FusiondError("bad_vehicle_id", `vehicle id "${vehicle}" must not contain "/" or "#"`, { vehicle });
    }
    this.topics = specs.map((s) => ({ ...s, pattern: s.template.replace("{v}", vehicle).replace("{id}", "+") }));
    this.matchers = this.topics.map((topic) => ({
      topic,
      re: new RegExp(
        "^" +
          topic.template
            .split(/(\{v\}|\{id\})/)
            .map((part) => (part === "{id}" ? "[^/]+" : part === "{v}" ? (vehicle === "+" ? "[^/]+" : escapeRe(vehicle)) : escapeRe(part)))
            .join("") +
          "$",
      ),
    }));
  }

  /** The registry entry for a concrete topic, or undefined for an unknown topic (memoised). */
  lookup(topic: string): BoundTopic | undefined {
    let hit = this.cache.get(topic);
    if (hit === undefined) {
      hit = this.matchers.find((m) => m.re.test(topic))?.topic ?? null;
      if (this.cache.size < 10_000) this.cache.set(topic, hit);
    }
    return hit ?? undefined;
  }

  /** Entries whose topics can match an MQTT pattern (for choosing what to subscribe to). */
  matching(pattern: string): BoundTopic[] {
    return this.topics.filter((t) => patternsOverlap(pattern, t.pattern));
  }

  /** The concrete topic for a kind and sensor id on this registry's vehicle, e.g. ("camera","front"). */
  topicFor(kind: TopicSpec["kind"], id = "0", vehicle = this.vehicle): string {
    if (vehicle === "+") throw new FusiondError("no_vehicle", "topicFor needs a concrete vehicle id", { kind });
    const spec = this.topics.find((t) => t.kind === kind && !t.template.includes("camera_raw"));
    if (!spec) throw new FusiondError("unknown_kind", `no topic of kind ${kind} in the registry`, { kind });
    return spec.template.replace("{v}", vehicle).replace("{id}", id);
  }
}

/** Could some topic match both patterns? */
export function patternsOverlap(a: string, b: string): boolean {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; ; i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === "#" || y === "#") return true;
    if (x === undefined || y === undefined) return x === y;
    if (x !== "+" && y !== "+" && x !== y) return false;
  }
}
