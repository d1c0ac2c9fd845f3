import assert from "node:assert/strict";
import { envelope } from "../../../fusion/policy/rules/envelope.ts";
import { sensorsStale } from "../../../fusion/policy/rules/sensors-stale.ts";
import { standstillGap } from "../../../fusion/policy/rules/standstill-gap.ts";
import { ttc } from "../../../fusion/policy/rules/ttc.ts";
import { mergeOverride, NO_MODEL, SUPERVISOR_RULES, supervise } from "../../../fusion/policy/supervise.ts";
import { DEFAULT_SUPERVISOR, type Rule } from "../../../fusion/policy/supervisor.ts";
import { facts, proposal } from "./rules/facts.ts";

describe("fusion/policy/supervise (the combinator)", () => {
  const cfg = DEFAULT_SUPERVISOR;
  const after = SUPERVISOR_RULES.afterModel;

  it("folds the rules in the documented order: sensors-stale before the model; ttc, envelope, standstill-gap after it", () => {
    assert.deepEqual(SUPERVISOR_RULES.beforeModel, [sensorsStale]);
    assert.deepEqual(after, [ttc, envelope, standstillGap]);
  });

  it("hands each rule what the ones before it let through, and the facts and config unchanged", () => {
    const seen: string[] = [];
    const f = facts();
    const tag =
      (name: string, to: "KEEP" | "DECELERATE"): Rule =>
      (p, ff, c) => {
        assert.equal(ff, f);
        assert.equal(c, cfg);
        seen.push(`${name}:${p.action}`);
        return { proposal: { ...p, action: to } };
      };
    const v = supervise([tag("a", "DECELERATE"), tag("b", "KEEP")], proposal("ACCELERATE"), f, cfg);
    assert.deepEqual(seen, ["a:ACCELERATE", "b:DECELERATE"]);
    assert.deepEqual(v, proposal("KEEP"), "an action changed without an override is not an override");
  });

  it("nothing wrong: the proposal comes out as it went in, with no override", () => {
    assert.deepEqual(supervise(after, proposal("ACCELERATE"), facts(), cfg), proposal("ACCELERATE"));
    assert.deepEqual(supervise(SUPERVISOR_RULES.beforeModel, NO_MODEL, facts(), cfg), NO_MODEL);
  });

  it("the latest rule that overrides gives the reason; details read latest first, the override handed in last", () => {
    // TTC 1.4 s (rule 2: KEEP → BRAKE_HARD), so rule 3 has nothing to add; from a fallback model's KEEP.
    const fallback = { reason: "OVERRIDE_FALLBACK", detail: "camera missing or stale: fallback model no-camera (trained without it)" } as const;
    const hard = supervise(after, { ...proposal("KEEP"), override: fallback }, facts({ minTtcS: 1.4, confirmed: [{ range: 14, closingMps: 10 }] }), cfg);
    assert.equal(hard.action, "BRAKE_HARD");
    assert.deepEqual(hard.override, { reason: "OVERRIDE_TTC", detail: `radar TTC 1.40 s < 3 s: KEEP → BRAKE_HARD; ${fallback.detail}` });
    // TTC 2.8 s (rule 2: ACCELERATE → DECELERATE), then rule 3 needs 5 m/s²: BRAKE_HARD.
    const both = supervise(after, proposal("ACCELERATE"), facts({ minTtcS: 2.8, confirmed: [{ range: 14, closingMps: 10 }] }), cfg);
    assert.equal(both.action, "BRAKE_HARD");
    assert.equal(both.override!.detail, "closing at 10.0 m/s on a return 14.0 m ahead needs 5.0 m/s²: DECELERATE → BRAKE_HARD; radar TTC 2.80 s < 3 s: ACCELERATE → DECELERATE");
  });

  it("rule 2 before rule 4: a KEEP that TTC already replaced is not also stopped by the standstill gap", () => {
    const f = facts({ minTtcS: 2.9, confirmed: [{ range: 4.5, closingMps: 0.3 }] });
    const v = supervise(after, proposal("KEEP"), f, cfg);
    assert.equal(v.action, "DECELERATE");
    assert.equal(v.override!.detail, "radar TTC 2.90 s < 3 s: KEEP → DECELERATE");
    // Without the TTC rule the same frame stops.
    assert.equal(supervise([envelope, standstillGap], proposal("KEEP"), f, cfg).action, "STOP");
  });

  it("keeps rule 3's target-speed cap through rule 4", () => {
    const v = supervise(after, proposal("KEEP"), facts({ confirmed: [{ range: 4.5, closingMps: 1 }] }), cfg);
    assert.equal(v.action, "STOP");
    assert.equal(v.envelopeDecelMps2, 1);
  });

  it("mergeOverride: nothing new keeps the old; a first override stands alone", () => {
    const a = { reason: "OVERRIDE_FALLBACK", detail: "a" } as const;
    const b = { reason: "OVERRIDE_TTC", detail: "b" } as const;
    assert.equal(mergeOverride(undefined, undefined), undefined);
    assert.equal(mergeOverride(a, undefined), a);
    assert.equal(mergeOverride(undefined, b), b);
    assert.deepEqual(mergeOverride(a, b), { reason: "OVERRIDE_TTC", detail: "b; a" });
  });
});
