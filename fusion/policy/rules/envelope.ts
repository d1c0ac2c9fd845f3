/**
 * Rule 3: the deceleration needed to match the speed of the nearest confirmed closing return before the gap
 * to it shrinks below ENVELOPE.marginM bounds the target speed of every action (from ENVELOPE.comfortDecelMps2
 * up: below it the closing is the model's to handle, a far lead or a gentle approach); above
 * ENVELOPE.hardDecelMps2 the action is BRAKE_HARD (OVERRIDE_TTC). Only with radar in the frame.
 */
import { ENVELOPE, type Rule } from "../supervisor.ts";

/**
 * The deceleration (m/s², ≥ 0) that brings the closing speed to zero before the gap to the nearest confirmed
 * closing return shrinks below ENVELOPE.marginM: v_c² / (2 (range − margin)); undefined when nothing closes.
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

export const envelope: Rule = (proposed, f) => {
  const need = f.confirmed ? requiredDecel(f.confirmed) : undefined;
  if (!need) return { proposal: proposed };
  const envelopeDecelMps2 = need.decel >= ENVELOPE.comfortDecelMps2 ? need.decel : proposed.envelopeDecelMps2;
  if (need.decel > ENVELOPE.hardDecelMps2 && proposed.action !== "BRAKE_HARD") {
    const detail = `closing at ${need.closingMps.toFixed(1)} m/s on a return ${need.range.toFixed(1)} m ahead needs ${need.decel.toFixed(1)} m/s²: ${proposed.action} → BRAKE_HARD`;
    return { proposal: { action: "BRAKE_HARD", envelopeDecelMps2 }, override: { reason: "OVERRIDE_TTC", detail } };
  }
  return { proposal: { ...proposed, envelopeDecelMps2 } };
};
