/**
 * The message types of fusiond, by full protobuf name and by topic kind. The interfaces and enums are generated
 * from schemas/proto into schemas/generated (npm run generate:types; never edited by hand); this file only names
 * them and says which topic kind carries which.
 */
import type Long from "long";
import type { CompressedImage } from "./generated/foxglove/CompressedImage.ts";
import type { LocationFix, LocationFix_PositionCovarianceType } from "./generated/foxglove/LocationFix.ts";
import type { RawAudio } from "./generated/foxglove/RawAudio.ts";
import type { RawImage } from "./generated/foxglove/RawImage.ts";
import { DrivingAction, type DrivingDecision as DecodedDrivingDecision, OverrideReason } from "./generated/fusiond/driving_decision.ts";
import type { EgoState } from "./generated/fusiond/ego_state.ts";
import type { RadarScan } from "./generated/fusiond/radar_scan.ts";
import { type GroundTruth, type SimStep, TruthObject_Kind, Weather } from "./generated/fusiond/sim.ts";

export { DrivingAction, OverrideReason, TruthObject_Kind, Weather };
export type { Timestamp } from "./generated/google/protobuf/timestamp.ts";
export type { ActionProbability, FrameInput } from "./generated/fusiond/driving_decision.ts";
export type { RadarReturn } from "./generated/fusiond/radar_scan.ts";
export type { TruthObject, VoiceUtterance } from "./generated/fusiond/sim.ts";
export type { Color } from "./generated/foxglove/Color.ts";
export type { KeyValuePair } from "./generated/foxglove/KeyValuePair.ts";
export type { Vector3 } from "./generated/foxglove/Vector3.ts";

/**
 * A message as fusiond carries it in process: decoded by the codec (64-bit integers as Long, enums as numbers,
 * absent sub-messages and optionals as null), or built in process by the simulator or the aligner and not yet
 * encoded (64-bit integers as numbers, enums by name, absent optionals undefined). The codec encodes both forms
 * to the same bytes. Read stamps with timestampToNs and enums with enumValue, which accept either.
 */
export type Carried<T> = Shaped<T, "carried">;

/**
 * The three forms of a message (Carried, Built, Encodable) share their walk: arrays element by element, objects
 * field by field (every field optional for "encodable"), and each leaf (a 64-bit integer, an enum value, a null)
 * turned as the form says. Bytes are a leaf, not an object.
 */
type Form = "carried" | "built" | "encodable";
type Shaped<T, F extends Form> = T extends Long | Uint8Array | number | null
  ? Leaf<T, F>
  : T extends readonly (infer U)[]
    ? Shaped<U, F>[]
    : T extends object
      ? F extends "encodable"
        ? { [K in keyof T]?: Shaped<T[K], F> }
        : { [K in keyof T]: Shaped<T[K], F> }
      : T;

/** A 64-bit integer: Long decoded, a number built. An enum: its number or its name, only its name built. */
type Leaf<T, F extends Form> = T extends null
  ? F extends "built"
    ? never
    : T
  : T extends Long
    ? F extends "built"
      ? number
      : Long | number
    : T extends number
      ? -0.5 extends T // a plain number (an enum member would not take -0.5; `number` itself is assignable to numeric enums)
        ? T
        : F extends "built"
          ? Exclude<CarriedEnum<T>, number>
          : CarriedEnum<T>
      : T;

/** An enum value carried as its number or its name. */
type CarriedEnum<T> = T extends DrivingAction
  ? DrivingAction | keyof typeof DrivingAction
  : T extends OverrideReason
    ? OverrideReason | keyof typeof OverrideReason
    : T extends Weather
      ? Weather | keyof typeof Weather
      : T extends TruthObject_Kind
        ? TruthObject_Kind | keyof typeof TruthObject_Kind
        : T extends LocationFix_PositionCovarianceType
          ? LocationFix_PositionCovarianceType | keyof typeof LocationFix_PositionCovarianceType
          : T;

/**
 * A message as fusiond builds it for the codec: 64-bit integers as numbers, enums by name, sub-messages given
 * (no null), absent optionals undefined. What the decision engine makes; encode turns it into the same bytes
 * as the decoded form.
 */
export type Built<T> = Shaped<T, "built">;

/**
 * What the codec encodes for a type: any subset of its fields (an absent one is its proto3 default), each in
 * the decoded or the built form. What the simulator emits before it is encoded.
 */
export type Encodable<T> = Shaped<T, "encodable">;

/** fusiond.DrivingDecision as the generated interface (what decode returns). */
export type { DecodedDrivingDecision };

/** The wire types by full protobuf name, as ProtoCodec.decode returns them. */
export interface DecodedMessages {
  "foxglove.CompressedImage": CompressedImage;
  "foxglove.RawImage": RawImage;
  "foxglove.LocationFix": LocationFix;
  "foxglove.RawAudio": RawAudio;
  "fusiond.RadarScan": RadarScan;
  "fusiond.EgoState": EgoState;
  "fusiond.DrivingDecision": DecodedDrivingDecision;
  "fusiond.SimStep": SimStep;
  "fusiond.GroundTruth": GroundTruth;
}
export type MessageTypeName = keyof DecodedMessages;

/** What each topic kind of the registry may carry (full protobuf names); TopicSpec checks its `type` against it. */
export interface KindTypeNames {
  camera: "foxglove.CompressedImage" | "foxglove.RawImage";
  radar: "fusiond.RadarScan";
  gnss: "foxglove.LocationFix";
  voice: "foxglove.RawAudio";
  ego: "fusiond.EgoState";
  decision: "fusiond.DrivingDecision";
  sim_step: "fusiond.SimStep";
  sim_truth: "fusiond.GroundTruth";
}

/** The message a topic of kind K carries in process. */
export type KindMessage<K extends keyof KindTypeNames> = Carried<DecodedMessages[KindTypeNames[K]]>;

export type CameraMessage = KindMessage<"camera">;
export type CompressedImageMessage = Carried<CompressedImage>;
export type RawImageMessage = Carried<RawImage>;
export type RadarMessage = KindMessage<"radar">;
export type GnssMessage = KindMessage<"gnss">;
export type VoiceMessage = KindMessage<"voice">;
export type EgoMessage = KindMessage<"ego">;
export type DecisionMessage = KindMessage<"decision">;
export type SimStepMessage = KindMessage<"sim_step">;
export type TruthMessage = KindMessage<"sim_truth">;
/** fusiond.GroundTruth as decode returns it. */
export type GroundTruthMessage = GroundTruth;

/**
 * The numeric value of an enum field, whichever form it is carried in (a number, or a name from a message built
 * in process); undefined for a name the enum does not have.
 */
export function enumValue<E extends Record<string, string | number>>(e: E, v: number | string | null | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const n = e[v];
  return typeof n === "number" ? n : undefined;
}

/** The name of an enum field's value, whichever form it is carried in; undefined for an unknown value. */
export function enumName<E extends Record<string, string | number>>(e: E, v: number | string | null | undefined): keyof E & string | undefined {
  if (typeof v === "string") return typeof e[v] === "number" ? v : undefined;
  if (typeof v !== "number") return undefined;
  const name = (e as Record<number, string | undefined>)[v];
  return name;
}

/** A fusiond.DrivingAction by name, ACTION_UNSPECIFIED excluded: what a model predicts and the ego does. */
export type ActionName = Exclude<keyof typeof DrivingAction, "ACTION_UNSPECIFIED">;

/**
 * The action classes, in DrivingAction value order (class i is value i + 1): read from the proto's enum, so the
 * list is written down once, in schemas/proto/fusiond/driving_decision.proto.
 */
export const ACTION_NAMES: readonly ActionName[] = Object.values(DrivingAction)
  .filter((v): v is DrivingAction => typeof v === "number" && v !== DrivingAction.ACTION_UNSPECIFIED)
  .sort((a, b) => a - b)
  .map((v) => DrivingAction[v] as ActionName);
