/** Model output → action and target speed; the DrivingDecision message (proto field names). */
import { nsToTimestamp, type Modality } from "../../schemas/index.ts";
import { ACTIONS, NUM_ACTIONS, type ActionName } from "../actions.ts";
import type { MapContext } from "../features/gnss.ts";
import type { OverrideReasonName } from "./supervisor.ts";

export function argmaxAction(probs: Float32Array | number[]): ActionName {
  let best = 0;
  for (let i = 1; i < NUM_ACTIONS; i++) if ((probs[i] ?? -1) > (probs[best] ?? -1)) best = i;
  return ACTIONS[best]!;
}

/** Target speed for an action, m/s, from the current speed and the speed limit (when the map gives one). */
export function targetSpeed(action: ActionName, speedMps: number | undefined, map: MapContext | undefined): number {
  const v = speedMps ?? 0;
  const limit = map?.speedLimitMps ?? Math.max(v, 13.9);
  switch (action) {
    case "KEEP":
    case "LANE_LEFT":
    case "LANE_RIGHT":
      return Math.min(v, limit);
    case "ACCELERATE":
      return Math.min(limit, v + 2);
    case "DECELERATE":
      return Math.max(0, v - 3);
    case "BRAKE_HARD":
    case "STOP":
    case "PULL_OVER":
      return 0;
  }
}

/** fusiond.DrivingDecision as a plain object (proto field names; enums as names), ready for the codec. */
export interface DrivingDecision {
  frame_stamp: { seconds: number; nanos: number };
  action: ActionName;
  probabilities: { action: ActionName; probability: number }[];
  target_speed_mps: number;
  model_id: string;
  model_hash: string;
  backend: string;
  modalities_used: Modality[];
  latency_ms: number;
  inference_ms: number;
  overridden: boolean;
  override_reason: OverrideReasonName;
  override_detail: string;
  model_action: ActionName | "ACTION_UNSPECIFIED";
  seq: number;
  vehicle_id: string;
}

export function probabilityList(probs: Float32Array | undefined): DrivingDecision["probabilities"] {
  return probs ? ACTIONS.map((action, i) => ({ action, probability: probs[i] ?? 0 })) : [];
}

export const frameStamp = (ns: bigint): DrivingDecision["frame_stamp"] => nsToTimestamp(ns);
