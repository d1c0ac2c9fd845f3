/**
 * Scenarios: what an episode contains (weather, events, lanes, duration) and the seeded construction of its
 * road map and scripted events. Everything here is a pure function of the spec.
 */
import type { Crosswalk, EnPoint, MapWeather, RoadMap, SpeedLimitZone, StationRange, StopLine, WeatherSegment } from "../domain/road-map.ts";
import { Rng } from "./rng.ts";
import type { ScriptedEvent, VoiceCommand } from "./world/types.ts";

export const EVENT_KINDS = ["cut_in", "stopped_vehicle", "pedestrian", "stop_line", "speed_zone", "tunnel", "voice"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
export const WEATHERS: readonly MapWeather[] = ["clear", "rain", "fog", "night"];

export type Split = "train" | "validation" | "test";

export interface ScenarioSpec {
  name: string;
  split?: Split;
  seed: number;
  /** Time limit of the episode, s. The route is sized so that a good driver finishes within it. */
  durationS: number;
  /** 2–4; drawn from the seed when absent. */
  laneCount?: number;
  /** Weather segments along the route, in order. */
  weather: MapWeather[];
  events: EventKind[];
  /** Vehicles per km per lane (default 12). */
  density?: number;
}

export interface StoppedVehicleSpec {
  stationM: number;
  lane: number;
}

export interface BuiltScenario {
  spec: ScenarioSpec;
  map: RoadMap;
  events: ScriptedEvent[];
  stoppedVehicles: StoppedVehicleSpec[];
}

/** Average speed the route length is sized for, m/s. */
export const ROUTE_SPEED_MPS = 8;
const LIMITS = [16.7, 19.4, 22.2, 25];
const URBAN_LIMIT = 13.9;
/** The last zone's end (finite, so that maps survive JSON). */
const OPEN_END = 1e9;

/** A random scenario (dataset mode): all weather and event kinds are likely. */
export function randomScenario(seed: number, durationS: number, name = `random-${seed}`): ScenarioSpec {
  const rng = Rng.fork(seed, "scenario-spec");
  const weather = [...WEATHERS];
  for (let i = weather.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [weather[i], weather[j]] = [weather[j]!, weather[i]!];
  }
  const nWeather = Math.max(1, Math.min(4, Math.round(durationS / 45)));
  const events = EVENT_KINDS.filter(() => rng.chance(0.8));
  return { name, seed, durationS, weather: weather.slice(0, nWeather), events: events.length ? events : ["cut_in"] };
}

/** Builds the map and scripted events of a scenario. */
export function buildScenario(spec: ScenarioSpec): BuiltScenario {
  const rng = Rng.fork(spec.seed, "scenario");
  const has = (k: EventKind): boolean => spec.events.includes(k);
  const lengthM = Math.max(300, Math.round(spec.durationS * ROUTE_SPEED_MPS));
  const laneCount = spec.laneCount ?? rng.int(2, 4);
  const laneWidthM = 3.5;

  const route = makeRoute(rng, lengthM + 200);
  const tunnels: StationRange[] = [];
  if (has("tunnel")) {
    const n = Math.max(1, Math.round(lengthM / 1500));
    for (let i = 0; i < n; i++) {
      const len = rng.uniform(150, 350);
      const startM = place(rng, 200, lengthM - len - 100, [...tunnels], 150);
      if (startM !== undefined) tunnels.push({ startM, endM: startM + len });
    }
  }
  const blocked = (): StationRange[] => [...tunnels];
  const crosswalks: Crosswalk[] = [];
  if (has("pedestrian")) {
    const n = Math.max(1, Math.round(lengthM / 700));
    for (let i = 0; i < n; i++) {
      const s = place(rng, 250, lengthM - 60, [...blocked(), ...crosswalks.map((c) => around(c.stationM, 150))], 0);
      if (s !== undefined) crosswalks.push({ id: i + 1, stationM: s, widthM: 4 });
    }
  }
  const stopLines: StopLine[] = [];
  if (has("stop_line")) {
    const n = Math.max(1, Math.round(lengthM / 600));
    for (let i = 0; i < n; i++) {
      const taken = [...blocked(), ...crosswalks.map((c) => around(c.stationM, 120)), ...stopLines.map((l) => around(l.stationM, 150))];
      // Not right after a tunnel either: leave room to see it.
      const s = place(rng, 200, lengthM - 40, [...taken, ...tunnels.map((t) => ({ startM: t.startM - 40, endM: t.endM + 60 }))], 0);
      if (s !== undefined) stopLines.push({ id: i + 1, stationM: s });
    }
  }
  crosswalks.sort((a, b) => a.stationM - b.stationM);
  stopLines.sort((a, b) => a.stationM - b.stationM);

  const speedLimits = makeLimits(rng, lengthM + 200, has("speed_zone"), [
    ...crosswalks.map((c) => ({ startM: c.stationM - 200, endM: c.stationM + 30 })),
    ...stopLines.map((l) => ({ startM: l.stationM - 200, endM: l.stationM + 30 })),
  ]);
  const weather = makeWeather(rng, lengthM + 200, spec.weather.length ? spec.weather : ["clear"]);

  const map: RoadMap = {
    id: `${spec.name}#${spec.seed}`,
    origin: { latitude: 48.1 + rng.uniform(0, 0.1), longitude: 11.5 + rng.uniform(0, 0.1), altitude: 520 },
    route,
    lengthM,
    laneCount,
    laneWidthM,
    stopLines,
    speedLimits,
    tunnels,
    crosswalks,
    weather,
  };

  const events: ScriptedEvent[] = [];
  if (has("cut_in")) {
    const n = Math.max(1, Math.round(lengthM / 450));
    for (let i = 0; i < n; i++) {
      const triggerS = place(rng, 120, lengthM - 100, [...crosswalks.map((c) => around(c.stationM, 80)), ...stopLines.map((l) => around(l.stationM, 80))], 0);
      if (triggerS === undefined) continue;
      events.push({ kind: "cut_in", triggerS, fromLeft: rng.chance(0.5), gapM: rng.uniform(9, 18), dv: rng.uniform(-4, 0), fired: false });
    }
  }
  for (const c of crosswalks) {
    if (rng.chance(0.85)) {
      events.push({ kind: "pedestrian", crosswalkId: c.id, triggerDistM: rng.uniform(35, 70), fromRight: rng.chance(0.5), speedMps: rng.uniform(1.0, 1.7), fired: false });
    }
  }
  if (has("voice")) {
    const pool: VoiceCommand[] = ["slow down", "speed up", "change lane left", "change lane right", "stop", "pull over"];
    let t = rng.uniform(5, 12);
    while (t < spec.durationS - 12) {
      events.push({ kind: "voice", atS: t, command: rng.pick(pool), fired: false });
      t += rng.uniform(14, 26);
    }
  }
  const stoppedVehicles: StoppedVehicleSpec[] = [];
  if (has("stopped_vehicle")) {
    const n = Math.max(1, Math.round(lengthM / 800));
    for (let i = 0; i < n; i++) {
      const s = place(rng, 250, lengthM - 80, [...crosswalks.map((c) => around(c.stationM, 120)), ...stopLines.map((l) => around(l.stationM, 120)), ...stoppedVehicles.map((v) => around(v.stationM, 150))], 0);
      if (s !== undefined) stoppedVehicles.push({ stationM: s, lane: rng.int(0, laneCount - 1) });
    }
  }
  return { spec, map, events, stoppedVehicles };
}

const around = (s: number, r: number): StationRange => ({ startM: s - r, endM: s + r });

/** A station in [lo, hi] outside every taken range (with margin), or undefined after a few tries. */
function place(rng: Rng, lo: number, hi: number, taken: StationRange[], margin: number): number | undefined {
  if (hi <= lo) return undefined;
  for (let i = 0; i < 40; i++) {
    const s = rng.uniform(lo, hi);
    if (!taken.some((r) => s >= r.startM - margin && s <= r.endM + margin)) return s;
  }
  return undefined;
}

/** A gently curving polyline, one vertex every 20 m. */
function makeRoute(rng: Rng, lengthM: number): EnPoint[] {
  const pts: EnPoint[] = [{ east: 0, north: 0 }];
  let heading = rng.uniform(-Math.PI, Math.PI);
  let curvature = 0;
  let leftInSection = 0;
  for (let s = 20; s <= lengthM + 20; s += 20) {
    if (leftInSection <= 0) {
      curvature = rng.chance(0.5) ? 0 : rng.uniform(-1, 1) / rng.uniform(400, 1200);
      leftInSection = rng.uniform(150, 500);
    }
    heading += curvature * 20;
    leftInSection -= 20;
    const p = pts[pts.length - 1]!;
    pts.push({ east: p.east + 20 * Math.cos(heading), north: p.north + 20 * Math.sin(heading) });
  }
  return pts;
}

/** Speed-limit zones covering [0, lengthM): random sections, lowered to the urban limit near crossings. */
function makeLimits(rng: Rng, lengthM: number, varied: boolean, urban: StationRange[]): SpeedLimitZone[] {
  const bin = 10;
  const n = Math.ceil(lengthM / bin);
  const lim = new Float64Array(n);
  let base = varied ? rng.pick(LIMITS) : 19.4;
  let left = 0;
  for (let i = 0; i < n; i++) {
    if (varied && left <= 0) {
      base = rng.pick(LIMITS);
      left = rng.uniform(250, 600);
    }
    left -= bin;
    lim[i] = base;
  }
  for (const r of urban) for (let i = Math.max(0, Math.floor(r.startM / bin)); i < Math.min(n, Math.ceil(r.endM / bin)); i++) lim[i] = URBAN_LIMIT;
  const zones: SpeedLimitZone[] = [];
  for (let i = 0; i < n; i++) {
    const last = zones[zones.length - 1];
    if (last && last.limitMps === lim[i]) last.endM = (i + 1) * bin;
    else zones.push({ startM: i * bin, endM: (i + 1) * bin, limitMps: lim[i]! });
  }
  zones[zones.length - 1]!.endM = OPEN_END;
  return zones;
}

function makeWeather(rng: Rng, lengthM: number, kinds: MapWeather[]): WeatherSegment[] {
  const weights = kinds.map(() => rng.uniform(0.6, 1.4));
  const total = weights.reduce((a, b) => a + b, 0);
  const out: WeatherSegment[] = [];
  let s = 0;
  kinds.forEach((w, i) => {
    const len = (weights[i]! / total) * lengthM;
    const visibilityM = w === "fog" ? rng.uniform(25, 60) : w === "rain" ? rng.uniform(120, 250) : Infinity;
    out.push({ startM: s, endM: i === kinds.length - 1 ? OPEN_END : s + len, weather: w, visibilityM });
    s += len;
  });
  return out;
}
