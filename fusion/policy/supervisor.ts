/**
 * The safety supervisor: rules that cannot be argued with, applied after the model.
 *  1. camera and radar both stale (or missing)  → STOP          (OVERRIDE_SENSORS_STALE)
 *  2. radar time-to-collision below a threshold → never KEEP/ACCELERATE: BRAKE_HARD below `brakeTtcS`, else
 *     DECELERATE (OVERRIDE_TTC). A lane change out of the obstacle's lane stands while there is time for it
 *     (TTC ≥ `brakeTtcS`) and the target lane has no closing return under the threshold; else it is replaced too.
 *  3. the deceleration needed to match a confirmed closing return's speed before reaching it bounds the
 *     target speed of every action; above `hardDecelMps2` the action is BRAKE_HARD (OVERRIDE_TTC)
 *  4. a confirmed closing return inside the standstill gap (5 m) → never KEEP/ACCELERATE: STOP (OVERRIDE_TTC)
 * Pure: facts in, decision out. Fallback for a missing critical sensor is chosen by the engine (engine.ts).
 */
import type { Modality } from "../../schemas/index.ts";
import type { ActionName } from "../actions.ts";

export interface SupervisorConfig {
  /** Below this radar TTC (s), KEEP and ACCELERATE are replaced. */
  ttcThresholdS: number;
  /** Below this radar TTC (s), the replacement is BRAKE_HARD rather than DECELERATE. */
  brakeTtcS: number;
  /** A modality older than this (s) counts as stale. */
  staleAfterS: number;
  /** Sensors whose absence sends the decision to a fallback model (or rule). */
  critical: Modality[];
}

export const DEFAULT_SUPERVISOR: SupervisorConfig = { ttcThresholdS: 3, brakeTtcS: 1.5, staleAfterS: 0.5, critical: ["camera", "radar"] };

/** Rule 3: the gap kept to a closing return when braking for it, m; above this deceleration only BRAKE_HARD will do, m/s². */
export const ENVELOPE = { marginM: 4, hardDecelMps2: 4, comfortDecelMps2: 0.5, standstillGapM: 5 } as const;

/**
 * Rule 4: a confirmed closing return nearer than ENVELOPE.standstillGapM stops KEEP and ACCELERATE. At walking
 * pace rule 3 asks for almost no deceleration (v² / 2(range − margin)), yet creeping on ends in contact: in
 * closed loop the default crept at 0.1–1.4 m/s into an obstacle the expert braked hard for.
 */
export function standstillGap(action: ActionName, confirmed: readonly { range: number; closingMps: number }[]): { action: ActionName; override?: Override } {
  if (action !== "KEEP" && action !== "ACCELERATE") return { action };
  const near = confirmed.filter((c) => c.closingMps > 0 && c.range < ENVELOPE.standstillGapM).sort((a, b) => a.range - b.range)[0];
  if (!near) return { action };
  return { action: "STOP", override: { reason: "OVERRIDE_TTC", detail: `a return ${near.range.toFixed(1)} m ahead closes at ${near.closingMps.toFixed(1)} m/s, inside the ${ENVELOPE.standstillGapM} m standstill gap: ${action} → STOP` } };
}

/**
 * The deceleration (m/s², ≥ 0) that brings the closing speed to zero before the gap to the nearest confirmed
 * closing return shrinks below ENVELOPE.marginM: v_c² / (2 (range − margin)).
 */
export function requiredDecel(confirmed: readonly { range: number; closingMps: number }[]): { decel: number; range: number; closingMps: number } | undefined {
  let worst: { decel: number; range: number; closingMps: number } | undefined;
  for (const c of confirmed) {
    if (!(c.closingMps > 0)) continue;
    const decel = (c.closingMps * c.closingMps) / (2 * Math.max(0.5, c.range - ENVELOPE.marginM));
    if (!worst || decel > worst.decel) worst = { decel, range: c.range, closingMps: c.closingMps };
  }
  return worst;
}

export type OverrideReasonName = "OVERRIDE_NONE" | "OVERRIDE_TTC" | "OVERRIDE_SENSORS_STALE" | "OVERRIDE_FALLBACK" | "OVERRIDE_VOICE" | "OVERRIDE_OTHER";

export interface Override {
  reason: OverrideReasonName;
  detail: string;
}

export interface SensorFacts {
  /** Usable modalities of the frame. */
  present: Record<Modality, boolean>;
  /** Age of each usable modality, s. */
  ageS: Partial<Record<Modality, number>>;
  /** Min ego-lane radar TTC, s (Infinity: nothing approaching; undefined: no radar). */
  minTtcS: number | undefined;
  /** Min radar TTC in the lane to the left and to the right, s (absent: unknown, so no lane change is let through). */
  sideTtcS?: { left: number; right: number };
  /** The confirmed approaching in-lane returns of the frame's radar scan, m and m/s (ttc-confirm.ts; absent: no radar in the frame). */
  confirmed?: readonly { range: number; closingMps: number }[];
}

/** What a rule is handed and hands on: the action, and the deceleration (m/s², 0: none) that caps its target speed. */
export interface Proposal {
  action: ActionName;
  envelopeDecelMps2: number;
}

/** A rule's answer: the proposal it lets through (changed or not), and why, when it changed the action. */
export interface RuleOutcome {
  proposal: Proposal;
  override?: Override;
}

/** A supervisor rule (rules/, one per file): pure, (proposed decision, facts, config) → outcome. */
export type Rule = (proposed: Proposal, facts: SensorFacts, cfg: SupervisorConfig) => RuleOutcome;

/** Usable and younger than staleAfterS. */
export function fresh(f: SensorFacts, m: Modality, cfg: SupervisorConfig): boolean {
  return f.present[m] && (f.ageS[m] ?? 0) <= cfg.staleAfterS;
}

/** Rule 1, checked before any model runs. */
export function staleOverride(f: SensorFacts, cfg: SupervisorConfig): Override | undefined {
  if (fresh(f, "camera", cfg) || fresh(f, "radar", cfg)) return undefined;
  const age = (m: Modality): string => (f.present[m] ? `${(f.ageS[m] ?? 0).toFixed(2)} s old` : "missing");
  return { reason: "OVERRIDE_SENSORS_STALE", detail: `camera ${age("camera")}, radar ${age("radar")} (stale after ${cfg.staleAfterS} s): stop safely` };
}

/** Critical modalities that are missing or stale. */
export function missingCritical(f: SensorFacts, cfg: SupervisorConfig): Modality[] {
  return cfg.critical.filter((m) => !fresh(f, m, cfg));
}

const UNSAFE_UNDER_TTC: readonly ActionName[] = ["KEEP", "ACCELERATE", "LANE_LEFT", "LANE_RIGHT"];

/** Rule 2: the action after the TTC rule, and the override when it changed. */
export function ttcRule(action: ActionName, f: SensorFacts, cfg: SupervisorConfig): { action: ActionName; override?: Override } {
  const ttc = f.minTtcS;
  if (ttc === undefined || !(ttc < cfg.ttcThresholdS) || !UNSAFE_UNDER_TTC.includes(action)) return { action };
  // Changing lanes away from the obstacle is how drivers get out of its way — when there is time and room.
  if ((action === "LANE_LEFT" || action === "LANE_RIGHT") && ttc >= cfg.brakeTtcS && f.sideTtcS) {
    const side = action === "LANE_LEFT" ? f.sideTtcS.left : f.sideTtcS.right;
    if (side >= cfg.ttcThresholdS) return { action };
  }
  const replaced: ActionName = ttc < cfg.brakeTtcS ? "BRAKE_HARD" : "DECELERATE";
  return { action: replaced, override: { reason: "OVERRIDE_TTC", detail: `radar TTC ${ttc.toFixed(2)} s < ${cfg.ttcThresholdS} s: ${action} → ${replaced}` } };
}
