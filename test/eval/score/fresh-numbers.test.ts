import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeModelRunner, makeInputSpec } from "../../../fusion/index.ts";
import { ACTION_CLASSES } from "../../../eval/score/open-loop.ts";
import { MODALITIES } from "../../../schemas/index.ts";
import { evalModelOf, loadEvalModel, type EvalModel } from "../../../eval/run/decider.ts";
import { evaluate, type EvaluateOptions } from "../../../eval/run/evaluate.ts";
import { memoryOpener } from "../../../eval/run/open-loop.ts";
import { scenariosForSeeds, withDuration } from "../../../eval/run/scenarios.ts";
import { firstTestLook, testSplitUnits } from "../../../eval/run/test-split.ts";
import { closedLoopNumbers, errorAnalysis, openLoopNumbers } from "../../../eval/score/fresh-numbers.ts";
import { recordDrive, TEST_EVAL_SETTINGS } from "../../bin/eval-helpers.ts";

const oneHot = (action: string): number[] => ACTION_CLASSES.map((a) => (a === action ? 1 : 0));
const fake = (id: string, action: string, dir = id): EvalModel =>
  evalModelOf(new FakeModelRunner(makeInputSpec([...MODALITIES]), () => oneHot(action), { id, now: () => performance.now(), maxBatch: 16, maxQueue: 64 }), dir);

describe("eval: the protocol of issue #20 (fresh-seed numbers, intervals, the test split's one look)", function () {
  this.timeout(300_000);
  const files: Record<string, Uint8Array> = {};
  const fresh = scenariosForSeeds([900001, 900002, 900003], 4);
  const options = (models: string[], scenarios = fresh, load?: EvaluateOptions["load"]): EvaluateOptions => ({
    models,
    data: ["a.mcap"],
    scenarios,
    suiteName: "seeds",
    ...TEST_EVAL_SETTINGS,
    load: load ?? (async (dir) => (dir === "expert" ? loadEvalModel("expert") : fake(dir, dir === "slow" ? "DECELERATE" : "KEEP"))),
    openLoopOptions: { open: memoryOpener(files) },
  });
  before(async () => {
    files["a.mcap"] = await recordDrive(scenariosForSeeds([900010, 900011], 6), 12);
  });

  it("open loop carries per-episode bootstrap intervals overall and per condition, and the situations", async () => {
    const { report } = await evaluate(options(["keep", "slow"]));
    for (const m of report.models) {
      const o = m.openLoop!;
      const iv = o.intervals!;
      assert.equal(iv.episodes, 2);
      for (const [lo, hi] of [iv.macroF1, iv.accuracy]) assert.ok(lo! <= hi! && lo! >= 0 && hi! <= 1, `${lo} ≤ ${hi}`);
      assert.ok(iv.macroF1[0]! <= o.macroF1 + 1e-9 || iv.macroF1[1]! >= o.macroF1 - 1e-9);
      for (const [dim, values] of Object.entries(o.byCondition)) {
        assert.deepEqual(Object.keys(iv.byCondition[dim]!), Object.keys(values), dim);
        for (const [v, s] of Object.entries(values)) {
          assert.ok(iv.byCondition[dim]![v]!.episodes >= 1 && iv.byCondition[dim]![v]!.episodes <= 2);
          assert.equal(s.confusion!.flat().reduce((a, b) => a + b, 0), s.n, `${dim} ${v}: the slice's confusion counts its decisions`);
        }
      }
      // Every decision has the expert's reason: the situations partition the decisions, largest first.
      const sit = Object.values(o.bySituation!);
      assert.equal(sit.reduce((a, s) => a + s.n, 0), o.n);
      assert.deepEqual(sit.map((s) => s.n), [...sit.map((s) => s.n)].sort((a, b) => b - a));
    }
    assert.equal(report.testSplit, undefined, "fresh seeds are no test split");
    const text = openLoopNumbers(report) + errorAnalysis(report.models[0]!.openLoop!, "keep");
    assert.match(text, /\| keep +\| \d+/);
    assert.match(text, /Confusion matrix/);
    assert.match(text, /Per situation/);
  });

  it("closed-loop numbers: the first model minus each other one (the comparison's sign and interval flipped), and the share of the expert's route", async () => {
    const { report } = await evaluate({ ...options(["keep", "slow", "expert"]), data: [] });
    const text = closedLoopNumbers(report, { iterations: 200 });
    const c = report.comparisons.find((x) => x.metric === "closedLoop.routeCompletion" && x.model === "slow")!;
    const row = text.split("\n").find((l) => l.startsWith("| keep vs slow"))!;
    assert.ok(row.includes(`${(-c.difference!).toFixed(3)} [${(-c.ci[1]!).toFixed(3)}, ${(-c.ci[0]!).toFixed(3)}]`), row);
    assert.ok(!text.includes("keep vs expert"), "the expert is the bound, not a pair");
    assert.match(text, /Route completion of keep as a share of the expert's on the same 3 episodes: \d+%/);
  });

  it("the test split: a card's first look is found, test units are counted, and a second look is reported", async () => {
    assert.equal(firstTestLook({ metrics: {} }), undefined);
    assert.match(firstTestLook({ metrics: { "test overall": {} }, created: "2026-01-01" })!, /2026-01-01/);
    assert.match(firstTestLook({ metrics: {}, testLook: { created: "2026-02-02" } })!, /2026-02-02/);
    const test = withDuration(scenariosForSeeds([3001, 3002]), 3);
    assert.equal(testSplitUnits(test, ["x.mcap#test-urban-fog-0-3001", "x.mcap#test-urban-fog-0-3001", "y.mcap#dataset-5-0-77", "z.mcap#validation-highway-clear-0-2000"]), 3);
    assert.equal(testSplitUnits(fresh, []), 0);

    const dir = mkdtempSync(join(tmpdir(), "fusiond-card-"));
    writeFileSync(join(dir, "card.json"), JSON.stringify({ metrics: { "test overall": { macroF1: 0.9 } }, created: "2026-12-01T00:00:00Z" }));
    const logs: string[] = [];
    const { report } = await evaluate({ ...options([dir, "slow"], test, async (d) => fake(d === dir ? "shipped" : d, "KEEP", d)), data: [], log: (l) => logs.push(l) });
    assert.deepEqual(report.testSplit, { episodes: 2, secondLooks: [{ model: "shipped", firstLook: "at training, 2026-12-01T00:00:00Z (the card's test metrics)" }] });
    assert.ok(logs.some((l) => /warning: shipped already saw the test split .* second look/.test(l)), logs.join("\n"));
  });
});
