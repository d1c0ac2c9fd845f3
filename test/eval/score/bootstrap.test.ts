import assert from "node:assert/strict";
import { bootstrap, quantileSorted, resampleWeights } from "../../../eval/score/bootstrap.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { ConditionTracker, episodeRow, scoreClosedLoop } from "../../../eval/score/closed-loop.ts";
import { compareClosedLoop, compareOpenLoop } from "../../../eval/score/compare.ts";
import type { EpisodeRow } from "../../../eval/score/report.ts";
import type { TruthMessage } from "../../../schemas/index.ts";

const mean = (xs: number[]) => (w: readonly number[]) => xs.reduce((a, x, i) => a + w[i]! * x, 0) / w.reduce((a, b) => a + b, 0);

function row(scenario: string, collisions: number, km: number, fog: { collisions: number; km: number }): EpisodeRow {
  const d = (c: number, k: number) => ({ km: k, durationS: 10, collisions: c, collisionsPer100km: null, nearMisses: 0, nearMissesPer100km: null });
  return {
    scenario,
    seed: 1,
    weather: ["fog", "clear"],
    km,
    durationS: 90,
    collisions,
    nearMisses: 0,
    stopLinesPassed: 0,
    stopLineViolations: 0,
    speedLimitViolations: 0,
    speedingS: 0,
    voiceCommands: 0,
    voiceComplied: 0,
    voiceJudged: 0,
    routeCompletion: 1,
    completed: true,
    jerkRms: 1,
    maxAbsJerk: 2,
    decisions: 10,
    stepsWithoutDecision: 0,
    aborted: false,
    byCondition: { weather: { FOG: d(fog.collisions, fog.km), CLEAR: d(collisions - fog.collisions, km - fog.km) }, tunnel: {}, voice: {}, traffic: {} },
  };
}

describe("eval/score bootstrap and comparisons", () => {
  it("the seeded generator is deterministic and uniform enough", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.02);
  });

  it("resample weights draw n units n times", () => {
    const w = resampleWeights(7, mulberry32(3));
    assert.equal(w.length, 7);
    assert.equal(w.reduce((a, b) => a + b, 0), 7);
  });

  it("two units 0 and 1: resampled means are 0, ½, 1 with chances ¼, ½, ¼; the 95% interval is [0, 1]", () => {
    const rand = mulberry32(7);
    const seen = { 0: 0, 0.5: 0, 1: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) seen[String(mean([0, 1])(resampleWeights(2, rand)))]!++;
    assert.ok(Math.abs(seen["0.5"]! / 4000 - 0.5) < 0.03, JSON.stringify(seen));
    assert.ok(Math.abs(seen["0"]! / 4000 - 0.25) < 0.03, JSON.stringify(seen));
    const ci = bootstrap(2, mean([0, 1]), { seed: 7, iterations: 2000 });
    assert.equal(ci.estimate, 0.5);
    assert.equal(ci.lo, 0);
    assert.equal(ci.hi, 1);
  });

  it("the same seed gives the same interval; constant data gives a point interval; the interval covers the estimate", () => {
    const xs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const a = bootstrap(xs.length, mean(xs), { seed: 11 });
    const b = bootstrap(xs.length, mean(xs), { seed: 11 });
    assert.deepEqual(a, b);
    assert.ok(a.lo < a.estimate && a.estimate < a.hi);
    // The standard error of a mean of 10 values with sd ≈ 2.5 is ≈ 0.8: the 95% interval is about ±1.6 wide.
    assert.ok(a.hi - a.lo > 2 && a.hi - a.lo < 4.5, `${a.lo}..${a.hi}`);
    const c = bootstrap(5, mean([2, 2, 2, 2, 2]), { seed: 1 });
    assert.deepEqual([c.lo, c.estimate, c.hi], [2, 2, 2]);
  });

  it("quantiles interpolate between order statistics", () => {
    assert.equal(quantileSorted([0, 10], 0.25), 2.5);
    assert.equal(quantileSorted([1, 2, 3], 0.5), 2);
  });

  it("paired closed-loop comparison: half the collisions everywhere is a 50% reduction with a point interval", () => {
    const base = [row("a", 4, 1, { collisions: 2, km: 0.5 }), row("b", 2, 1, { collisions: 2, km: 0.4 })];
    const model = [row("a", 2, 1, { collisions: 1, km: 0.5 }), row("b", 1, 1, { collisions: 1, km: 0.4 })];
    const cmp = compareClosedLoop({ baseline: "camera", model: "fused" }, base, model, { seed: 1, iterations: 500 });
    const get = (m: string) => cmp.find((c) => c.metric === m)!;
    assert.equal(get("closedLoop.collisions").baselineValue, 6);
    assert.equal(get("closedLoop.collisions").modelValue, 3);
    assert.equal(get("closedLoop.collisions").reduction!.value, 0.5);
    assert.deepEqual(get("closedLoop.collisions").reduction!.ci, [0.5, 0.5]);
    assert.equal(get("closedLoop.collisionsPer100km").baselineValue, 300);
    assert.equal(get("closedLoop.byCondition.weather.FOG.collisions").reduction!.value, 0.5);
    assert.ok(Math.abs(get("closedLoop.byCondition.weather.FOG.collisionsPer100km").baselineValue! - (4 / 0.9) * 100) < 1e-9);
    assert.equal(get("closedLoop.collisions").units, 2);
  });

  it("paired open-loop comparison: identical models differ by exactly 0", () => {
    const conf = new Map([
      ["e1", [[5, 1], [0, 4]]],
      ["e2", [[2, 2], [1, 5]]],
    ]);
    // compareOpenLoop works on 8×8 matrices; pad.
    const pad = (m: number[][]) => Array.from({ length: 8 }, (_, r) => Array.from({ length: 8 }, (_, c) => m[r]?.[c] ?? 0));
    const c = new Map([...conf].map(([k, v]) => [k, pad(v)]));
    const [acc] = compareOpenLoop({ baseline: "a", model: "b" }, c, c, { seed: 2, iterations: 200 });
    assert.equal(acc!.metric, "openLoop.accuracy");
    assert.equal(acc!.baselineValue, 16 / 20);
    assert.deepEqual([acc!.difference, ...acc!.ci], [0, 0, 0]);
  });

  it("conditions: distance and time go to the condition of the step they start from; onsets count once", () => {
    const t = new ConditionTracker();
    const truth = (station: number, weather: "FOG" | "CLEAR", collision = false): Partial<TruthMessage> => ({ station_m: station, weather, in_tunnel: false, voice_command: "", objects: [], collision });
    t.observe(truth(0, "FOG"), 0);
    t.observe(truth(10, "FOG", true), 1);
    t.observe(truth(30, "CLEAR", true), 2);
    t.observe(truth(60, "CLEAR"), 3);
    const by = t.byCondition();
    assert.equal(by["weather"]!["FOG"]!.km, 0.03);
    assert.equal(by["weather"]!["CLEAR"]!.km, 0.03);
    assert.equal(by["weather"]!["FOG"]!.collisions, 1);
    assert.equal(by["weather"]!["CLEAR"]!.collisions, 0);
    assert.equal(t.collisions, 1);
    const r = episodeRow({
      scenario: "s",
      seed: 1,
      weather: ["fog"],
      score: {
        episodeId: "s-1",
        distanceM: 60,
        durationS: 3,
        routeCompletion: 0.5,
        completed: false,
        collisions: 1,
        nearMisses: 0,
        minTtcS: 1.5,
        stopLinesPassed: 0,
        stopLineViolations: 0,
        speedLimitViolations: 0,
        speedingS: 0,
        voiceCommands: 2,
        voiceComplied: 1,
        voiceCompliance: 1,
        voice: [
          { command: "stop", heardAtS: 0.5, outcome: "complied", feasibleS: 1 },
          { command: "speed up", heardAtS: 1, outcome: "excused", feasibleS: 0 },
        ],
        jerkRms: 1,
        maxAbsJerk: 3,
      },
      byCondition: by,
      decisions: 3,
      stepsWithoutDecision: 1,
      aborted: false,
    });
    const rep = scoreClosedLoop([r, { ...r, scenario: "t" }], { suite: "x", transport: "in-process", masked: [] });
    assert.equal(rep.collisions, 2);
    assert.ok(Math.abs(rep.km - 0.12) < 1e-12);
    assert.ok(Math.abs(rep.collisionsPer100km! - (2 / 0.12) * 100) < 1e-9);
    assert.equal(rep.voiceCompliance, 1);
    assert.equal(rep.byCondition["weather"]!["FOG"]!.collisions, 2);
    assert.ok(Math.abs(rep.byCondition["weather"]!["FOG"]!.collisionsPer100km! - (2 / 0.06) * 100) < 1e-9);
  });
});
