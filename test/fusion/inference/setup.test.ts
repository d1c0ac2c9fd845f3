import assert from "node:assert/strict";
import { createDecisionEngine } from "../../../fusion/inference/setup.ts";
import { mulberry32 } from "../../../fusion/train/random.ts";
import { randomScene, sceneFrame } from "../synthetic.ts";

describe("fusion/inference/setup", function () {
  this.timeout(60_000);
  it("loads the shipped default on the selected backend, warms up and decides with provenance", async () => {
    const lines: string[] = [];
    const { engine, backend, close } = await createDecisionEngine({ backend: "wasm", nowNs: () => 0n, runner: { now: () => 0 }, log: (l) => lines.push(l) });
    assert.equal(backend.chosen, "wasm");
    assert.ok(lines.some((l) => l.startsWith("model default")));
    const rand = mulberry32(3);
    const d = await engine.decide(sceneFrame(randomScene(rand), 0, rand));
    assert.equal(d.model_id, "default");
    assert.equal(d.backend, "wasm");
    assert.equal(d.model_hash.length, 16);
    assert.equal(d.probabilities.length, 8);
    close();
  });

  it("a missing model directory fails at setup, not at the first frame", async () => {
    await assert.rejects(createDecisionEngine({ model: "models/nope", backend: "wasm", nowNs: () => 0n, runner: { now: () => 0 } }), { code: "model_not_found" });
  });
});
