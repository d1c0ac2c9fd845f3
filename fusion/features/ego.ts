/** Ego features from fusiond.EgoState: speed, yaw rate, steering, acceleration, lane (when known). */
import type { DecodedMessage } from "../../schemas/index.ts";
import { EGO_FEATURES } from "./config.ts";

export interface EgoFeatures {
  present: boolean;
  values: Float32Array; // [EGO_FEATURES]
  speedMps: number | undefined;
}

const finite = (v: unknown): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

export function egoFeatures(msg: DecodedMessage | undefined): EgoFeatures {
  const values = new Float32Array(EGO_FEATURES);
  if (!msg) return { present: false, values, speedMps: undefined };
  const speed = finite(msg["speed_mps"]);
  const lane = msg["lane_index"];
  const laneKnown = typeof lane === "number" && Number.isFinite(lane);
  const clip = (v: number): number => Math.max(-3, Math.min(3, v));
  values.set([
    speed / 30,
    // Lane changes show as a few hundredths of a radian (per second): scaled up so the model sees them.
    clip(finite(msg["yaw_rate_rps"]) * 10),
    clip(finite(msg["steering_rad"]) * 20),
    clip(finite(msg["accel_mps2"]) / 5),
    laneKnown ? 1 : 0,
    laneKnown ? (lane as number) / 4 : 0,
    laneKnown && lane === 0 ? 1 : 0,
    (speed / 30) ** 2,
  ]);
  return { present: true, values, speedMps: speed };
}
