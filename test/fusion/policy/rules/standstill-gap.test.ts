import assert from "node:assert/strict";
import { standstillGap } from "../../../../fusion/policy/rules/standstill-gap.ts";
import { DEFAULT_SUPERVISOR } from "../../../../fusion/policy/supervisor.ts";
import { facts, proposal } from "./facts.ts";

describe("fusion/policy/rules/standstill-gap (rule 4)", () => {
  const cfg = DEFAULT_SUPERVISOR;
  const near = (...confirmed: { range: number; closingMps: number }[]) => facts({ confirmed });

  it("no KEEP/ACCELERATE toward a closing return inside 5 m, however slow: STOP, naming the nearest", () => {
    assert.equal(standstillGap(proposal("ACCELERATE"), near({ range: 4.6, closingMps: 0.3 }), cfg).proposal.action, "STOP");
    const out = standstillGap(proposal("KEEP", 0.6), near({ range: 9, closingMps: 1 }, { range: 4.8, closingMps: 0.2 }, { range: 4.2, closingMps: 0.5 }), cfg);
    assert.deepEqual(out, {
      proposal: proposal("STOP", 0.6),
      override: { reason: "OVERRIDE_TTC", detail: "a return 4.2 m ahead closes at 0.5 m/s, inside the 5 m standstill gap: KEEP → STOP" },
    });
  });

  it("leaves returns outside the gap or moving away, other actions, and frames without radar alone", () => {
    assert.equal(standstillGap(proposal("ACCELERATE"), near({ range: 6, closingMps: 0.3 }), cfg).override, undefined, "outside the gap");
    assert.equal(standstillGap(proposal("ACCELERATE"), near({ range: 4, closingMps: -0.5 }), cfg).override, undefined, "moving away");
    for (const a of ["DECELERATE", "LANE_LEFT", "STOP", "BRAKE_HARD"] as const) assert.equal(standstillGap(proposal(a), near({ range: 4, closingMps: 0.5 }), cfg).override, undefined, a);
    assert.equal(standstillGap(proposal("KEEP"), facts({ confirmed: undefined }), cfg).override, undefined, "no radar");
  });
});
