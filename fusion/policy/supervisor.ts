/**
 * The safety supervisor's vocabulary: its config, the facts its rules read, the decision they are handed and
 * hand on, and the override that says why one changed it. The rules themselves are one file each under
 * rules/, folded in a fixed order by supervise.ts (read its header for the order and why):
 *  1. camera and radar both stale (or missing)  → STOP without asking the model      rules/sensors-stale.ts
 *  2. radar time-to-collision below a threshold → no KEEP/ACCELERATE (nor an unsafe
 *     lane change): DECELERATE, or BRAKE_HARD below `brakeTtcS`                      rules/ttc.ts
 *  3. the deceleration a confirmed closing return needs caps every target speed;
 *     above ENVELOPE.hardDecelMps2 only BRAKE_HARD will do                           rules/envelope.ts
 *  4. a confirmed closing return inside the standstill gap → no KEEP/ACCELERATE: STOP rules/standstill-gap.ts
 * The rules are pure: what they need from earlier frames (the radar confirmation, ttc-confirm.ts) reaches
 * them as facts. A fallback for a missing critical sensor is chosen by the engine (engine.ts), which needs
 * `missingCritical` below.
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

/**
 * Rules 3 and 4: the gap kept to a closing return when braking for it, m; above `hardDecelMps2` only BRAKE_HARD
 * will do, m/s²; below `comfortDecelMps2` the closing is the model's to handle, m/s²; the standstill gap, m.
 */
export const ENVELOPE = { marginM: 4, hardDecelMps2: 4, comfortDecelMps2: 0.5, standstillGapM: 5 } as const;

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

/** Critical modalities that are missing or stale. */
export function missingCritical(f: SensorFacts, cfg: SupervisorConfig): Modality[] {
  return cfg.critical.filter((m) => !fresh(f, m, cfg));
}
