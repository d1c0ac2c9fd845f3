/**
 * Rule 1: camera and radar both stale or missing → STOP (OVERRIDE_SENSORS_STALE). With neither sensor that
 * sees the road fresh there is nothing to check any answer against, so the supervisor runs it before the model
 * and, when it fires, the model is not asked and no later rule runs (supervise.ts).
 */
import type { Modality } from "../../../schemas/index.ts";
import { fresh, type Rule } from "../supervisor.ts";

export const sensorsStale: Rule = (proposed, f, cfg) => {
  if (fresh(f, "camera", cfg) || fresh(f, "radar", cfg)) return { proposal: proposed };
  const age = (m: Modality): string => (f.present[m] ? `${(f.ageS[m] ?? 0).toFixed(2)} s old` : "missing");
  return {
    proposal: { action: "STOP", envelopeDecelMps2: 0 },
    override: { reason: "OVERRIDE_SENSORS_STALE", detail: `camera ${age("camera")}, radar ${age("radar")} (stale after ${cfg.staleAfterS} s): stop safely` },
  };
};
