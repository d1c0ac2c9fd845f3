import assert from "node:assert/strict";
import { ttc } from "../../../../fusion/policy/rules/ttc.ts";
import { DEFAULT_SUPERVISOR } from "../../../../fusion/policy/supervisor.ts";
import { facts, proposal } from "./facts.ts";

describe("fusion/policy/rules/ttc (rule 2)", () => {
  const cfg = DEFAULT_SUPERVISOR;

  it("replaces KEEP and ACCELERATE under the threshold: DECELERATE, BRAKE_HARD under brakeTtcS, and says why", () => {
    const slow = ttc(proposal("ACCELERATE"), facts({ minTtcS: 2.5 }), cfg);
    assert.deepEqual(slow, { proposal: proposal("DECELERATE"), override: { reason: "OVERRIDE_TTC", detail: "radar TTC 2.50 s < 3 s: ACCELERATE → DECELERATE" } });
    const fast = ttc(proposal("KEEP"), facts({ minTtcS: 1.2 }), cfg);
    assert.deepEqual(fast, { proposal: proposal("BRAKE_HARD"), override: { reason: "OVERRIDE_TTC", detail: "radar TTC 1.20 s < 3 s: KEEP → BRAKE_HARD" } });
  });

  it("keeps the target-speed cap it was handed", () => {
    assert.equal(ttc(proposal("KEEP", 2), facts({ minTtcS: 2 }), cfg).proposal.envelopeDecelMps2, 2);
  });

  it("leaves braking actions alone, and every action when nothing is under the threshold or there is no radar", () => {
    for (const a of ["DECELERATE", "BRAKE_HARD", "STOP", "PULL_OVER"] as const) assert.equal(ttc(proposal(a), facts({ minTtcS: 0.5 }), cfg).override, undefined);
    assert.equal(ttc(proposal("KEEP"), facts({ minTtcS: Infinity }), cfg).override, undefined);
    assert.equal(ttc(proposal("KEEP"), facts({ minTtcS: 3 }), cfg).override, undefined, "the threshold itself is safe");
    assert.equal(ttc(proposal("KEEP"), facts({ minTtcS: undefined }), cfg).override, undefined);
  });

  it("lets a lane change out of the obstacle's lane stand when there is time and the target lane is clear", () => {
    const f = facts({ minTtcS: 2.5, sideTtcS: { left: Infinity, right: 1 } });
    assert.equal(ttc(proposal("LANE_LEFT"), f, cfg).override, undefined);
    assert.equal(ttc(proposal("LANE_RIGHT"), f, cfg).proposal.action, "DECELERATE", "a closing return in the right lane");
    assert.equal(ttc(proposal("LANE_LEFT"), { ...f, minTtcS: 1 }, cfg).proposal.action, "BRAKE_HARD", "no time left to change lanes");
    const { sideTtcS: _, ...unknown } = f;
    assert.equal(ttc(proposal("LANE_LEFT"), unknown, cfg).proposal.action, "DECELERATE", "the lanes beside unknown");
    assert.equal(ttc(proposal("KEEP"), f, cfg).proposal.action, "DECELERATE");
  });

  it("thresholds come from the config", () => {
    assert.equal(ttc(proposal("KEEP"), facts({ minTtcS: 2.5 }), { ...cfg, ttcThresholdS: 0 }).override, undefined);
    assert.equal(ttc(proposal("KEEP"), facts({ minTtcS: 2.5 }), { ...cfg, brakeTtcS: 2.6 }).proposal.action, "BRAKE_HARD");
  });
});
