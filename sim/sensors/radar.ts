/**
 * The forward radar: returns from vehicles and pedestrians with range/azimuth/Doppler noise, missed
 * detections (more for pedestrians, far targets and targets hidden behind a nearer one), stationary clutter
 * (its Doppler equals a stopped vehicle's, which is what makes stopped vehicles hard for radar) and tunnel
 * multipath ghosts. Fog, rain and night do not change detection; rain adds a little clutter.
 * Frame: x forward, y left, at the ego's front bumper.
 */
import { inTunnel, weatherAt } from "../../domain/road-map.ts";
import type { Rng } from "../rng.ts";
import type { World } from "../world/types.ts";

export interface RadarReturn {
  range_m: number;
  azimuth_rad: number;
  elevation_rad: number;
  radial_velocity_mps: number;
  rcs_dbsm: number;
}

export interface RadarSweep {
  returns: RadarReturn[];
  /** Ids of the world objects in the field of view, and of those detected (for recall tests). */
  visibleIds: number[];
  detectedIds: number[];
}

export const RADAR_FOV_RAD = 0.7;
export const RADAR_MAX_RANGE_M = 160;

interface Target {
  id: number;
  x: number;
  y: number;
  halfW: number;
  vx: number;
  vy: number;
  rcs: number;
  ped: boolean;
  r: number;
  az: number;
}

/** A target in the field of view, or undefined (plain loops, no spreads: this runs 20 times per simulated second). */
function inView(id: number, x: number, y: number, halfW: number, vx: number, vy: number, rcs: number, ped: boolean): Target | undefined {
  if (!(x > 0.5)) return undefined;
  const az = Math.atan2(y, x);
  if (!(Math.abs(az) < RADAR_FOV_RAD)) return undefined;
  const r = Math.hypot(x, y);
  if (!(r < (ped ? 60 : RADAR_MAX_RANGE_M))) return undefined;
  return { id, x, y, halfW, vx, vy, rcs, ped, r, az };
}

export function radarSweep(w: World, rng: Rng): RadarSweep {
  const e = w.ego;
  const ox = e.s + e.lengthM / 2;
  const visible: Target[] = [];
  for (const v of w.vehicles) {
    const vy = v.change ? (v.change.toD - v.change.fromD) / v.change.durationS : 0;
    const t = inView(v.id, v.s - v.lengthM / 2 - ox, v.d - e.d, v.widthM / 2, v.v, vy, v.lengthM > 7 ? 20 : 10, false);
    if (t) visible.push(t);
  }
  for (const p of w.pedestrians) {
    if (p.state !== "crossing") continue;
    const t = inView(p.id, p.s - ox, p.d - e.d, 0.3, 0, p.vd, -5, true);
    if (t) visible.push(t);
  }
  const evy = e.change ? (e.change.toD - e.change.fromD) / e.change.durationS : 0;
  visible.sort((a, b) => a.r - b.r); // stable: equal ranges keep vehicles-then-pedestrians order
  const returns: RadarReturn[] = [];
  const detectedIds: number[] = [];
  const visibleIds: number[] = [];
  // Angular shadows of nearer targets: [lo, hi] pairs.
  const shadows: number[] = [];
  for (const t of visible) {
    visibleIds.push(t.id);
    const half = Math.atan2(t.halfW, t.r);
    let occluded = false;
    for (let k = 0; k < shadows.length && !occluded; k += 2) occluded = t.az - half * 0.5 > shadows[k]! && t.az + half * 0.5 < shadows[k + 1]!;
    let pd = t.ped ? 0.6 : t.r < 100 ? 0.95 : 0.95 - (0.3 * (t.r - 100)) / 60;
    if (occluded) pd *= 0.3;
    shadows.push(t.az - half, t.az + half);
    if (!rng.chance(pd)) continue;
    detectedIds.push(t.id);
    const n = t.ped ? 1 : rng.chance(0.4) ? 2 : 1;
    for (let k = 0; k < n; k++) {
      const y = t.y + (n > 1 ? (k ? 1 : -1) * t.halfW * 0.6 : 0);
      const r = Math.hypot(t.x, y);
      const az = Math.atan2(y, t.x);
      const radial = ((t.vx - e.v) * t.x + (t.vy - evy) * y) / r;
      returns.push({
        range_m: r + rng.normal(0, 0.15 + 0.002 * r),
        azimuth_rad: az + rng.normal(0, 0.006),
        elevation_rad: rng.normal(0.02, 0.02),
        radial_velocity_mps: radial + rng.normal(0, 0.12),
        rcs_dbsm: t.rcs + rng.normal(0, 3),
      });
    }
  }
  // Clutter from guardrails, signs and the road: stationary reflectors.
  const tunnel = inTunnel(w.map, e.s);
  const rain = weatherAt(w.map, e.s).weather === "rain";
  const clutter = rng.poisson(tunnel ? 10 : rain ? 6 : 4);
  for (let k = 0; k < clutter; k++) {
    const r = rng.uniform(3, RADAR_MAX_RANGE_M);
    const az = rng.uniform(-RADAR_FOV_RAD, RADAR_FOV_RAD);
    returns.push({
      range_m: r,
      azimuth_rad: az,
      elevation_rad: rng.normal(0, 0.05),
      radial_velocity_mps: -e.v * Math.cos(az) + rng.normal(0, 0.3),
      rcs_dbsm: rng.normal(-8, 5),
    });
  }
  // Multipath ghosts off tunnel walls: a detected return seen again further away.
  if (tunnel && returns.length && rng.chance(0.5)) {
    const src = returns[rng.int(0, returns.length - 1)]!;
    returns.push({ ...src, range_m: src.range_m * rng.uniform(1.6, 2.1), rcs_dbsm: src.rcs_dbsm - 10 });
  }
  return { returns, visibleIds, detectedIds };
}
