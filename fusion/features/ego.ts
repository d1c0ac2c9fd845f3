/**
 * Ego features from fusiond.EgoState: speed, yaw rate, steering, acceleration; with `maneuver` (feature
 * configs that have egoManeuver) also the lane (when known) and the lane change being executed, and no
 * acceleration (see below).
 */
import type { EgoMessage } from "../../schemas/index.ts";
import { EGO_FEATURES, EGO_MANEUVER_FEATURES, EGO_VS_MAP_FEATURES, STOP_STATE_FEATURES } from "./config.ts";
import type { MapContext } from "./gnss.ts";

export interface EgoFeatures {
  present: boolean;
  values: Float32Array; // [EGO_FEATURES]
  speedMps: number | undefined;
}

const finite = (v: unknown): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/**
 * `vsMap`: also the speed against the map's advisory speed (from the frame's GNSS map context; zeros with
 * the "known" flag 0 when there is none). The expert's cruise speed is set by that advisory speed; an MLP
 * given speed and advisory apart learnt the ACCELERATE/KEEP boundary between them poorly.
 */
export function egoFeatures(msg: Partial<EgoMessage> | undefined, maneuver = false, vsMap?: { map: MapContext | undefined }, keepAccel = false, stopState = false): EgoFeatures {
  const base = EGO_FEATURES + (maneuver ? EGO_MANEUVER_FEATURES : 0);
  // With `stopState`, STOP_STATE_FEATURES zeros at the end, which the stop-line tracker fills (stop-line.ts withStopState).
  const values = new Float32Array(base + (vsMap ? EGO_VS_MAP_FEATURES : 0) + (stopState ? STOP_STATE_FEATURES : 0));
  if (!msg) return { present: false, values, speedMps: undefined };
  const speed = finite(msg.speed_mps);
  const lane = msg.lane_index;
  // Models made before egoManeuver were trained with the lane unknown: they keep seeing it so.
  const laneKnown = maneuver && typeof lane === "number" && Number.isFinite(lane);
  const clip = (v: number): number => Math.max(-3, Math.min(3, v));
  values.set([
    speed / 30,
    // Lane changes show as a few hundredths of a radian (per second): scaled up so the model sees them.
    clip(finite(msg.yaw_rate_rps) * 10),
    clip(finite(msg.steering_rad) * 20),
    // The measured acceleration is the echo of the previous decision: a model that reads it learns "keep
    // doing what the car is doing" (the copycat problem of behaviour cloning) and, in closed loop, never
    // starts to accelerate from a KEEP. Models with the manoeuvre features do without it.
    maneuver && !keepAccel ? 0 : clip(finite(msg.accel_mps2) / 5),
    laneKnown ? 1 : 0,
    laneKnown ? (lane as number) / 4 : 0,
    laneKnown && lane === 0 ? 1 : 0,
    (speed / 30) ** 2,
  ]);
  if (maneuver) {
    const change = finite(msg.lane_change);
    values.set([change > 0 ? 1 : 0, change < 0 ? 1 : 0], EGO_FEATURES);
  }
  const advisory = vsMap?.map ? (vsMap.map.advisorySpeedMps ?? vsMap.map.speedLimitMps) : undefined;
  if (advisory !== undefined && advisory > 0) {
    values.set([1, Math.max(-3, Math.min(3, (advisory - speed) / 10)), Math.min(3, speed / advisory)], base);
  }
  return { present: true, values, speedMps: speed };
}
