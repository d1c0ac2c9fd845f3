/** The traffic: IDM car following, MOBIL lane changes, scripted cut-ins, spawning around the ego. */
import { laneAt, laneCentre, speedLimitAt } from "../../domain/road-map.ts";
import { bodies, inCorridor, laneCorridor, nearest, overlaps, smooth, type Body } from "./agents.ts";
import { DEFAULT_IDM, DEFAULT_MOBIL, idmAccel, mobilIncentive, type IdmParams } from "./idm.ts";
import { cruiseSpeed, crosswalkGap, STANDSTILL_MPS, STOP_ZONE_M, stopLineGap } from "./rules.ts";
import type { Vehicle, World } from "./types.ts";

const PALETTE: [number, number, number][] = [
  [200, 30, 30], [30, 60, 180], [220, 220, 220], [40, 40, 40], [200, 170, 40], [30, 130, 60], [120, 120, 130], [150, 80, 30],
];

export function newVehicle(w: World, s: number, lane: number, v: number, stopped = false): Vehicle {
  const id = w.nextId++;
  const truck = !stopped && w.rng.chance(0.12);
  return {
    id,
    stopped,
    s,
    d: laneCentre(w.map, lane),
    v: stopped ? 0 : v,
    a: 0,
    lengthM: truck ? 9 : w.rng.uniform(4.2, 5),
    widthM: truck ? 2.4 : w.rng.uniform(1.75, 1.95),
    lane,
    targetLane: lane,
    change: undefined,
    speedFactor: w.rng.uniform(0.85, 1.08),
    cooldownS: w.rng.uniform(0, 4),
    clearedStopLines: new Set(),
    cutIn: false,
    rgb: w.rng.pick(PALETTE),
  };
}

/** IDM parameters of a vehicle; the desired speed is refreshed every 10 ticks (it depends on the station). */
function params(w: World, veh: Vehicle): IdmParams {
  if (veh.idm === undefined || (w.tick + veh.id) % 10 === 0) veh.idm = { ...DEFAULT_IDM, v0: cruiseSpeed(w.map, veh.s) * veh.speedFactor };
  return veh.idm;
}

/** IDM acceleration of a vehicle given the bodies around it, in the corridor of a lane (or its own body). */
function accelIn(w: World, all: readonly Body[], veh: Vehicle, lo: number, hi: number, p: IdmParams): number {
  const lead = nearest(all, veh.id, veh.s, veh.lengthM, lo, hi, true);
  let acc = idmAccel(p, veh.v, lead ? lead.gap : Infinity, lead ? lead.body.v : 0);
  const front = veh.s + veh.lengthM / 2;
  const line = stopLineGap(w.map, front, veh.clearedStopLines);
  if (line) acc = Math.min(acc, idmAccel({ ...p, s0: 1.5 }, veh.v, line.gap, 0));
  const cw = crosswalkGap(w, front, veh.v);
  if (cw !== undefined) acc = Math.min(acc, idmAccel({ ...p, s0: 1.5 }, veh.v, cw, 0));
  return acc;
}

/** Accelerations and lane-change starts for every vehicle; integrates nothing. */
export function planTraffic(w: World): void {
  const all = bodies(w);
  const lw = w.map.laneWidthM;
  for (const veh of w.vehicles) {
    if (veh.stopped) {
      veh.a = 0;
      continue;
    }
    const p = params(w, veh);
    const lo = Math.min(veh.d - veh.widthM / 2, veh.change ? veh.change.toD - veh.widthM / 2 : Infinity);
    const hi = Math.max(veh.d + veh.widthM / 2, veh.change ? veh.change.toD + veh.widthM / 2 : -Infinity);
    veh.a = accelIn(w, all, veh, lo, hi, p);
    // Stop lines: a full stop near the line clears it.
    const line = stopLineGap(w.map, veh.s + veh.lengthM / 2, veh.clearedStopLines);
    if (line && line.gap < STOP_ZONE_M && veh.v < STANDSTILL_MPS + 0.2) veh.clearedStopLines.add(line.id);
    // MOBIL, twice a second per vehicle, staggered by id.
    if (!veh.change && veh.cooldownS <= 0 && (w.tick + veh.id * 7) % 50 === 0) considerChange(w, all, veh, p, lw);
  }
}

function considerChange(w: World, all: readonly Body[], veh: Vehicle, p: IdmParams, lw: number): void {
  const [clo, chi] = laneCorridor(lw, veh.lane);
  const accOld = accelIn(w, all, veh, clo, chi, p);
  const oldFollower = nearest(all, veh.id, veh.s, veh.lengthM, clo, chi, false);
  const oldLeader = nearest(all, veh.id, veh.s, veh.lengthM, clo, chi, true);
  let best: { lane: number; incentive: number } | undefined;
  for (const dir of [1, -1] as const) {
    const lane = veh.lane + dir;
    if (lane < 0 || lane >= w.map.laneCount) continue;
    const [lo, hi] = laneCorridor(lw, lane);
    // No room: something alongside.
    if (all.some((b) => b.id !== veh.id && inCorridor(b, lo, hi) && Math.abs(b.s - veh.s) < (b.lengthM + veh.lengthM) / 2 + 2)) continue;
    const lead = nearest(all, veh.id, veh.s, veh.lengthM, lo, hi, true);
    const fol = nearest(all, veh.id, veh.s, veh.lengthM, lo, hi, false);
    const accNew = accelIn(w, all, veh, lo, hi, p);
    const folP: IdmParams = { ...DEFAULT_IDM, v0: cruiseSpeed(w.map, veh.s) };
    const nfOld = fol ? idmAccel(folP, fol.body.v, lead ? lead.gap + veh.lengthM + fol.gap : Infinity, lead?.body.v ?? 0) : 0;
    const nfNew = fol ? idmAccel(folP, fol.body.v, fol.gap, veh.v) : 0;
    const ofOld = oldFollower ? idmAccel(folP, oldFollower.body.v, oldFollower.gap, veh.v) : 0;
    const ofNew = oldFollower
      ? idmAccel(folP, oldFollower.body.v, oldLeader ? oldFollower.gap + veh.lengthM + oldLeader.gap : Infinity, oldLeader?.body.v ?? 0)
      : 0;
    const m = mobilIncentive(DEFAULT_MOBIL, { accOld, accNew, nfOld, nfNew, ofOld, ofNew }, dir < 0);
    if (m.safe && m.incentive > 0 && (!best || m.incentive > best.incentive)) best = { lane, incentive: m.incentive };
  }
  if (best) startChange(w, veh, best.lane, w.rng.uniform(3, 4.5));
}

export function startChange(w: World, veh: Vehicle, lane: number, durationS: number): void {
  veh.targetLane = lane;
  veh.change = { fromD: veh.d, toD: laneCentre(w.map, lane), elapsedS: 0, durationS };
  veh.cooldownS = 6;
}

/** Integrates the traffic over one step (after planTraffic and the ego's own plan). */
export function moveTraffic(w: World): void {
  const dt = w.dtS;
  for (const veh of w.vehicles) {
    if (veh.stopped) continue;
    const v1 = Math.max(0, veh.v + veh.a * dt);
    veh.s += ((veh.v + v1) / 2) * dt;
    veh.v = v1;
    veh.cooldownS -= dt;
    if (veh.change) {
      veh.change.elapsedS += dt;
      const x = veh.change.elapsedS / veh.change.durationS;
      veh.d = veh.change.fromD + (veh.change.toD - veh.change.fromD) * smooth(x);
      if (x >= 1) {
        veh.change = undefined;
        veh.cutIn = false;
      }
    }
    veh.lane = laneAt(w.map, veh.d) ?? veh.lane;
  }
}

/** Keeps traffic around the ego: drops far vehicles, spawns at the edges of a window (once a second). */
export function maintainTraffic(w: World): void {
  if (w.tick % Math.round(1 / w.dtS) !== 0) return;
  const es = w.ego.s;
  w.vehicles = w.vehicles.filter((v) => v.stopped || (v.s > es - 200 && v.s < es + 380));
  const ahead = 280;
  const behind = 120;
  const target = (w.densityPerKmLane * (ahead + behind)) / 1000;
  const all = bodies(w);
  for (let lane = 0; lane < w.map.laneCount; lane++) {
    const [lo, hi] = laneCorridor(w.map.laneWidthM, lane);
    const count = w.vehicles.filter((v) => !v.stopped && inCorridor(v, lo, hi) && v.s > es - behind && v.s < es + ahead).length;
    if (count >= target) continue;
    const front = w.rng.chance(0.6);
    const s = front ? es + ahead + w.rng.uniform(0, 60) : es - behind - w.rng.uniform(0, 40);
    const v = speedLimitAt(w.map, s) * w.rng.uniform(0.8, 1.0);
    const cand = newVehicleProbe(s, laneCentre(w.map, lane));
    if (all.some((b) => inCorridor(b, lo, hi) && Math.abs(b.s - s) < 30)) continue;
    if (!front && es - s < 60) continue;
    if (all.some((b) => overlaps(b, cand))) continue;
    const veh = newVehicle(w, s, lane, v);
    // Spawned past a stop line: that line is behind it.
    for (const l of w.map.stopLines) if (l.stationM < s + 30) veh.clearedStopLines.add(l.id);
    w.vehicles.push(veh);
  }
}

const newVehicleProbe = (s: number, d: number): Body => ({ id: -1, s, d, v: 0, lengthM: 10, widthM: 2 });
