/**
 * The road map: one route with its lanes, stop lines, speed-limit zones, tunnels, crosswalks and weather
 * segments, all placed by station (metres along the route). The simulator builds it; the pipeline and the
 * fusion read it (e.g. to find the next stop line from a GNSS fix).
 *
 * Coordinates. The route is a polyline in a local east/north plane (metres) around `origin`. A point on the
 * road is (station, lateral): station is the distance along the route from its start, lateral is the offset to
 * the left of the route's reference line. The reference line is the road's RIGHT edge, so lane i (counted from
 * the rightmost lane, 0) has its centre at lateral (i + 0.5) × laneWidthM and the road spans
 * [0, laneCount × laneWidthM]. WGS84 conversion uses an equirectangular projection about the origin, exact to
 * centimetres over the few kilometres of a route.
 */

export type MapWeather = "clear" | "rain" | "fog" | "night";

export interface GeoPoint {
  latitude: number;
  longitude: number;
  altitude: number;
}

/** A point of the local plane, metres east and north of the origin. */
export interface EnPoint {
  east: number;
  north: number;
}

/** A half-open interval of stations [startM, endM). */
export interface StationRange {
  startM: number;
  endM: number;
}

export interface StopLine {
  id: number;
  /** Station of the line, m. Vehicles must come to a full stop before it. */
  stationM: number;
}

export interface SpeedLimitZone extends StationRange {
  limitMps: number;
}

export interface Crosswalk {
  id: number;
  stationM: number;
  /** Length along the route, m. */
  widthM: number;
}

export interface WeatherSegment extends StationRange {
  weather: MapWeather;
  /** Meteorological visibility, m (fog: 25–60 m, rain: 120–250 m, clear and night: 10 km). */
  visibilityM: number;
}

export interface RoadMap {
  id: string;
  origin: GeoPoint;
  /** Route polyline, at least two points; station 0 is the first point. */
  route: EnPoint[];
  lengthM: number;
  laneCount: number;
  laneWidthM: number;
  stopLines: StopLine[];
  /** Covers the whole route, sorted, without gaps. */
  speedLimits: SpeedLimitZone[];
  tunnels: StationRange[];
  crosswalks: Crosswalk[];
  /** Covers the whole route, sorted, without gaps. */
  weather: WeatherSegment[];
}

const EARTH_RADIUS_M = 6_378_137;
const DEG = Math.PI / 180;

/** Cumulative stations of the route's vertices (memoised per route array). */
const stationCache = new WeakMap<EnPoint[], Float64Array>();
export function routeStations(route: EnPoint[]): Float64Array {
  let st = stationCache.get(route);
  if (!st) {
    st = new Float64Array(route.length);
    for (let i = 1; i < route.length; i++) {
      const a = route[i - 1]!;
      const b = route[i]!;
      st[i] = st[i - 1]! + Math.hypot(b.east - a.east, b.north - a.north);
    }
    stationCache.set(route, st);
  }
  return st;
}

/** Index of the segment holding a station (clamped to the route). */
function segmentAt(stations: Float64Array, s: number): number {
  let lo = 0;
  let hi = stations.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (stations[mid]! <= s) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(0, lo);
}

/** Route heading at a station, radians counter-clockwise from east. */
export function headingAt(map: RoadMap, stationM: number): number {
  const st = routeStations(map.route);
  const i = segmentAt(st, stationM);
  const a = map.route[i]!;
  const b = map.route[i + 1]!;
  return Math.atan2(b.north - a.north, b.east - a.east);
}

/** (station, lateral) → local east/north. Stations beyond the ends extend the end segments. */
export function toLocal(map: RoadMap, stationM: number, lateralM: number): EnPoint {
  const st = routeStations(map.route);
  const i = segmentAt(st, stationM);
  const a = map.route[i]!;
  const b = map.route[i + 1]!;
  const len = st[i + 1]! - st[i]! || 1;
  const ux = (b.east - a.east) / len;
  const uy = (b.north - a.north) / len;
  const t = stationM - st[i]!;
  // Left of the direction of travel is the unit vector rotated +90°.
  return { east: a.east + ux * t - uy * lateralM, north: a.north + uy * t + ux * lateralM };
}

/** Local east/north → (station, lateral) of the nearest route point. */
export function fromLocal(map: RoadMap, p: EnPoint): { stationM: number; lateralM: number } {
  const st = routeStations(map.route);
  let best = { d2: Infinity, stationM: 0, lateralM: 0 };
  for (let i = 0; i + 1 < map.route.length; i++) {
    const a = map.route[i]!;
    const b = map.route[i + 1]!;
    const len = st[i + 1]! - st[i]! || 1;
    const ux = (b.east - a.east) / len;
    const uy = (b.north - a.north) / len;
    const rx = p.east - a.east;
    const ry = p.north - a.north;
    const first = i === 0;
    const last = i + 2 === map.route.length;
    let t = rx * ux + ry * uy;
    if (!first) t = Math.max(0, t);
    if (!last) t = Math.min(len, t);
    const lat = -rx * uy + ry * ux;
    const dx = rx - ux * t;
    const dy = ry - uy * t;
    const d2 = dx * dx + dy * dy;
    if (d2 < best.d2) best = { d2, stationM: st[i]! + t, lateralM: lat };
  }
  return { stationM: best.stationM, lateralM: best.lateralM };
}

/** Local east/north → WGS84 (equirectangular about the origin). */
export function localToGeo(origin: GeoPoint, p: EnPoint, altitude = origin.altitude): GeoPoint {
  return {
    latitude: origin.latitude + p.north / EARTH_RADIUS_M / DEG,
    longitude: origin.longitude + p.east / (EARTH_RADIUS_M * Math.cos(origin.latitude * DEG)) / DEG,
    altitude,
  };
}

/** WGS84 → local east/north (inverse of localToGeo). */
export function geoToLocal(origin: GeoPoint, g: { latitude: number; longitude: number }): EnPoint {
  return {
    north: (g.latitude - origin.latitude) * DEG * EARTH_RADIUS_M,
    east: (g.longitude - origin.longitude) * DEG * EARTH_RADIUS_M * Math.cos(origin.latitude * DEG),
  };
}

/** (station, lateral) → WGS84. */
export function stationToGeo(map: RoadMap, stationM: number, lateralM: number): GeoPoint {
  return localToGeo(map.origin, toLocal(map, stationM, lateralM));
}

/** WGS84 → (station, lateral) on the route. */
export function geoToStation(map: RoadMap, g: { latitude: number; longitude: number }): { stationM: number; lateralM: number } {
  return fromLocal(map, geoToLocal(map.origin, g));
}

/** The lane holding a lateral offset, or undefined off the road. */
export function laneAt(map: RoadMap, lateralM: number): number | undefined {
  const i = Math.floor(lateralM / map.laneWidthM);
  return i >= 0 && i < map.laneCount ? i : undefined;
}

/** Centre lateral offset of a lane. */
export const laneCentre = (map: RoadMap, lane: number): number => (lane + 0.5) * map.laneWidthM;

const inRange = (r: StationRange, s: number): boolean => s >= r.startM && s < r.endM;

/** The speed limit at a station, m/s (the last zone's limit beyond the end). */
export function speedLimitAt(map: RoadMap, stationM: number): number {
  for (const z of map.speedLimits) if (inRange(z, stationM)) return z.limitMps;
  return map.speedLimits[map.speedLimits.length - 1]?.limitMps ?? 13.9;
}

/** A lower limit ahead is anticipated this far, m, braking at most this hard to reach it, m/s². */
export const LIMIT_LOOKAHEAD_M = 250;
export const LIMIT_DECEL_MPS2 = 1.5;

/**
 * The speed the map advises at a station: the limit there, lowered ahead of a lower limit so that it is
 * reached at the zone's start braking at LIMIT_DECEL_MPS2. What a driver with the map does (the simulator's
 * cruise speed) and what fusion's map context tells a model.
 */
export function advisorySpeedAt(map: RoadMap, stationM: number): number {
  let v = speedLimitAt(map, stationM);
  for (const z of map.speedLimits) {
    const d = z.startM - stationM;
    if (d > 0 && d < LIMIT_LOOKAHEAD_M && z.limitMps < v) v = Math.min(v, Math.sqrt(z.limitMps ** 2 + 2 * LIMIT_DECEL_MPS2 * d));
  }
  return v;
}

/**
 * The advisory speed in today's conditions: advisorySpeedAt, lowered in fog (to stop within the visibility)
 * and in rain — what a road operator's variable speed limits publish, and the speed a careful driver aims for
 * (the simulator's cruise speed). Fusion's map view reports it as the map context's advisory speed.
 */
export function conditionsSpeedAt(map: RoadMap, stationM: number): number {
  let v = advisorySpeedAt(map, stationM);
  const w = weatherAt(map, stationM);
  if (w.weather === "fog") v = Math.min(v, Math.max(6, w.visibilityM / 3));
  else if (w.weather === "rain") v = Math.min(v, 0.9 * speedLimitAt(map, stationM));
  return v;
}

export function weatherAt(map: RoadMap, stationM: number): WeatherSegment {
  for (const w of map.weather) if (inRange(w, stationM)) return w;
  return map.weather[map.weather.length - 1] ?? { startM: 0, endM: 1e9, weather: "clear", visibilityM: 10_000 };
}

export function inTunnel(map: RoadMap, stationM: number): boolean {
  return map.tunnels.some((t) => inRange(t, stationM));
}

/** The first stop line strictly ahead of a station (at most `horizonM` away), or undefined. */
export function nextStopLine(map: RoadMap, stationM: number, horizonM = Infinity): StopLine | undefined {
  let best: StopLine | undefined;
  for (const l of map.stopLines) {
    if (l.stationM > stationM && l.stationM - stationM <= horizonM && (!best || l.stationM < best.stationM)) best = l;
  }
  return best;
}
