/**
 * The ego vehicle's controller: turns the decision in force (a DrivingAction and a target speed) into
 * acceleration and lateral motion. Each action bounds the acceleration it may ask for; the target speed
 * (tracked with a 1 s time constant) chooses within those bounds. Acceleration changes are jerk-limited
 * like a real actuator.
 */
import { laneAt, laneCentre } from "../../domain/road-map.ts";
import { smooth } from "./agents.ts";
import type { DrivingAction, Ego, World } from "./types.ts";

/** Acceleration bounds [min, max] and the default when no target speed is given, per action, m/s². */
export const ACTION_ACCEL: Record<DrivingAction, { min: number; max: number; dflt: number }> = {
  KEEP: { min: -0.5, max: 0.5, dflt: 0 },
  ACCELERATE: { min: 0, max: 2.5, dflt: 1.5 },
  DECELERATE: { min: -4, max: 0, dflt: -2 },
  BRAKE_HARD: { min: -8, max: -4, dflt: -7 },
  LANE_LEFT: { min: -4, max: 2.5, dflt: 0 },
  LANE_RIGHT: { min: -4, max: 2.5, dflt: 0 },
  STOP: { min: -5, max: 0, dflt: -3 },
  PULL_OVER: { min: -4, max: 1.5, dflt: -1.5 },
};

/** Target-speed tracking time constant, s. */
export const TRACK_TAU_S = 1;
/** Lane-change duration, s. */
export const EGO_LANE_CHANGE_S = 3;
/** Lateral offset of the ego's centre when pulled over (on the shoulder, right of the road edge), m. */
export const SHOULDER_D = -0.6;
const MAX_JERK = 12;
const MAX_JERK_EMERGENCY = 40;

/** The acceleration the command asks for at speed v. */
export function commandedAccel(action: DrivingAction, targetSpeedMps: number, v: number): number {
  const b = ACTION_ACCEL[action];
  let a = Number.isFinite(targetSpeedMps) ? (Math.max(0, targetSpeedMps) - v) / TRACK_TAU_S : b.dflt;
  a = Math.min(b.max, Math.max(b.min, a));
  return a;
}

/** Plans the ego's acceleration and lane changes for this step (integration happens in moveEgo). */
export function planEgo(w: World): void {
  const e = w.ego;
  const { action, targetSpeedMps } = e.command;
  let a = commandedAccel(action, targetSpeedMps, e.v);
  // At standstill a stop-type command holds the brake.
  if (e.v < 0.05 && a <= 0) a = 0;
  const jerkCap = action === "BRAKE_HARD" ? MAX_JERK_EMERGENCY : MAX_JERK;
  const da = Math.max(-jerkCap * w.dtS, Math.min(jerkCap * w.dtS, a - e.a));
  e.jerk = da / w.dtS;
  e.a += da;

  const lane = e.lane;
  const wants = action === "LANE_LEFT" ? 1 : action === "LANE_RIGHT" ? -1 : action === "PULL_OVER" && lane > 0 ? -1 : 0;
  if (e.change) {
    // An opposite request during a change steers back to where it came from.
    const dir = Math.sign(e.change.toD - e.change.fromD);
    if (wants !== 0 && wants === -dir) {
      const back = e.change.fromD;
      e.change = { fromD: e.d, toD: back, elapsedS: 0, durationS: EGO_LANE_CHANGE_S / 2 };
    }
  } else if (wants !== 0) {
    const to = lane + wants;
    if (to >= 0 && to < w.map.laneCount) {
      e.change = { fromD: e.d, toD: laneCentre(w.map, to), elapsedS: 0, durationS: EGO_LANE_CHANGE_S };
      e.pulledOver = false;
    }
  }
}

/** Integrates the ego over one step. */
export function moveEgo(w: World): void {
  const e = w.ego;
  const dt = w.dtS;
  const v1 = Math.max(0, e.v + e.a * dt);
  if (v1 === 0 && e.a < 0) e.a = 0;
  e.s += ((e.v + v1) / 2) * dt;
  e.v = v1;
  const d0 = e.d;
  if (e.change) {
    e.change.elapsedS += dt;
    const x = e.change.elapsedS / e.change.durationS;
    e.d = e.change.fromD + (e.change.toD - e.change.fromD) * smooth(x);
    if (x >= 1) e.change = undefined;
  } else {
    // Braking never steers back into traffic: a car on its way to (or on) the shoulder stays on that course.
    const braking = e.command.action === "BRAKE_HARD" || e.command.action === "STOP";
    const shoulder = e.lane === 0 && (e.command.action === "PULL_OVER" || (braking && e.d < laneCentre(w.map, 0) - 0.3));
    const target = shoulder ? SHOULDER_D : laneCentre(w.map, laneAt(w.map, Math.max(0.01, e.d)) ?? e.lane);
    // Lane keeping: first order, 0.8 s (slower onto the shoulder).
    const k = shoulder ? dt / 2 : dt / 0.8;
    e.d += (target - e.d) * Math.min(1, k);
    e.pulledOver = shoulder && Math.abs(e.d - SHOULDER_D) < 0.2;
  }
  const vd = (e.d - d0) / dt;
  const heading = e.v > 0.5 ? Math.atan2(vd, e.v) : 0;
  e.yawRate = (heading - e.heading) / dt + curvatureYaw(w, e.v);
  e.heading = heading;
  e.steering = e.v > 0.5 ? Math.atan((2.8 * e.yawRate) / e.v) : 0;
  e.lane = laneAt(w.map, Math.max(0.01, e.d)) ?? e.lane;
}

/** Yaw rate from following the route's curvature at speed v, rad/s. */
function curvatureYaw(w: World, v: number): number {
  const r = w.map.route;
  const i = Math.min(r.length - 3, Math.max(0, Math.floor(w.ego.s / 20)));
  const a = r[i]!;
  const b = r[i + 1]!;
  const c = r[i + 2]!;
  let dh = Math.atan2(c.north - b.north, c.east - b.east) - Math.atan2(b.north - a.north, b.east - a.east);
  if (dh > Math.PI) dh -= 2 * Math.PI;
  if (dh < -Math.PI) dh += 2 * Math.PI;
  return (dh / 20) * v;
}
