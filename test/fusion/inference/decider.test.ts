import assert from "node:assert/strict";
import { loadDecider } from "../../../fusion/inference/decider.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { randomScene, sceneFrame } from "../synthetic.ts";

describe("fusion/inference/decider: the one model loader", function () {
  this.timeout(60_000);
  it("loads the shipped default on the selected backend, warms up and decides with provenance", async () => {
    const decider = await loadDecider({ modelDir: "models/default", backend: "wasm", nowNs: () => 0n });
    try {
      // The backend is chosen once per process (as in the daemon): an earlier test in this process may have
      // chosen cpu already, which then stands; wasm otherwise.
      assert.ok(["wasm", "cpu"].includes(decider.backend.chosen), decider.backend.chosen);
      assert.equal(decider.primary.modelId, "default");
      const rand = mulberry32(3);
      const d = await decider.decide(sceneFrame(randomScene(rand), 0, rand));
      assert.equal(d.model_id, "default");
      // Provenance: the backend the runner actually ran on (TF.js's global backend may be one an earlier test set).
      assert.equal(d.backend, decider.primary.backend);
      assert.ok(["wasm", "cpu"].includes(d.backend), d.backend);
      assert.equal(d.model_hash.length, 16);
      assert.equal(d.probabilities.length, 8);
    } finally {
      decider.close();
    }
  });

  it("a missing model directory fails at load, not at the first frame", async () => {
    await assert.rejects(loadDecider({ modelDir: "models/nope", backend: "wasm", nowNs: () => 0n }), { code: "model_not_found" });
  });
});
