import assert from "node:assert/strict";
import { envelope, requiredDecel } from "../../../../fusion/policy/rules/envelope.ts";
import { DEFAULT_SUPERVISOR } from "../../../../fusion/policy/supervisor.ts";
import { facts, proposal } from "./facts.ts";

describe("fusion/policy/rules/envelope (rule 3)", () => {
  const cfg = DEFAULT_SUPERVISOR;

  it("requiredDecel: v² / 2(range − 4 m margin) for the worst closing return; nothing for one moving away", () => {
    assert.equal(requiredDecel([{ range: 24, closingMps: 2 }])!.decel, 0.1);
    assert.ok(Math.abs(requiredDecel([{ range: 14, closingMps: 10 }, { range: 50, closingMps: 5 }])!.decel - 5) < 1e-9, "the worst return counts");
    assert.equal(requiredDecel([{ range: 20, closingMps: -3 }]), undefined);
    assert.equal(requiredDecel([{ range: 4.2, closingMps: 1 }])!.decel, 1, "the gap under the margin counts as 0.5 m");
  });

  it("above 4 m/s²: BRAKE_HARD, with the need in the detail, and the need caps the target speed", () => {
    const out = envelope(proposal("DECELERATE"), facts({ confirmed: [{ range: 14, closingMps: 10 }] }), cfg);
    assert.equal(out.proposal.action, "BRAKE_HARD");
    assert.ok(Math.abs(out.proposal.envelopeDecelMps2 - 5) < 1e-9);
    assert.deepEqual(out.override, { reason: "OVERRIDE_TTC", detail: "closing at 10.0 m/s on a return 14.0 m ahead needs 5.0 m/s²: DECELERATE → BRAKE_HARD" });
    assert.equal(envelope(proposal("BRAKE_HARD"), facts({ confirmed: [{ range: 14, closingMps: 10 }] }), cfg).override, undefined, "already braking hard");
  });

  it("from 0.5 to 4 m/s²: the action stands, its target speed is capped", () => {
    const out = envelope(proposal("KEEP"), facts({ confirmed: [{ range: 30, closingMps: 6 }] }), cfg);
    assert.equal(out.override, undefined);
    assert.equal(out.proposal.action, "KEEP");
    assert.ok(Math.abs(out.proposal.envelopeDecelMps2 - 36 / 52) < 1e-9);
  });

  it("under 0.5 m/s², without a closing return or without radar: the proposal goes through as it came", () => {
    for (const f of [facts({ confirmed: [{ range: 24, closingMps: 2 }] }), facts({ confirmed: [{ range: 6, closingMps: -2 }] }), facts({ confirmed: undefined })]) {
      assert.deepEqual(envelope(proposal("ACCELERATE", 0.7), f, cfg), { proposal: proposal("ACCELERATE", 0.7) });
    }
  });
});
