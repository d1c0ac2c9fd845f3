/**
 * Rule 4: a confirmed closing return nearer than ENVELOPE.standstillGapM stops KEEP and ACCELERATE
 * (OVERRIDE_TTC). At walking pace rule 3 asks for almost no deceleration (v² / 2(range − margin)), yet creeping
 * on ends in contact: in closed loop the default crept at 0.1–1.4 m/s into an obstacle the expert braked hard
 * for. Only with radar in the frame.
 */
import { ENVELOPE, type Rule } from "../supervisor.ts";

export const standstillGap: Rule = (proposed, f) => {
  const { action } = proposed;
  if (!f.confirmed || (action !== "KEEP" && action !== "ACCELERATE")) return { proposal: proposed };
  const near = f.confirmed.filter((c) => c.closingMps > 0 && c.range < ENVELOPE.standstillGapM).sort((a, b) => a.range - b.range)[0];
  if (!near) return { proposal: proposed };
  return {
    proposal: { ...proposed, action: "STOP" },
    override: { reason: "OVERRIDE_TTC", detail: `a return ${near.range.toFixed(1)} m ahead closes at ${near.closingMps.toFixed(1)} m/s, inside the ${ENVELOPE.standstillGapM} m standstill gap: ${action} → STOP` },
  };
};
