/** Model output → action and target speed; the DrivingDecision message (proto field names). */
import { nsToTimestamp, type Built, type DecodedDrivingDecision, type Modality } from "../../schemas/index.ts";
import { ACTIONS, NUM_ACTIONS, type ActionName } from "../actions.ts";
import type { MapContext } from "../features/gnss.ts";

export function argmaxAction(probs: Float32Array | number[]): ActionName {
  let best = 0;
  for (let i = 1; i < NUM_ACTIONS; i++) if ((probs[i] ?? -1) > (probs[best] ?? -1)) best = i;
  return ACTIONS[best]!;
}

/**
 * Speed changes per decision period behind each action, m/s over the 1 s the vehicle tracks a target in
 * (about the expert's median acceleration for the action in the simulator's training drives: ACCELERATE
 * +1.2, DECELERATE −1.0, KEEP +0.1, STOP and PULL_OVER a few tenths down until a stop is due).
 */
export const SPEED_STEP = { accelerate: 1.2, decelerate: 1.0, stop: 1.5, pullOver: 1.0 } as const;
/**
 * Below this speed the car stands still, m/s (the simulator's expert: sim/world/rules.ts STANDSTILL_MPS). There
 * the expert never says KEEP to stay: standing, a ≤ 0 is STOP (sim/expert.ts), so its KEEP means a gentle start
 * (0 < a ≤ 0.5 m/s²). KEEP's target is then a little above the speed, not the speed: read as "hold 0 m/s" it made
 * a model that wavers between KEEP and STOP at a standstill stand there for good while the expert said
 * ACCELERATE (seed 200136 of issue #20's validation episodes: 36 s). The supervisor's rules still hold the car
 * for anything close ahead.
 */
export const STANDSTILL_MPS = 0.3;
/** KEEP from a standstill: the target this far above the speed, m/s (half of KEEP's 0.5 m/s² over 1 s). */
export const KEEP_FROM_STANDSTILL_MPS = 0.25;
/** Where a stop for a stop line or crosswalk ends, m before it. */
const STOP_MARGIN_M = 2;

/** Deceleration that stops in `gapM` from speed v, m/s² (≥ 0). */
const stoppingDecel = (v: number, gapM: number): number => (v * v) / (2 * Math.max(0.5, gapM));

/**
 * Target speed for an action, m/s, from the current speed and the map context (when known). The action says
 * what to do; the target says how hard: gentle steps like the expert's, and STOP brakes to stop at the next
 * stop line or crosswalk within reach rather than where the car is (a STOP 80 m before a line is "start
 * stopping for it", not "stop now"); BRAKE_HARD asks for a standstill (the vehicle bounds it to its hardest).
 */
export function targetSpeed(action: ActionName, speedMps: number | undefined, map: MapContext | undefined): number {
  const v = Math.max(0, speedMps ?? 0);
  const limit = map ? (map.advisorySpeedMps ?? map.speedLimitMps) : Math.max(v, 13.9);
  switch (action) {
    case "KEEP":
      return Math.min(v < STANDSTILL_MPS ? v + KEEP_FROM_STANDSTILL_MPS : v, limit);
    case "LANE_LEFT":
    case "LANE_RIGHT":
      return Math.min(v, limit);
    case "ACCELERATE":
      return Math.min(limit, v + SPEED_STEP.accelerate);
    case "DECELERATE":
      return Math.max(0, v - SPEED_STEP.decelerate);
    case "BRAKE_HARD":
      return 0;
    case "STOP": {
      const gaps = [map?.stopLineDistanceM, map?.crosswalkDistanceM].filter((d): d is number => d !== undefined && d > 0 && d < 150);
      const gap = gaps.length ? Math.min(...gaps) - STOP_MARGIN_M : undefined;
      const decel = gap !== undefined ? Math.max(stoppingDecel(v, gap), 0.3) : SPEED_STEP.stop;
      return v < 0.5 ? 0 : Math.max(0, v - decel);
    }
    case "PULL_OVER":
      return v < 0.5 ? 0 : Math.max(0, v - SPEED_STEP.pullOver);
  }
}

/**
 * fusiond.DrivingDecision as the engine builds it for the codec: the generated interface in its built form
 * (enums by name, seq a number; schemas/messages.ts), with the action a model class (never ACTION_UNSPECIFIED)
 * and the modalities named as the aligner names them. `inputs` (the frame's provenance) is added by whoever
 * knows the frame: the daemon, before recording and publishing.
 */
export type DrivingDecision = Omit<Built<DecodedDrivingDecision>, "action" | "probabilities" | "modalities_used" | "inputs"> & {
  action: ActionName;
  probabilities: { action: ActionName; probability: number }[];
  modalities_used: Modality[];
  inputs?: Built<DecodedDrivingDecision>["inputs"];
};

export function probabilityList(probs: Float32Array | undefined): DrivingDecision["probabilities"] {
  return probs ? ACTIONS.map((action, i) => ({ action, probability: probs[i] ?? 0 })) : [];
}

export const frameStamp = (ns: bigint): DrivingDecision["frame_stamp"] => nsToTimestamp(ns);
