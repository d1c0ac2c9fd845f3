import assert from "node:assert/strict";
import { legendLayout } from "../../../eval/score/svg.ts";
import { metricLabel } from "../../../eval/score/verdict.ts";

describe("eval/score: the report's verdict and names", () => {
  it("names metric ids as people read them", () => {
    assert.equal(metricLabel("closedLoop.collisions"), "closed loop · collisions");
    assert.equal(metricLabel("closedLoop.byCondition.weather.FOG.collisionsPer100km"), "closed loop · weather FOG · collisions per 100 km");
    assert.equal(metricLabel("closedLoop.byCondition.tunnel.in tunnel.collisions"), "closed loop · tunnel in tunnel · collisions");
    assert.equal(metricLabel("closedLoop.comfort.jerkRmsMean"), "closed loop · jerk rms, mean (m/s³)");
    assert.equal(metricLabel("openLoop.macroF1"), "open loop · macro-F1");
    assert.equal(metricLabel("openLoop.someNewThing"), "open loop · some new thing");
  });

  it("legends wrap onto new rows instead of running off the chart", () => {
    const names = ["camera-only", "default", "early", "late", "attention", "a much longer model name here", "and another rather long one"];
    const { at, rows } = legendLayout(names, 48, 630);
    assert.ok(rows >= 2);
    names.forEach((n, i) => assert.ok(at[i]!.x + 14 + 6 * n.length <= 630, `${n} fits`));
    assert.deepEqual(legendLayout(["a", "b"], 48, 630), { at: [{ x: 48, y: 6 }, { x: 48 + 36, y: 6 }], rows: 1 });
  });
});
