/**
 * The ego's CAN bus: wheel speed (quantised to 0.01 m/s), yaw rate, steering angle and acceleration, with
 * noise; and from the lane-keeping controller, the lane it is in and the lane change it is executing.
 */
import type { Rng } from "../rng.ts";
import type { World } from "../world/types.ts";

export interface CanSample {
  speed_mps: number;
  yaw_rate_rps: number;
  steering_rad: number;
  accel_mps2: number;
  lane_index: number;
  lane_change: number;
}

export function canSample(w: World, rng: Rng): CanSample {
  const e = w.ego;
  const speed = e.v > 0.02 ? Math.max(0, Math.round((e.v + rng.normal(0, 0.02)) * 100) / 100) : 0;
  return {
    speed_mps: speed,
    yaw_rate_rps: e.yawRate + rng.normal(0, 0.002),
    steering_rad: e.steering + rng.normal(0, 0.001),
    accel_mps2: e.a + rng.normal(0, 0.05),
    lane_index: e.lane,
    lane_change: e.change ? Math.sign(e.change.toD - e.change.fromD) : 0,
  };
}
