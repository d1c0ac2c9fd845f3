/**
 * The expert: a driver with privileged truth (every vehicle's position, speed and intent, every pedestrian,
 * the map, the voice commands heard) that labels each step with the correct DrivingAction and target speed.
 * It is a pure function of the world. The ego controller (world/ego.ts) turns the label back into the same
 * acceleration: the label's bounds contain the expert's acceleration and the target speed is
 * v + a × TRACK_TAU_S.
 */
import { laneCentre } from "../domain/road-map.ts";
import { bodies, inCorridor, laneCorridor, nearest, type Body } from "./world/agents.ts";
import { TRACK_TAU_S } from "./world/ego.ts";
import { DEFAULT_IDM, idmAccel, type IdmParams } from "./world/idm.ts";
import { cruiseSpeed, crosswalkGap, STANDSTILL_MPS, stopLineGap } from "./world/rules.ts";
import type { DrivingAction, World } from "./world/types.ts";
import { EXPERT_MARGIN_MPS } from "./world/world.ts";

export interface ExpertLabel {
  action: DrivingAction;
  targetSpeedMps: number;
  /** The acceleration the expert wants, m/s². */
  accelMps2: number;
  /** Why (for debugging and docs): e.g. "follow", "stop_line", "voice_stop", "cut_in". */
  reason: string;
}

const EXPERT_IDM: Omit<IdmParams, "v0"> = { ...DEFAULT_IDM, T: 1.5, s0: 3, b: 2.5 };

/** Desired cruise speed: below the (weather-capped) limit by a margin, moved by "slow down"/"speed up". */
export function expertCruise(w: World): number {
  const cruise = cruiseSpeed(w.map, w.ego.s);
  return Math.max(3, Math.min(cruise, cruise - EXPERT_MARGIN_MPS + w.voice.speedOffsetMps));
}

export function expert(w: World): ExpertLabel {
  const e = w.ego;
  const all = bodies(w);
  const lw = w.map.laneWidthM;
  const p: IdmParams = { ...EXPERT_IDM, v0: expertCruise(w) };
  let reason = "cruise";
  const front = e.s + e.lengthM / 2;

  /** IDM acceleration in a lane (with cut-in intent), plus road rules. */
  const laneAccel = (lane: number): { a: number; why: string } => {
    const [lo, hi] = laneCorridor(lw, lane);
    const centre = laneCentre(w.map, lane);
    let a = p.a;
    let why = "cruise";
    const lead = nearest(all, 0, e.s, e.lengthM, lo, hi, true);
    // Privileged intent: a vehicle already steering into this lane counts as a leader now.
    const intruders = w.vehicles.filter((v) => v.change && Math.abs(v.change.toD - centre) < 0.5 && v.s > e.s);
    const leads: { gap: number; v: number; why: string }[] = [];
    if (lead) leads.push({ gap: lead.gap, v: lead.body.v, why: "follow" });
    for (const v of intruders) leads.push({ gap: v.s - e.s - (v.lengthM + e.lengthM) / 2, v: v.v, why: "cut_in" });
    for (const ped of w.pedestrians) {
      if (ped.state !== "crossing" || ped.s < e.s) continue;
      const tArrive = (ped.s - e.s) / Math.max(e.v, 1);
      const dAt = ped.d + ped.vd * Math.min(tArrive, 6);
      const inNow = ped.d > lo - 1 && ped.d < hi + 1;
      const crosses = (ped.d - centre) * (dAt - centre) <= 0 || (dAt > lo - 1 && dAt < hi + 1);
      if (inNow || crosses) leads.push({ gap: ped.s - e.s - e.lengthM / 2 - 1.5, v: 0, why: "pedestrian" });
    }
    a = idmAccel(p, e.v, Infinity, 0);
    for (const l of leads) {
      const al = idmAccel(p, e.v, l.gap, l.v);
      if (al < a) {
        a = al;
        why = l.why;
      }
    }
    return { a, why };
  };

  const current = e.change ? Math.round((e.change.toD - lw / 2) / lw) : e.lane;
  let { a, why } = laneAccel(e.lane);
  reason = why;
  if (e.change && current !== e.lane) {
    const t = laneAccel(current);
    if (t.a < a) ({ a, why: reason } = t);
  }
  const line = stopLineGap(w.map, front, w.egoStoppedAt);
  if (line) {
    const al = idmAccel({ ...p, s0: 2 }, e.v, line.gap, 0);
    if (al < a) [a, reason] = [al, "stop_line"];
  }
  const cw = crosswalkGap(w, front, e.v);
  if (cw !== undefined) {
    const al = idmAccel({ ...p, s0: 2 }, e.v, cw, 0);
    if (al < a) [a, reason] = [al, "crosswalk"];
  }
  const hold = w.voice.hold;
  const holdNow = hold === "stop" || (hold === "pull_over" && e.lane === 0 && !e.change);
  if (holdNow) {
    const al = e.v > STANDSTILL_MPS ? -Math.min(2.5, Math.max(1.2, e.v / 4)) : -e.v / TRACK_TAU_S;
    if (al < a) [a, reason] = [al, hold === "stop" ? "voice_stop" : "voice_pull_over"];
  }

  // Lane changes: finish one in progress; else start one if asked, pulled over, or blocked — when safe.
  let laneDir = 0;
  if (e.change) laneDir = Math.sign(e.change.toD - e.change.fromD);
  else if (a > -4) {
    const wanted: number[] = [];
    if (hold === "pull_over" && e.lane > 0) wanted.push(-1);
    else if (w.voice.laneRequest !== 0 && hold === "none") wanted.push(w.voice.laneRequest);
    else if (hold === "none" && (reason === "follow" || reason === "cut_in") && !nearRule(w, front)) {
      const lead = nearest(all, 0, e.s, e.lengthM, ...laneCorridor(lw, e.lane), true);
      const slow = lead && lead.gap < 80 && (lead.body.v < p.v0 - 4 || lead.body.v < 0.5);
      if (slow) for (const dir of [1, -1]) if (laneAccel(e.lane + dir).a > a + 0.8) wanted.push(dir);
    }
    for (const dir of wanted) {
      const lane = e.lane + dir;
      if (lane < 0 || lane >= w.map.laneCount) continue;
      if (safeToChange(w, all, lane, p)) {
        laneDir = dir;
        const t = laneAccel(lane);
        a = Math.min(Math.max(a, t.a), 2.5);
        reason = hold === "pull_over" ? "voice_pull_over" : w.voice.laneRequest === dir ? "voice_lane" : "overtake";
        break;
      }
    }
  }

  // A requested change (pull over, a voice lane request) that is not safe yet because of traffic in the
  // target lane: drop back so that the vehicles beside and just ahead pass, and a gap opens behind them.
  // Without this a car cruising alongside at the same speed would block the request indefinitely.
  const voiceDir = e.change ? 0 : hold === "pull_over" && e.lane > 0 ? -1 : hold === "none" ? w.voice.laneRequest : 0;
  if (laneDir === 0 && voiceDir !== 0 && a > -4) {
    const [lo, hi] = laneCorridor(lw, e.lane + voiceDir);
    let vSlot = Infinity;
    for (const v of w.vehicles) if (!v.stopped && inCorridor(v, lo, hi) && v.s > e.s - 15 && v.s < e.s + 20) vSlot = Math.min(vSlot, v.v - 1.5);
    if (vSlot < Infinity && e.lane + voiceDir >= 0 && e.lane + voiceDir < w.map.laneCount) {
      const ag = Math.max(-2, (Math.max(0, vSlot) - e.v) / TRACK_TAU_S);
      if (ag < a) [a, reason] = [ag, "voice_gap"];
    }
  }

  // Back from the shoulder only into a gap, like any lane change; until then stay there.
  const onShoulder = e.lane === 0 && !e.change && e.d < laneCentre(w.map, 0) - 0.6;
  const waitOnShoulder = onShoulder && hold === "none" && !safeToChange(w, all, 0, p);
  if (waitOnShoulder) [a, reason] = [Math.min(a, -e.v / TRACK_TAU_S), "shoulder_wait"];

  a = Math.max(-8, Math.min(2.5, a));
  if (e.v < 0.05 && a < 0) a = 0;
  const targetSpeedMps = Math.max(0, e.v + a * TRACK_TAU_S);
  let action: DrivingAction;
  const stopping = ["stop_line", "crosswalk", "pedestrian", "voice_stop", "voice_pull_over"].includes(reason);
  if (waitOnShoulder) action = "PULL_OVER";
  else if (a < -4) action = "BRAKE_HARD";
  else if (hold === "pull_over" && (laneDir < 0 || holdNow)) action = "PULL_OVER";
  else if (laneDir > 0) action = "LANE_LEFT";
  else if (laneDir < 0) action = "LANE_RIGHT";
  else if (a <= 0 && (stopping || (e.v < STANDSTILL_MPS && targetSpeedMps < STANDSTILL_MPS))) action = "STOP";
  else if (a > 0.5) action = "ACCELERATE";
  else if (a < -0.5) action = "DECELERATE";
  else action = "KEEP";
  return { action, targetSpeedMps, accelMps2: a, reason };
}

/** Within 50 m before a stop line or crosswalk: no discretionary lane changes. */
function nearRule(w: World, front: number): boolean {
  return (
    w.map.stopLines.some((l) => l.stationM > front && l.stationM - front < 50) ||
    w.map.crosswalks.some((c) => c.stationM > front && c.stationM - front < 50)
  );
}

/** Gaps ahead and behind in the target lane, and nobody alongside. */
function safeToChange(w: World, all: readonly Body[], lane: number, p: IdmParams): boolean {
  const e = w.ego;
  const [lo, hi] = laneCorridor(w.map.laneWidthM, lane);
  if (all.some((b) => b.id !== 0 && inCorridor(b, lo, hi) && Math.abs(b.s - e.s) < (b.lengthM + e.lengthM) / 2 + 3)) return false;
  if (w.vehicles.some((v) => v.change && Math.abs(v.change.toD - laneCentre(w.map, lane)) < 0.5 && Math.abs(v.s - e.s) < 30)) return false;
  const lead = nearest(all, 0, e.s, e.lengthM, lo, hi, true);
  if (lead && (lead.gap < Math.max(6, 0.6 * e.v) || idmAccel(p, e.v, lead.gap, lead.body.v) < -2)) return false;
  const fol = nearest(all, 0, e.s, e.lengthM, lo, hi, false);
  if (fol) {
    if (fol.gap < Math.max(6, 0.5 * fol.body.v)) return false;
    if (idmAccel({ ...DEFAULT_IDM, v0: fol.body.v + 1 }, fol.body.v, fol.gap, e.v) < -2) return false;
  }
  return true;
}
