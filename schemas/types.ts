/**
 * The types every part of fusiond shares: what a source emits (SensorMessage) and what the
 * aligner gives the model (FusedFrame). Times are bigint nanoseconds.
 */
import type { Carried, DecodedMessages, KindMessage, KindTypeNames } from "./messages.ts";

/** The sensing modalities, in the fixed order models see them. */
export const MODALITIES = ["camera", "radar", "gnss", "ego", "voice"] as const;
export type Modality = (typeof MODALITIES)[number];

/** What a topic carries: a sensor modality, the decision, or simulator control/truth (schemas/messages.ts). */
export type TopicKind = keyof KindTypeNames;

/** The message a fused frame holds for each modality. */
export type ModalityMessage<M extends Modality = Modality> = KindMessage<M>;

/**
 * One decoded message from any source (MQTT, ZeroMQ, an MCAP file, the simulator), typed by its kind:
 * narrowing on `kind` (e.g. `m.kind === "radar"`) gives the message type (RadarScan).
 */
export type SensorMessage<K extends TopicKind = TopicKind> = { [P in K]: { [T in KindTypeNames[P]]: SensorMessageOf<P, T> }[KindTypeNames[P]] }[K];

/** Is it a sensor modality's message (camera, radar, GNSS, ego, voice), as opposed to a decision or simulator topic? */
export function isModalityMessage(m: SensorMessage): m is SensorMessage<Modality> {
  return (MODALITIES as readonly string[]).includes(m.kind);
}

/** One kind and type of SensorMessage; narrowing on `type` tells a camera's CompressedImage from its RawImage. */
export interface SensorMessageOf<K extends TopicKind, T extends KindTypeNames[K] = KindTypeNames[K]> {
  /** The concrete topic it arrived on, e.g. "vehicles/ego1/sensors/camera/front". */
  topic: string;
  /** Full protobuf type name, e.g. "foxglove.CompressedImage". */
  type: T;
  /** What the topic carries, from the topic registry. */
  kind: K;
  /** The decoded message (proto field names). */
  message: Carried<DecodedMessages[T]>;
  /** Event time: the message's own timestamp, ns. */
  stampNs: bigint;
  /** Receive time on the ingesting host (MCAP log_time), ns. */
  receiveNs: bigint;
  /** The raw protobuf bytes as received (what the recorder writes). */
  bytes: Uint8Array;
}

/** One modality's contribution to a fused frame. */
export interface FrameSlot<M extends ModalityMessage = ModalityMessage> {
  /** The message used (for interpolated GNSS/ego: the interpolated values, see `interpolated`). */
  message: M;
  /** Topic it came from. */
  topic: string;
  /** Event time of the message used (for interpolated values: the frame time). */
  stampNs: bigint;
  /** Frame time minus the source stamp, ns (0 for interpolated; positive = older than the frame). */
  ageNs: bigint;
  /** Receive time of the latest input this slot needed, ns. */
  receiveNs: bigint;
  /** Linear interpolation between two samples. */
  interpolated: boolean;
  /** Only one side existed: the nearest sample was held (within the max age). */
  held: boolean;
  /** Estimated at the frame time rather than sampled there: GNSS/ego extrapolated from the last two samples before it, or a radar scan moved to it along its returns' radial velocities. */
  extrapolated?: boolean;
  /**
   * The message(s) the slot was built from, by topic and event stamp: two for an interpolated value,
   * one otherwise. What a decision records as provenance, so that replay can rebuild the same frame.
   */
  inputs?: readonly SlotInput[];
}

/** One message a frame slot used, identified as a recording identifies it: topic and event stamp. */
export interface SlotInput {
  topic: string;
  stampNs: bigint;
}

/**
 * The model's input: one reading per modality at the reference (camera) stamp, plus which
 * modalities are present. A missing modality has `present[m] === false` and no slot; the
 * model never sees a half-built frame.
 */
export interface FusedFrame {
  /** Reference stamp (the camera exposure time), ns. */
  stampNs: bigint;
  /** Sequence number of frames from this aligner, from 0. */
  seq: number;
  slots: { [M in Modality]?: FrameSlot<ModalityMessage<M>> };
  present: Record<Modality, boolean>;
  /** Age of each present modality relative to stampNs, ns. */
  ageNs: Partial<Record<Modality, bigint>>;
  /**
   * With several cameras configured: every camera other than the reference (slots.camera), by topic in the
   * configured order — its frame nearest the reference stamp within the camera tolerance, or null when it is
   * missing or stale (masked: one camera failing masks only its slot). Absent with a single camera.
   */
  cameras?: Record<string, FrameSlot<ModalityMessage<"camera">> | null>;
  /** Receive time of the last input the frame needed, ns (start of frame-to-decision latency). */
  lastInputReceiveNs: bigint;
  /** Scheduler time at which the frame was emitted, ns. */
  emittedNs: bigint;
}

/** A frame with no modalities present; aligner implementations fill it. */
export function emptyPresence(): Record<Modality, boolean> {
  return { camera: false, radar: false, gnss: false, ego: false, voice: false };
}
