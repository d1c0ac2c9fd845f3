/**
 * GNSS features: fix validity and quality (from the position covariance), a local metric frame,
 * and map context (distance to the next stop line, speed limit, tunnel) from an injected map view.
 * A slot whose fix has no position counts as not usable (masked), not as a fix at (0, 0).
 */
import type { GnssMessage } from "../../schemas/index.ts";
import { GNSS_AHEAD_FEATURES, GNSS_FEATURES } from "./config.ts";

/** What the features need from a road map (domain/road-map.ts provides one; tests use a stub). */
export interface MapView {
  /** Identity of the map (saved with the model card). */
  readonly id: string;
  /** Context at a WGS84 position, or undefined when the position is off the map. */
  contextAt(latitude: number, longitude: number): MapContext | undefined;
}

export interface MapContext {
  /** Distance along the road to the next stop line ahead, m; undefined when none ahead. */
  stopLineDistanceM: number | undefined;
  /** The map's id of that stop line, when the map names its lines (stop-line.ts tells lines apart by it). */
  stopLineId?: number | undefined;
  speedLimitMps: number;
  /**
   * The speed the map advises now: the limit, lowered ahead of a lower one and in fog and rain, as variable
   * speed limits are (domain/road-map.ts conditionsSpeedAt).
   */
  advisorySpeedMps?: number | undefined;
  inTunnel: boolean;
  /** Distance to the next crosswalk ahead, m; undefined when none ahead. */
  crosswalkDistanceM?: number | undefined;
  laneCount?: number | undefined;
  /** Lateral offset from the centre of the lane the fix is in, m (positive left), and that lane (0 = rightmost). */
  laneOffsetM?: number | undefined;
  lane?: number | undefined;
}

const EARTH_RADIUS_M = 6_378_137;

/** Equirectangular projection around an origin: east/north metres (exact enough over a few km). */
export function toLocalMetric(lat: number, lon: number, originLat: number, originLon: number): { east: number; north: number } {
  const rad = Math.PI / 180;
  return {
    east: (lon - originLon) * rad * EARTH_RADIUS_M * Math.cos(originLat * rad),
    north: (lat - originLat) * rad * EARTH_RADIUS_M,
  };
}

/** Horizontal standard deviation of a fix, m, from its covariance; undefined when unknown. */
export function horizontalStdM(msg: Partial<GnssMessage>): number | undefined {
  const cov = msg.position_covariance;
  const type = Number(msg.position_covariance_type ?? 0);
  if (!Array.isArray(cov) || cov.length < 9 || type === 0) return undefined;
  const v = (Number(cov[0]) + Number(cov[4])) / 2;
  return Number.isFinite(v) && v >= 0 ? Math.sqrt(v) : undefined;
}

/** A fix has a position when latitude/longitude are finite, in range, and not the null island (0, 0). */
export function hasPosition(msg: Partial<GnssMessage>): boolean {
  const lat = Number(msg.latitude);
  const lon = Number(msg.longitude);
  return Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0);
}

export interface GnssFeatures {
  present: boolean;
  values: Float32Array; // [GNSS_FEATURES]
  context: MapContext | undefined;
}

/** Fix quality in 0..1 from the horizontal std (1 m → ~0.85, 10 m → 0.48, 100 m → 0.0). */
export const fixQuality = (std: number | undefined): number =>
  std === undefined ? 0.5 : Math.max(0, Math.min(1, 1 - Math.log10(1 + std) / 2));

export function gnssFeatures(msg: Partial<GnssMessage> | undefined, map: MapView | undefined, ahead = false): GnssFeatures {
  const values = new Float32Array(GNSS_FEATURES + (ahead ? GNSS_AHEAD_FEATURES : 0));
  if (!msg || !hasPosition(msg)) return { present: false, values, context: undefined };
  const std = horizontalStdM(msg);
  // A fix whose error exceeds a lane is not trusted for map context (e.g. multipath at a tunnel mouth).
  const context = map && (std === undefined || std < 15) ? map.contextAt(Number(msg.latitude), Number(msg.longitude)) : undefined;
  const stop = context?.stopLineDistanceM;
  const stopAhead = stop !== undefined && stop >= 0;
  values.set([
    1,
    fixQuality(std),
    Math.log1p(std ?? 10) / 5,
    context ? 1 : 0,
    stopAhead ? 1 : 0,
    stopAhead ? Math.min(1, stop / 100) : 1,
    context ? context.speedLimitMps / 30 : 0,
    context?.inTunnel ? 1 : 0,
    context?.crosswalkDistanceM !== undefined ? Math.min(1, context.crosswalkDistanceM / 100) : 1,
    context?.laneCount !== undefined ? context.laneCount / 4 : 0,
    context?.laneOffsetM !== undefined ? Math.max(-1, Math.min(1, context.laneOffsetM / 2)) : 0,
    context?.lane !== undefined ? context.lane / 4 : 0,
  ]);
  if (ahead) values[GNSS_FEATURES] = context ? (context.advisorySpeedMps ?? context.speedLimitMps) / 30 : 0;
  return { present: true, values, context };
}
