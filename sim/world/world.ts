/**
 * The world step: world(t) → world(t + dt). Deterministic: the only randomness is the world's own seeded
 * Rng, so the same scenario and the same ego commands give the same world, step for step. For speed the
 * step updates the state in place and returns it; cloneWorld gives an independent copy when one is needed.
 */
import { applyVoiceCommand, lapseVoiceRequest, LANE_REQUEST_S, EXPERT_MARGIN_MPS } from "../../domain/voice-intent.ts";
import { laneCentre } from "../../domain/road-map.ts";
import { Rng } from "../rng.ts";
import { buildScenario, type BuiltScenario, type ScenarioSpec } from "../scenario.ts";
import { bodies, egoBody, laneCorridor, nearest, overlaps } from "./agents.ts";
import { moveEgo, planEgo } from "./ego.ts";
import { STANDSTILL_MPS, STOP_ZONE_M, stopLineGap } from "./rules.ts";
import { maintainTraffic, moveTraffic, newVehicle, planTraffic, startChange } from "./traffic.ts";
import type { EgoCommand, Utterance, VoiceCommand, World } from "./types.ts";

export interface WorldOptions {
  /** Physics step, s (default 0.01). */
  dtS?: number;
  /** Speech length of each voice clip, by command, s (from the clip catalog). */
  clipSpeechS?: Partial<Record<VoiceCommand, number[]>>;
}

/** Noise-only lead-in and tail of every voice message, s. */
export const VOICE_LEAD_S = 0.4;
export const VOICE_TAIL_S = 0.3;
/** A lane-change request lapses after this long, s (domain/voice-intent.ts). */
export { LANE_REQUEST_S, EXPERT_MARGIN_MPS } from "../../domain/voice-intent.ts";
/** A passenger waits this long for a pull-over the traffic does not allow, then says "continue", s. */
export const PULL_OVER_PATIENCE_S = 45;

export function createWorld(spec: ScenarioSpec | BuiltScenario, options: WorldOptions = {}): World {
  const built = "map" in spec ? spec : buildScenario(spec);
  const rng = Rng.fork(built.spec.seed, "world");
  const map = built.map;
  const lane = rng.int(0, map.laneCount - 1);
  const v0 = rng.uniform(6, 12);
  const w: World = {
    map,
    seed: built.spec.seed,
    episodeId: `${built.spec.name}-${built.spec.seed}`,
    t: 0,
    tick: 0,
    dtS: options.dtS ?? 0.01,
    durationS: built.spec.durationS,
    ego: {
      s: 20,
      d: laneCentre(map, lane),
      v: v0,
      a: 0,
      jerk: 0,
      lengthM: 4.6,
      widthM: 1.85,
      lane,
      change: undefined,
      heading: 0,
      yawRate: 0,
      steering: 0,
      pulledOver: false,
      command: { action: "KEEP", targetSpeedMps: v0 },
    },
    vehicles: [],
    pedestrians: [],
    events: built.events.map((e) => ({ ...e })),
    utterances: [],
    voice: { last: undefined, heardAtS: -Infinity, speedOffsetMps: 0, hold: "none", heldS: 0, holdForS: 0, holdSinceS: 0, laneRequest: 0, laneRequestUntilS: 0 },
    clipSpeechS: options.clipSpeechS ?? {},
    nextId: 1,
    densityPerKmLane: built.spec.density ?? 12,
    rng,
    egoStoppedAt: new Set(),
    collision: false,
    collidedWith: [],
    done: false,
  };
  for (const sv of built.stoppedVehicles) w.vehicles.push(newVehicle(w, sv.stationM, sv.lane, 0, true));
  // Initial traffic: spaced along each lane, clear of the ego.
  const spacing = 1000 / w.densityPerKmLane;
  for (let l = 0; l < map.laneCount; l++) {
    for (let s = -100 + rng.uniform(0, spacing); s < 260; s += spacing * rng.uniform(0.6, 1.4)) {
      if (Math.abs(s - w.ego.s) < (l === lane ? 25 : 12)) continue;
      const veh = newVehicle(w, s, l, 0);
      veh.v = Math.min(v0 + rng.uniform(-2, 3), 0.95 * 19.4);
      for (const line of map.stopLines) if (line.stationM < s + 10) veh.clearedStopLines.add(line.id);
      if (!w.vehicles.some((o) => overlaps(o, veh) || (o.lane === l && Math.abs(o.s - s) < 12))) w.vehicles.push(veh);
    }
  }
  return w;
}

/** Advances the world by one physics step under the given ego command. Mutates and returns `w`. */
export function stepWorld(w: World, command: EgoCommand): World {
  if (w.done) return w;
  w.ego.command = command;
  fireEvents(w);
  planTraffic(w);
  planEgo(w);
  moveTraffic(w);
  moveEgo(w);
  movePedestrians(w);
  updateStopLines(w);
  checkCollisions(w);
  updateVoice(w);
  maintainTraffic(w);
  w.tick++;
  w.t = w.tick * w.dtS;
  if (w.t >= w.durationS - 1e-9 || w.ego.s >= w.map.lengthM) w.done = true;
  return w;
}

function fireEvents(w: World): void {
  const e = w.ego;
  for (const ev of w.events) {
    if (ev.fired) continue;
    if (ev.kind === "cut_in" && e.s >= ev.triggerS) {
      ev.fired = true;
      const side = ev.fromLeft ? 1 : -1;
      const lane = e.lane + side;
      if (lane < 0 || lane >= w.map.laneCount || e.change) continue;
      const [lo, hi] = laneCorridor(w.map.laneWidthM, lane);
      const all = bodies(w);
      const cand = w.vehicles.find((v) => !v.stopped && !v.change && v.lane === lane && v.s - e.s > ev.gapM && v.s - e.s < ev.gapM + 12);
      let veh = cand;
      if (!veh) {
        const s = e.s + ev.gapM + 5;
        if (all.some((b) => b.id !== 0 && Math.abs(b.s - s) < 14 && b.d > lo - 1 && b.d < hi + 1)) continue;
        veh = newVehicle(w, s, lane, Math.max(3, e.v + ev.dv));
        w.vehicles.push(veh);
      }
      veh.v = Math.max(3, e.v + ev.dv);
      veh.cutIn = true;
      startChange(w, veh, e.lane, w.rng.uniform(1.6, 2.4));
    } else if (ev.kind === "pedestrian") {
      const c = w.map.crosswalks.find((x) => x.id === ev.crosswalkId);
      if (!c || c.stationM - e.s > ev.triggerDistM) continue;
      ev.fired = true;
      if (c.stationM < e.s) continue;
      const roadW = w.map.laneCount * w.map.laneWidthM;
      w.pedestrians.push({
        id: w.nextId++,
        crosswalkId: c.id,
        s: c.stationM + w.rng.uniform(-1, 1),
        d: ev.fromRight ? -1.2 : roadW + 1.2,
        vd: ev.fromRight ? ev.speedMps : -ev.speedMps,
        state: "crossing",
      });
    } else if (ev.kind === "voice" && w.t >= ev.atS) {
      ev.fired = true;
      speak(w, ev.command);
    }
  }
}

/** Starts an utterance of a command now. */
export function speak(w: World, command: VoiceCommand): Utterance {
  const speeches = w.clipSpeechS[command];
  const variant = speeches && speeches.length ? w.rng.int(0, speeches.length - 1) : 0;
  const u: Utterance = {
    id: w.nextId++,
    command,
    variant,
    startS: w.t,
    leadS: VOICE_LEAD_S,
    speechS: speeches?.[variant] ?? 1,
    tailS: VOICE_TAIL_S,
    snrDb: Math.round(w.rng.uniform(0, 20) * 10) / 10,
    gainDb: w.rng.uniform(-4, 4),
    heard: false,
  };
  w.utterances.push(u);
  return u;
}

function movePedestrians(w: World): void {
  const roadW = w.map.laneCount * w.map.laneWidthM;
  for (const p of w.pedestrians) {
    if (p.state !== "crossing") continue;
    p.d += p.vd * w.dtS;
    if ((p.vd > 0 && p.d > roadW + 1.2) || (p.vd < 0 && p.d < -1.2)) p.state = "done";
  }
  if (w.pedestrians.length > 8) w.pedestrians = w.pedestrians.filter((p) => p.state !== "done" || p.s > w.ego.s - 50);
}

function updateStopLines(w: World): void {
  const e = w.ego;
  const line = stopLineGap(w.map, e.s + e.lengthM / 2, w.egoStoppedAt, 20);
  if (line && line.gap < STOP_ZONE_M && line.gap > -1 && e.v < STANDSTILL_MPS) w.egoStoppedAt.add(line.id);
}

function checkCollisions(w: World): void {
  const eb = egoBody(w.ego);
  w.collidedWith = [];
  for (const v of w.vehicles) if (overlaps(eb, v)) w.collidedWith.push(v.id);
  for (const p of w.pedestrians) {
    if (p.state === "crossing" && Math.abs(p.s - eb.s) < eb.lengthM / 2 + 0.3 && Math.abs(p.d - eb.d) < eb.widthM / 2 + 0.3) w.collidedWith.push(p.id);
  }
  w.collision = w.collidedWith.length > 0;
}

/**
 * Commands become audible at the end of their utterance, once each; "continue" follows a stop once the
 * request has been carried out (stopped; for a pull-over, stopped on the shoulder) and the passenger is ready.
 */
function updateVoice(w: World): void {
  const vi = w.voice;
  for (const u of w.utterances) {
    // First tick at or after the end of the speech (tolerant of float drift in t = tick × dt).
    if (u.heard || u.startS + u.leadS + u.speechS > w.t + 1e-9) continue;
    u.heard = true;
    vi.last = u.command;
    vi.heardAtS = w.t;
    // The standing request (shared with fusion's intent tracker), then what only the world knows.
    applyVoiceCommand(vi, u.command, w.t);
    if (u.command === "stop" || u.command === "pull over") {
      vi.heldS = 0;
      vi.holdForS = w.rng.uniform(2, 5);
      vi.holdSinceS = w.t;
    }
  }
  lapseVoiceRequest(vi, w.t);
  if (vi.hold !== "none") {
    const done = w.ego.v < STANDSTILL_MPS && (vi.hold === "stop" || w.ego.pulledOver);
    vi.heldS = done ? vi.heldS + w.dtS : 0;
    const pending = w.utterances.some((u) => u.command === "continue" && !u.heard);
    const gaveUp = vi.hold === "pull_over" && w.t - vi.holdSinceS > PULL_OVER_PATIENCE_S;
    if ((vi.heldS >= vi.holdForS || gaveUp) && !pending) speak(w, "continue");
  }
}

/** The vehicle or pedestrian nearest ahead of the ego in its lane corridor (for TTC), with the gap. */
export function egoLeader(w: World): { gap: number; v: number; id: number } | undefined {
  const e = w.ego;
  const lo = Math.min(e.d, e.change?.toD ?? e.d) - e.widthM / 2;
  const hi = Math.max(e.d, e.change?.toD ?? e.d) + e.widthM / 2;
  const lead = nearest(bodies(w), 0, e.s, e.lengthM, lo, hi, true);
  let best = lead ? { gap: lead.gap, v: lead.body.v, id: lead.body.id } : undefined;
  for (const p of w.pedestrians) {
    if (p.state !== "crossing" || p.s < e.s || p.d < lo - 0.3 || p.d > hi + 0.3) continue;
    const gap = p.s - e.s - e.lengthM / 2 - 0.3;
    if (!best || gap < best.gap) best = { gap, v: 0, id: p.id };
  }
  return best;
}

/** A deep copy (for callers that keep world(t) beside world(t + dt)). */
export function cloneWorld(w: World): World {
  const { rng, map, ...rest } = w;
  const copy = structuredClone(rest);
  return { ...copy, rng: rng.clone(), map };
}
