/**
 * Rule 2: radar time-to-collision (confirmed returns in the ego lane) below `ttcThresholdS` → never KEEP,
 * ACCELERATE or a lane change into trouble: BRAKE_HARD below `brakeTtcS`, else DECELERATE (OVERRIDE_TTC).
 * A lane change out of the obstacle's lane stands while there is time for it (TTC ≥ `brakeTtcS`) and the
 * target lane has no closing return under the threshold; with the lanes beside unknown it is replaced too.
 */
import type { ActionName } from "../../actions.ts";
import type { Rule } from "../supervisor.ts";

const UNSAFE_UNDER_TTC: readonly ActionName[] = ["KEEP", "ACCELERATE", "LANE_LEFT", "LANE_RIGHT"];

export const ttc: Rule = (proposed, f, cfg) => {
  const { action } = proposed;
  const ttcS = f.minTtcS;
  if (ttcS === undefined || !(ttcS < cfg.ttcThresholdS) || !UNSAFE_UNDER_TTC.includes(action)) return { proposal: proposed };
  // Changing lanes away from the obstacle is how drivers get out of its way — when there is time and room.
  if ((action === "LANE_LEFT" || action === "LANE_RIGHT") && ttcS >= cfg.brakeTtcS && f.sideTtcS) {
    const side = action === "LANE_LEFT" ? f.sideTtcS.left : f.sideTtcS.right;
    if (side >= cfg.ttcThresholdS) return { proposal: proposed };
  }
  const replaced: ActionName = ttcS < cfg.brakeTtcS ? "BRAKE_HARD" : "DECELERATE";
  return {
    proposal: { ...proposed, action: replaced },
    override: { reason: "OVERRIDE_TTC", detail: `radar TTC ${ttcS.toFixed(2)} s < ${cfg.ttcThresholdS} s: ${action} → ${replaced}` },
  };
};
