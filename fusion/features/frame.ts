/**
 * FusedFrame → features: the one function both training and inference call, so the tensors a model
 * was trained on and the tensors it sees in the daemon cannot drift apart.
 */
import { MODALITIES, nsToSeconds, type CameraMessage, type FusedFrame, type Modality, type ModalityMessage } from "../../schemas/index.ts";
import { cameraFeatures, type CameraFeatures } from "./camera.ts";
import { cameraSlotFeatures } from "./cameras.ts";
import { DEFAULT_FEATURE_CONFIG, INPUT_MODALITY, PRESENCE_FEATURES, sizeOf, type FeatureConfig, type InputName, type InputSpec } from "./config.ts";
import { egoFeatures } from "./ego.ts";
import { gnssFeatures, type MapContext, type MapView } from "./gnss.ts";
import { INTENT_FEATURES } from "./intent.ts";
import { radarFeatures } from "./radar.ts";
import { withStopState } from "./stop-line.ts";
import { voiceFeatures } from "./voice.ts";

export interface FrameFeatures {
  /** Every input, flat per-sample Float32Array in the spec's shape. Missing modalities: zeros AND mask 0. */
  inputs: Record<InputName, Float32Array>;
  /** Usable modalities (present in the frame and decodable). */
  present: Record<Modality, boolean>;
  /** Age of each usable modality, s. */
  ageS: Partial<Record<Modality, number>>;
  /** Why a present slot was not usable, e.g. "camera: image decode failed: …". */
  problems: string[];
  /** Facts the policy and supervisor use (same computation as the features). */
  facts: { minTtcS: number | undefined; speedMps: number | undefined; map: MapContext | undefined };
}

export interface FeatureContext {
  config?: FeatureConfig;
  map?: MapView | undefined;
  /** The standing voice request (VoiceIntentTracker.features) at this frame; zeros (not tracking) without one. */
  intent?: Float32Array | undefined;
  /**
   * Whether the upcoming stop line was served (StopLineTracker.features, fed this frame and every one before it
   * in order); written into the ego input of configs with stopServed, zeros without one.
   */
  stopState?: Float32Array | undefined;
  /**
   * The camera slot's features computed already (CameraFeaturePool.extract on this frame's camera message,
   * with this config): used instead of decoding here. Same values as decoding here would give.
   */
  camera?: CameraFeatures | undefined;
  /** With several cameras (config.cameras): features of camera messages computed already, as `camera` is. */
  cameraOf?: ((message: CameraMessage) => CameraFeatures | undefined) | undefined;
}

export function extractFeatures(frame: FusedFrame, ctx: FeatureContext = {}): FrameFeatures {
  const cfg = ctx.config ?? DEFAULT_FEATURE_CONFIG;
  const msg = <M extends Modality>(m: M): ModalityMessage<M> | undefined => (frame.present[m] ? (frame.slots[m]?.message as ModalityMessage<M> | undefined) : undefined);
  // With config.cameras, every named camera has its own slot (cameras.ts); otherwise the reference camera's.
  const reference = msg("camera");
  const given = (m: CameraMessage): CameraFeatures | undefined => (m === reference && ctx.camera ? ctx.camera : ctx.cameraOf?.(m));
  const slots = cfg.cameras ? cameraSlotFeatures(frame, cfg.cameras, cfg, given) : undefined;
  const cam = slots ? { present: slots.present, patches: slots.patches } : (ctx.camera ?? cameraFeatures(reference, cfg));
  const radar = radarFeatures(msg("radar"), cfg);
  const gnss = gnssFeatures(msg("gnss"), ctx.map, cfg.mapAhead === true);
  const ego = egoFeatures(msg("ego"), cfg.egoManeuver === true, cfg.egoVsMap === true ? { map: gnss.context } : undefined, cfg.egoAccel === true, cfg.stopServed === true);
  if (ctx.stopState) withStopState(ego.values, ego.present, cfg, ctx.stopState);
  const voice = voiceFeatures(msg("voice"), cfg);
  const present: Record<Modality, boolean> = {
    camera: cam.present,
    radar: radar.present,
    gnss: gnss.present,
    ego: ego.present,
    voice: voice.present,
  };
  const problems: string[] = [];
  if ("problem" in cam && cam.problem) problems.push(`camera: ${cam.problem}`);
  if (slots) problems.push(...slots.problems);
  if (voice.problem) problems.push(`voice: ${voice.problem}`);
  if (frame.present.gnss && !gnss.present) problems.push("gnss: no position in fix");
  const presence = new Float32Array(PRESENCE_FEATURES);
  const ageS: Partial<Record<Modality, number>> = {};
  MODALITIES.forEach((m, i) => {
    if (!present[m]) return;
    const age = Math.max(0, nsToSeconds((m === "camera" ? slots?.ageNs : undefined) ?? frame.ageNs[m] ?? frame.slots[m]?.ageNs ?? 0n));
    ageS[m] = age;
    presence[i] = 1;
    presence[MODALITIES.length + i] = Math.min(1, age / (m === "voice" ? cfg.voiceMaxAgeS : cfg.maxAgeS));
  });
  return {
    inputs: {
      camera: cam.patches,
      camera_mask: slots?.mask ?? Float32Array.of(cam.present ? 1 : 0),
      radar_points: radar.points,
      radar_point_mask: radar.pointMask,
      radar_summary: radar.summary,
      gnss: gnss.values,
      ego: ego.values,
      voice: voice.values,
      intent: ctx.intent ?? new Float32Array(INTENT_FEATURES),
      presence,
    },
    present,
    ageS,
    problems,
    facts: { minTtcS: radar.minTtcS, speedMps: ego.speedMps, map: gnss.context },
  };
}

/**
 * Restricts features to what a model reads: the spec's inputs, with the presence (mask and age) of
 * modalities the model does not use zeroed. `presence` is a new array; the others are the feature arrays
 * themselves (runners read their inputs and never write them), so `features` is not modified.
 */
export function modelInputs(features: FrameFeatures, spec: InputSpec): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const input of spec.inputs) {
    const src = features.inputs[input.name];
    if (src.length !== sizeOf(input.shape)) throw new Error(`feature ${input.name} has ${src.length} values, spec says ${input.shape.join("×")}`);
    out[input.name] = input.name === "presence" ? src.slice() : src;
  }
  const presence = out["presence"];
  if (presence) {
    MODALITIES.forEach((m, i) => {
      if (!spec.modalities.includes(m)) presence[i] = presence[MODALITIES.length + i] = 0;
    });
  }
  return out;
}

/** Which modalities of the spec were usable in a frame (for the decision's provenance). */
export function usedModalities(features: FrameFeatures, spec: InputSpec): Modality[] {
  return spec.modalities.filter((m) => features.present[m]);
}

/** Stacks per-sample inputs into batch arrays [B × size] in spec order. */
export function stackInputs(rows: readonly Record<string, Float32Array>[], spec: InputSpec): { name: InputName; shape: number[]; data: Float32Array }[] {
  return spec.inputs.map((input) => {
    const size = sizeOf(input.shape);
    const data = new Float32Array(rows.length * size);
    rows.forEach((r, i) => data.set(r[input.name]!, i * size));
    return { name: input.name, shape: [rows.length, ...input.shape], data };
  });
}

export { INPUT_MODALITY };
