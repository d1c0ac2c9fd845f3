/**
 * Radar features: the K nearest returns as a fixed-size set with a mask, plus a summary of the ego
 * lane (nearest range, time-to-collision). The same TTC function feeds the safety supervisor.
 * Sensor frame: x forward, y left; the ego lane is |y| < laneHalfWidthM.
 */
import type { RadarMessage } from "../../schemas/index.ts";
import { RADAR_POINT_FEATURES, RADAR_SUMMARY_FEATURES, type FeatureConfig } from "./config.ts";

export interface RadarPoint {
  x: number;
  y: number;
  range: number;
  vr: number;
  rcs: number;
}

const TTC_CAP_S = 10;

function num(v: unknown): number {
  const n = typeof v === "number" ? v : Number(v ?? 0);
  return Number.isFinite(n) ? n : NaN;
}

/** radarPoints per scan: a frame's features and the engine's TTC confirmation both read them (messages are not changed once made). */
const pointsOf = new WeakMap<object, readonly RadarPoint[]>();

/**
 * Returns of a fusiond.RadarScan in Cartesian form, nearest first; non-finite returns are dropped. Worked out
 * once per message object: the same (read-only) array for every call with it.
 */
export function radarPoints(msg: Partial<RadarMessage>): readonly RadarPoint[] {
  let pts = pointsOf.get(msg);
  if (!pts) pointsOf.set(msg, (pts = cartesian(msg)));
  return pts;
}

function cartesian(msg: Partial<RadarMessage>): RadarPoint[] {
  const returns = Array.isArray(msg.returns) ? msg.returns : [];
  const pts: RadarPoint[] = [];
  for (const r of returns) {
    const range = num(r.range_m);
    const az = num(r.azimuth_rad);
    const el = num(r.elevation_rad);
    const vr = num(r.radial_velocity_mps);
    const rcs = num(r.rcs_dbsm);
    if (![range, az, el, vr, rcs].every(Number.isFinite) || range < 0) continue;
    const ground = range * Math.cos(el);
    pts.push({ x: ground * Math.cos(az), y: ground * Math.sin(az), range, vr, rcs });
  }
  return pts.sort((a, b) => a.range - b.range);
}

/** Time to collision of one return, s: range over closing speed, for approaching returns ahead; else Infinity. */
export function ttcOf(p: RadarPoint): number {
  return p.x > 0 && p.vr < -0.1 ? p.range / -p.vr : Infinity;
}

/** Smallest TTC among ego-lane returns ahead, s (Infinity when none approaches). */
export function minLaneTtc(points: readonly RadarPoint[], laneHalfWidthM: number): number {
  let best = Infinity;
  for (const p of points) if (Math.abs(p.y) < laneHalfWidthM) best = Math.min(best, ttcOf(p));
  return best;
}

export interface RadarFeatures {
  present: boolean;
  points: Float32Array; // [K, RADAR_POINT_FEATURES]
  pointMask: Float32Array; // [K, 1]
  summary: Float32Array; // [RADAR_SUMMARY_FEATURES]
  /** Min ego-lane TTC, s; Infinity when none; undefined when radar is missing. */
  minTtcS: number | undefined;
}

export function radarFeatures(msg: Partial<RadarMessage> | undefined, cfg: FeatureConfig): RadarFeatures {
  const { maxReturns: k, laneHalfWidthM: half } = cfg.radar;
  const points = new Float32Array(k * RADAR_POINT_FEATURES);
  const pointMask = new Float32Array(k);
  const summary = new Float32Array(RADAR_SUMMARY_FEATURES);
  if (!msg) return { present: false, points, pointMask, summary, minTtcS: undefined };
  const pts = radarPoints(msg);
  const clip = (v: number): number => Math.max(-3, Math.min(3, v));
  for (let i = 0; i < Math.min(k, pts.length); i++) {
    const p = pts[i]!;
    const inLane = Math.abs(p.y) < half ? 1 : 0;
    const ttc = ttcOf(p);
    const o = i * RADAR_POINT_FEATURES;
    points[o] = clip(p.x / 100);
    points[o + 1] = clip(p.y / 10);
    points[o + 2] = clip(p.range / 100);
    points[o + 3] = clip(p.vr / 30);
    points[o + 4] = clip(p.rcs / 30);
    points[o + 5] = clip(inLane);
    points[o + 6] = clip(Math.max(0, -p.vr) / 30);
    points[o + 7] = clip(Math.min(ttc, TTC_CAP_S) / TTC_CAP_S);
    pointMask[i] = 1;
  }
  const lane = pts.filter((p) => Math.abs(p.y) < half && p.x > 0);
  const nearest = lane[0];
  const minTtcS = minLaneTtc(pts, half);
  const occupied = (lo: number, hi: number): number => (pts.some((p) => p.y > lo && p.y < hi && p.x > -10 && p.x < 30) ? 1 : 0);
  summary.set([
    Math.min(1, pts.length / k),
    nearest ? Math.min(1, nearest.range / 100) : 1,
    Math.min(minTtcS, TTC_CAP_S) / TTC_CAP_S,
    // Clipped as the per-point features are: a closing speed of 1e300 m/s must not reach the model as Float32 Infinity.
    nearest ? Math.min(3, Math.max(0, -nearest.vr) / 30) : 0,
    lane.some((p) => p.range < 30) ? 1 : 0,
    occupied(half, 3 * half),
    occupied(-3 * half, -half),
    nearest ? 1 : 0,
  ]);
  return { present: true, points, pointMask, summary, minTtcS };
}
