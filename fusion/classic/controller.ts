/**
 * The classic controller (issue #20's `classic` baseline): what an ADAS engineer would build without learning,
 * on exactly the facts the daemon gets from its sensors — no ground truth, no other vehicle's intent:
 *  - adaptive cruise: the Intelligent Driver Model (Treiber et al. 2000) behind the nearest ego-lane radar
 *    return, its speed from the radial velocity; desired speed the map's advisory speed from the GNSS fix,
 *    less a margin, moved by spoken "slow down"/"speed up";
 *  - emergency braking: the same IDM, which asks for more than 4 m/s² when a return closes fast (then
 *    BRAKE_HARD); the safety supervisor's TTC rule stays in force on top, as for every model;
 *  - stop lines from the map: stop (IDM towards the line), wait, then go once stopped;
 *  - voice commands through the recogniser: hold stop, pull over (to the rightmost lane, then stop), lane
 *    change requests; lane changes only when radar shows the target side free;
 *  - overtaking a slow or stopped return ahead when the side lane is free and no stop line is near.
 * The rules mirror the simulator's expert (sim/expert.ts) where the expert's inputs are observable, so the
 * gap between this row and the expert's in a report is what sensing costs, and the gap to a learned model
 * is what learning adds. Pure: the state it keeps between frames is passed in and returned.
 */
import { STANDSTILL_MPS } from "../policy/decision.ts";

/** What one frame tells the controller (decoded from the model inputs, fusion/classic/inputs.ts). */
export interface ClassicFacts {
  /** Ego speed, m/s; undefined without ego. */
  speedMps: number | undefined;
  /** Nearest return ahead in the ego lane: range m and its speed over ground along the lane, m/s. */
  lead: { rangeM: number; speedMps: number } | undefined;
  /** Radar sees something beside the car on the left / right (−10…30 m). */
  occupiedLeft: boolean;
  occupiedRight: boolean;
  /** Map context from the GNSS fix; undefined without a fix on the map. */
  map:
    | {
        /** Distance from the GNSS antenna to the next stop line ahead, m (undefined: none within the horizon). */
        stopLineM: number | undefined;
        /** Advisory speed (limit, weather and curvature), m/s. */
        advisoryMps: number;
        laneCount: number | undefined;
      }
    | undefined;
  /** The ego's lane (0 = rightmost) and a lane change it is executing (+1 left, −1 right, 0 none). */
  lane: number | undefined;
  changing: number;
  /** The standing voice request. */
  voice: { holdStop: boolean; holdPullOver: boolean; speedOffsetMps: number; laneRequest: number };
}

/** What the controller remembers across frames. */
export interface ClassicState {
  /** The stop line it has stopped at (its distance when stopped, m): it goes on, and ignores it until it is passed. */
  clearedLineM: number | undefined;
  /** Frames since the lead was last seen, and the lead then (radar misses a return now and then). */
  leadMemory: { lead: NonNullable<ClassicFacts["lead"]>; frames: number } | undefined;
}

export const INITIAL_CLASSIC_STATE: ClassicState = { clearedLineM: undefined, leadMemory: undefined };

export type ClassicAction = "KEEP" | "ACCELERATE" | "DECELERATE" | "BRAKE_HARD" | "LANE_LEFT" | "LANE_RIGHT" | "STOP" | "PULL_OVER";

export interface ClassicDecision {
  action: ClassicAction;
  /** Acceleration it wants, m/s², and why (for reports and tests). */
  accelMps2: number;
  reason: string;
  state: ClassicState;
}

/** IDM parameters: the expert's (sim/expert.ts EXPERT_IDM). */
const IDM = { T: 1.5, s0: 3, a: 1.5, b: 2.5 };
/** Cruise this far below the advisory speed, m/s (the expert's margin, domain/voice-intent.ts). */
const MARGIN_MPS = 2;
/** The GNSS antenna sits about this far behind the front bumper, m. */
const ANTENNA_TO_FRONT_M = 2.25;
/** A lead not seen for this many frames is forgotten. */
const LEAD_MEMORY_FRAMES = 3;

/** IDM acceleration at speed v behind a leader `gap` m ahead moving at vLead (Infinity: free road). */
export function idm(v0: number, v: number, gap: number, vLead: number, s0 = IDM.s0): number {
  const free = 1 - Math.pow(v / Math.max(v0, 0.1), 4);
  let acc = IDM.a * free;
  if (gap < Infinity) {
    const sStar = s0 + Math.max(0, v * IDM.T + (v * (v - vLead)) / (2 * Math.sqrt(IDM.a * IDM.b)));
    const g = Math.max(gap, 0.1);
    acc -= IDM.a * (sStar / g) ** 2;
  }
  if (v > v0 && gap === Infinity) acc = Math.max(acc, -IDM.b);
  return Math.max(-9, acc);
}

export function classicDecide(f: ClassicFacts, prev: ClassicState): ClassicDecision {
  const v = Math.max(0, f.speedMps ?? 0);
  // Radar misses a return in some scans: keep the last lead for a few frames.
  let lead = f.lead;
  let leadMemory: ClassicState["leadMemory"] = lead ? { lead, frames: 0 } : undefined;
  if (!lead && prev.leadMemory && prev.leadMemory.frames < LEAD_MEMORY_FRAMES) {
    lead = prev.leadMemory.lead;
    leadMemory = { lead, frames: prev.leadMemory.frames + 1 };
  }
  const advisory = f.map?.advisoryMps ?? Math.max(v, 13.9);
  const v0 = Math.max(3, Math.min(advisory, advisory - MARGIN_MPS + f.voice.speedOffsetMps));

  let a = idm(v0, v, Infinity, 0);
  let reason = "cruise";
  if (lead) {
    const al = idm(v0, v, lead.rangeM, lead.speedMps);
    if (al < a) [a, reason] = [al, "follow"];
  }

  // Stop lines: stop at the next one unless it is the one already stopped at.
  let clearedLineM = prev.clearedLineM;
  const lineM = f.map?.stopLineM;
  if (lineM === undefined || (clearedLineM !== undefined && lineM > clearedLineM + 5)) clearedLineM = undefined;
  if (lineM !== undefined && clearedLineM === undefined) {
    const gap = lineM - ANTENNA_TO_FRONT_M;
    if (v < STANDSTILL_MPS && gap < 6) clearedLineM = lineM;
    else {
      const al = idm(v0, v, gap, 0, 2);
      if (al < a) [a, reason] = [al, "stop_line"];
    }
  }

  const hold = f.voice.holdStop ? "stop" : f.voice.holdPullOver ? "pull_over" : "none";
  const onRightmost = f.lane === 0 && f.changing === 0;
  const holdNow = hold === "stop" || (hold === "pull_over" && onRightmost);
  if (holdNow) {
    const al = v > STANDSTILL_MPS ? -Math.min(2.5, Math.max(1.2, v / 4)) : -v;
    if (al < a) [a, reason] = [al, hold === "stop" ? "voice_stop" : "voice_pull_over"];
  }

  // Lane changes: finish one under way; else start one when asked or blocked, if radar shows the side free.
  let laneDir = f.changing;
  const stoppingFor = (r: string): boolean => r === "stop_line" || r === "voice_stop" || r === "voice_pull_over";
  // No new lane change while stopping for a line or a spoken stop (the expert's voice lane change waits too).
  if (laneDir === 0 && a > -4 && f.lane !== undefined && !(stoppingFor(reason) && reason !== "voice_pull_over")) {
    const wanted: number[] = [];
    if (hold === "pull_over" && f.lane > 0) wanted.push(-1);
    else if (hold === "none" && f.voice.laneRequest !== 0) wanted.push(f.voice.laneRequest);
    else if (hold === "none" && (reason === "follow") && lead && lead.rangeM < 80 && (lead.speedMps < v0 - 4 || lead.speedMps < 0.5) && !(lineM !== undefined && lineM < 50)) wanted.push(1, -1);
    for (const dir of wanted) {
      const target = f.lane + dir;
      const laneCount = f.map?.laneCount;
      if (target < 0 || (laneCount !== undefined && target >= laneCount) || (laneCount === undefined && dir > 0)) continue;
      if (dir > 0 ? f.occupiedLeft : f.occupiedRight) continue;
      laneDir = dir;
      // Beside the obstacle the lane is free: accelerate as on a free road, within comfort.
      a = Math.min(Math.max(a, idm(v0, v, Infinity, 0)), 2.5);
      reason = hold === "pull_over" ? "voice_pull_over" : f.voice.laneRequest === dir ? "voice_lane" : "overtake";
      break;
    }
  }

  a = Math.max(-8, Math.min(2.5, a));
  if (v < 0.05 && a < 0) a = 0;
  const stopping = stoppingFor(reason);
  let action: ClassicAction;
  if (a < -4) action = "BRAKE_HARD";
  else if (hold === "pull_over" && (laneDir < 0 || holdNow)) action = "PULL_OVER";
  // A change under way goes on whatever the action (only the opposite request turns it back), so when it
  // has to slow down or stop it says so: LANE_* keeps the speed.
  else if (laneDir !== 0 && f.changing !== 0 && stopping && a <= 0) action = "STOP";
  else if (laneDir !== 0 && f.changing !== 0 && a < -0.5) action = "DECELERATE";
  else if (laneDir > 0) action = "LANE_LEFT";
  else if (laneDir < 0) action = "LANE_RIGHT";
  else if (a <= 0 && (stopping || (v < STANDSTILL_MPS && v + a < STANDSTILL_MPS))) action = "STOP";
  else if (a > 0.5) action = "ACCELERATE";
  else if (a < -0.5) action = "DECELERATE";
  else action = "KEEP";
  return { action, accelMps2: a, reason, state: { clearedLineM, leadMemory } };
}
