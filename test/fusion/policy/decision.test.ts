/** fusion/policy/decision.ts: the target speed behind each action. */
import { strict as assert } from "node:assert";
import { KEEP_FROM_STANDSTILL_MPS, STANDSTILL_MPS, targetSpeed } from "../../../fusion/policy/decision.ts";
import { STANDSTILL_MPS as EXPERT_STANDSTILL_MPS } from "../../../sim/world/rules.ts";
import { commandedAccel } from "../../../sim/world/ego.ts";

describe("fusion/policy/decision: targetSpeed", () => {
  it("KEEP holds the speed while moving, and from a standstill starts gently (the expert's KEEP there is 0 < a ≤ 0.5)", () => {
    assert.equal(STANDSTILL_MPS, EXPERT_STANDSTILL_MPS, "the expert's standstill");
    assert.equal(targetSpeed("KEEP", 10, undefined), 10);
    assert.equal(targetSpeed("KEEP", STANDSTILL_MPS, undefined), STANDSTILL_MPS);
    assert.equal(targetSpeed("KEEP", 0, undefined), KEEP_FROM_STANDSTILL_MPS);
    assert.equal(targetSpeed("KEEP", undefined, undefined), KEEP_FROM_STANDSTILL_MPS, "no speed known: as standing");
    assert.ok(Math.abs(targetSpeed("KEEP", 0.2, undefined) - (0.2 + KEEP_FROM_STANDSTILL_MPS)) < 1e-9);
    // The vehicle moves off at a gentle KEEP acceleration: more than none, within KEEP's bound.
    const a = commandedAccel("KEEP", targetSpeed("KEEP", 0, undefined), 0);
    assert.ok(a > 0 && a <= 0.5, `accel ${a}`);
    // Never above the map's limit.
    assert.equal(targetSpeed("KEEP", 0, { speedLimitMps: 0.1 } as never), 0.1);
  });

  it("the other actions keep their targets at a standstill: STOP, BRAKE_HARD and PULL_OVER hold 0, lane changes the speed", () => {
    for (const action of ["STOP", "BRAKE_HARD", "PULL_OVER", "DECELERATE"] as const) assert.equal(targetSpeed(action, 0, undefined), 0, action);
    assert.equal(targetSpeed("LANE_LEFT", 0, undefined), 0);
    assert.equal(targetSpeed("ACCELERATE", 0, undefined), 1.2);
  });
});
