import assert from "node:assert/strict";
import { legendLayout } from "../../../eval/score/svg.ts";
import { readFileSync } from "node:fs";
import { checkReport } from "../../../eval/score/report.ts";
import { metricLabel, verdictSentences } from "../../../eval/score/verdict.ts";

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

  it("a model added with another baseline than the first (scripts/add-eval-model.ts) is said against that one", () => {
    const r = checkReport(JSON.parse(readFileSync(new URL("../../../docs/reports/strategies.json", import.meta.url), "utf8")));
    const late = r.models.find((m) => m.model.id === "late")!;
    const added = { ...late, model: { ...late.model, id: "added" } };
    const comparisons = r.comparisons.filter((c) => c.model === "late").map((c) => ({ ...c, model: "added", baseline: "default" }));
    const said = verdictSentences({ ...r, models: [...r.models, added], comparisons: [...r.comparisons, ...comparisons] });
    assert.ok(said.some((l) => l.startsWith("added against default: ")), said.join("\n"));
    assert.ok(said.some((l) => l.startsWith("late against camera-only: ")), said.join("\n"));
  });
});
