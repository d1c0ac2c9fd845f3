import assert from "node:assert/strict";
import { runEpisodeInProcess } from "../../../eval/run/closed-loop.ts";
import { loadEvalModel } from "../../../eval/run/decider.ts";
import { scenariosForSeeds } from "../../../eval/run/scenarios.ts";

describe("eval: the classic baseline (`--compare classic`)", function () {
  this.timeout(120_000);

  it("loads as a model that reads no camera, hears through the default model's recogniser, and drives a closed-loop episode", async () => {
    const m = await loadEvalModel("classic", "wasm");
    try {
      assert.equal(m.info.id, "classic");
      assert.equal(m.info.strategy, "classic");
      assert.deepEqual(m.info.modalities, ["radar", "gnss", "ego", "voice"]);
      assert.match(m.info.hash, /^[0-9a-f]{16}$/);
      assert.ok(m.runner.commands, "a spoken-command recogniser");
      // Each stream of frames gets its own state.
      assert.notEqual(m.stream!(), m.stream!());
      const [spec] = scenariosForSeeds([7], 12);
      const r = await runEpisodeInProcess(spec!, m, { mask: ["camera"] });
      assert.ok(r.row.decisions > 200, `decisions: ${r.row.decisions}`);
      assert.equal(r.row.collisions, 0);
      assert.ok(r.row.km > 0.1, `it drives: ${r.row.km} km`);
      const actions = new Set(r.points.map((p) => (p as { decision?: string }).decision));
      assert.ok(actions.size >= 2, `more than one action: ${[...actions].join(",")}`);
    } finally {
      m.close();
    }
  });
});
