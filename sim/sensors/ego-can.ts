/** The ego's CAN bus: wheel speed (quantised to 0.01 m/s), yaw rate, steering angle and acceleration, with noise. */
import type { Rng } from "../rng.ts";
import type { World } from "../world/types.ts";

export interface CanSample {
  speed_mps: number;
  yaw_rate_rps: number;
  steering_rad: number;
  accel_mps2: number;
}

export function canSample(w: World, rng: Rng): CanSample {
  const e = w.ego;
  const speed = e.v > 0.02 ? Math.max(0, Math.round((e.v + rng.normal(0, 0.02)) * 100) / 100) : 0;
  return {
    speed_mps: speed,
    yaw_rate_rps: e.yawRate + rng.normal(0, 0.002),
    steering_rad: e.steering + rng.normal(0, 0.001),
    accel_mps2: e.a + rng.normal(0, 0.05),
  };
}
