/** Facts and proposals for the rule specs: every sensor fresh, nothing approaching, unless a spec says otherwise. */
import type { ActionName } from "../../../../fusion/actions.ts";
import type { Proposal, SensorFacts } from "../../../../fusion/policy/supervisor.ts";

export const facts = (o: Partial<SensorFacts> = {}): SensorFacts => ({
  present: { camera: true, radar: true, gnss: true, ego: true, voice: false },
  ageS: { camera: 0.05, radar: 0.05, gnss: 0.1, ego: 0.02 },
  minTtcS: Infinity,
  sideTtcS: { left: Infinity, right: Infinity },
  confirmed: [],
  ...o,
});

export const proposal = (action: ActionName, envelopeDecelMps2 = 0): Proposal => ({ action, envelopeDecelMps2 });
