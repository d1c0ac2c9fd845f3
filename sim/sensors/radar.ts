/**
 * The forward radar: returns from vehicles and pedestrians with range/azimuth/Doppler noise, missed
 * detections (more for pedestrians, far targets and targets hidden behind a nearer one), stationary clutter
 * (its Doppler equals a stopped vehicle's, which is what makes stopped vehicles hard for radar) and tunnel
 * multipath ghosts. Fog, rain and night do not change detection; rain adds a little clutter.
 * Frame: x forward, y left, at the ego's front bumper.
 */
import { inTunnel, weatherAt } from "../../schemas/map.ts";
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

export function radarSweep(w: World, rng: Rng): RadarSweep {
  const e = w.ego;
  const ox = e.s + e.lengthM / 2;
  const targets: { id: number; x: number; y: number; halfW: number; vx: number; vy: number; rcs: number; ped: boolean }[] = [];
  for (const v of w.vehicles) {
    const x = v.s - v.lengthM / 2 - ox;
    const vy = v.change ? (v.change.toD - v.change.fromD) / v.change.durationS : 0;
    targets.push({ id: v.id, x, y: v.d - e.d, halfW: v.widthM / 2, vx: v.v, vy, rcs: v.lengthM > 7 ? 20 : 10, ped: false });
  }
  for (const p of w.pedestrians) {
    if (p.state === "crossing") targets.push({ id: p.id, x: p.s - ox, y: p.d - e.d, halfW: 0.3, vx: 0, vy: p.vd, rcs: -5, ped: true });
  }
  const evy = e.change ? (e.change.toD - e.change.fromD) / e.change.durationS : 0;
  const visible = targets
    .map((t) => ({ ...t, r: Math.hypot(t.x, t.y), az: Math.atan2(t.y, t.x) }))
    .filter((t) => t.x > 0.5 && Math.abs(t.az) < RADAR_FOV_RAD && t.r < (t.ped ? 60 : RADAR_MAX_RANGE_M))
    .sort((a, b) => a.r - b.r);
  const returns: RadarReturn[] = [];
  const detectedIds: number[] = [];
  const shadows: { lo: number; hi: number }[] = [];
  for (const t of visible) {
    const half = Math.atan2(t.halfW, t.r);
    const occluded = shadows.some((s) => t.az - half * 0.5 > s.lo && t.az + half * 0.5 < s.hi);
    let pd = t.ped ? 0.6 : t.r < 100 ? 0.95 : 0.95 - (0.3 * (t.r - 100)) / 60;
    if (occluded) pd *= 0.3;
    shadows.push({ lo: t.az - half, hi: t.az + half });
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
  return { returns, visibleIds: visible.map((t) => t.id), detectedIds };
}
