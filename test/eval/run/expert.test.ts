import assert from "node:assert/strict";
import { FakeModelRunner, makeInputSpec } from "../../../fusion/index.ts";
import { ACTION_CLASSES } from "../../../eval/score/open-loop.ts";
import { MODALITIES, type Modality } from "../../../schemas/index.ts";
import { expertEpisode } from "../../../sim/episode.ts";
import { runEpisodeInProcess } from "../../../eval/run/closed-loop.ts";
import { evalModelOf, loadEvalModel, type EvalModel } from "../../../eval/run/decider.ts";
import { evaluate, type EvaluateOptions } from "../../../eval/run/evaluate.ts";
import { memoryOpener } from "../../../eval/run/open-loop.ts";
import { scenariosForSeeds } from "../../../eval/run/scenarios.ts";
import { summaryText } from "../../../eval/score/summary.ts";
import { renderHtml } from "../../../eval/score/html.ts";
import { recordDrive, TEST_EVAL_SETTINGS } from "../../bin/eval-helpers.ts";

const oneHot = (action: string): number[] => ACTION_CLASSES.map((a) => (a === action ? 1 : 0));
const fake = (id: string, action: string, modalities: Modality[] = [...MODALITIES]): EvalModel =>
  evalModelOf(new FakeModelRunner(makeInputSpec(modalities), () => oneHot(action), { id, now: () => performance.now(), maxBatch: 16, maxQueue: 64 }));

describe("eval: the expert's row (`--compare expert`)", function () {
  this.timeout(300_000);

  it("drives a closed-loop episode exactly as the simulator's own expert drive does", async () => {
    const expert = await loadEvalModel("expert");
    assert.deepEqual({ ...expert.info, hash: "" }, { id: "expert", hash: "", dir: "expert", strategy: "expert", modalities: [], backend: "none" });
    assert.match(expert.info.hash, /^[0-9a-f]{16}$/);
    const [spec] = scenariosForSeeds([3003], 12);
    const r = await runEpisodeInProcess(spec!, expert, { mask: [] });
    // sim/episode.ts expertEpisode, all sensors modelled: the same drive.
    const gen = expertEpisode(spec!);
    let next = gen.next();
    while (!next.done) next = gen.next();
    const score = next.value;
    assert.equal(r.row.km, score.distanceM / 1000);
    assert.equal(r.row.collisions, score.collisions);
    assert.equal(r.row.routeCompletion, score.routeCompletion);
    assert.equal(r.row.decisions, r.points.length - 1);
    assert.equal(r.row.stepsWithoutDecision, 0);
    // The timeline's decision is the expert's label each step.
    assert.ok(r.points.slice(0, -1).every((p) => p.decision === p.expert));
    assert.ok(r.row.km > 0.1, `it drives: ${r.row.km} km`);
  });

  it("on a suite seed: no collision, and route completion no lower than the default model's", async () => {
    const [spec] = scenariosForSeeds([3003], 20);
    const expert = await loadEvalModel("expert");
    const def = await loadEvalModel(new URL("../../../models/default", import.meta.url).pathname, "wasm");
    try {
      const e = await runEpisodeInProcess(spec!, expert, { mask: [] });
      const d = await runEpisodeInProcess(spec!, def, { mask: [] });
      assert.equal(e.row.collisions, 0);
      assert.ok(e.row.routeCompletion >= d.row.routeCompletion, `expert ${e.row.routeCompletion} vs default ${d.row.routeCompletion}`);
      assert.ok(e.row.routeCompletion > 0.5, `expert route completion ${e.row.routeCompletion}`);
    } finally {
      def.close();
    }
  });

  describe("in the compare report", () => {
    const specs = scenariosForSeeds([3001, 3002, 3005], 3);
    const files: Record<string, Uint8Array> = {};
    before(async () => {
      files["a.mcap"] = await recordDrive([specs[0]!], 3);
    });
    const options = (models: string[]): EvaluateOptions => ({
      models,
      data: ["a.mcap"],
      scenarios: specs,
      suiteName: "seeds",
      ...TEST_EVAL_SETTINGS,
      load: async (dir) => (dir === "expert" ? loadEvalModel("expert") : fake(dir, dir === "slow" ? "DECELERATE" : "KEEP")),
      openLoopOptions: { open: memoryOpener(files) },
    });

    it("has the expert's row: closed loop with paired comparisons, no open loop; the other models' comparisons unchanged", async () => {
      const logs: string[] = [];
      const { report } = await evaluate({ ...options(["keep", "expert", "slow"]), log: (l) => logs.push(l) });
      const [keep, expert, slow] = report.models;
      assert.deepEqual(
        { id: expert!.model.id, strategy: expert!.model.strategy, backend: expert!.model.backend },
        { id: "expert", strategy: "expert", backend: "none" },
      );
      assert.equal(expert!.openLoop, undefined);
      assert.equal(expert!.closedLoop!.episodes, 3);
      assert.deepEqual(expert!.closedLoop!.masked, []);
      assert.ok(logs.some((l) => /expert: no open loop/.test(l)), logs.join("\n"));
      const vsExpert = report.comparisons.filter((c) => c.model === "expert");
      assert.ok(vsExpert.some((c) => c.metric === "closedLoop.routeCompletion" && c.units === 3));
      assert.ok(vsExpert.some((c) => c.metric === "closedLoop.collisionsPer100km"));
      assert.ok(!vsExpert.some((c) => c.metric.startsWith("openLoop.")));
      // The model after the expert is still compared with the baseline, open loop included (its own records).
      const vsSlow = report.comparisons.filter((c) => c.model === "slow");
      assert.ok(vsSlow.some((c) => c.metric === "openLoop.macroF1"));
      const own = await evaluate(options(["keep", "slow"]));
      assert.deepEqual(vsSlow, own.report.comparisons.filter((c) => c.model === "slow"));
      assert.ok(keep!.openLoop && slow!.openLoop);
      // The route completion the expert row shows is its episodes' (fake models stand still; the expert drives).
      assert.ok(expert!.closedLoop!.routeCompletion > keep!.closedLoop!.routeCompletion);
      assert.match(summaryText(report), /expert/);
      assert.match(renderHtml(report), /expert/);
    });

    it("as the first model (the baseline of the comparisons)", async () => {
      const { report } = await evaluate(options(["expert", "keep"]));
      assert.equal(report.models[0]!.model.id, "expert");
      assert.equal(report.openLoop, undefined);
      assert.ok(report.comparisons.some((c) => c.baseline === "expert" && c.model === "keep" && c.metric === "closedLoop.routeCompletion"));
    });

    it("alone in open loop: refused, saying to add closed loop", async () => {
      await assert.rejects(evaluate({ ...options(["expert"]), scenarios: [] }), (e: Error & { code?: string }) => e.code === "expert_without_closed_loop" && /--closed-loop/.test(e.message));
    });

    it("over MQTT: refused before anything runs, saying to run it in process", async () => {
      await assert.rejects(evaluate({ ...options(["keep", "expert"]), transport: "mqtt" }), (e: Error & { code?: string }) => e.code === "expert_over_mqtt" && /without --mqtt/.test(e.message));
    });
  });
});
