/** Acceptance: every model shipped in models/ loads and runs on every backend here (wasm, cpu) with equal outputs. */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadModelDir } from "../../../fusion/model/model-dir.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

const MODELS = "models";
const shipped = existsSync(MODELS) ? readdirSync(MODELS).filter((d) => existsSync(join(MODELS, d, "card.json"))).sort() : [];

describe("shipped models (models/*)", function () {
  this.timeout(60_000);
  after(() => useBackend("wasm"));

  it("ship the default fused model and the camera-only baseline", () => {
    assert.ok(shipped.includes("default"), `models/default missing (have: ${shipped.join(", ") || "none"})`);
    assert.ok(shipped.includes("camera-only"), "models/camera-only missing");
  });

  for (const name of shipped) {
    it(`${name}: loads and gives equal outputs on wasm and cpu`, async () => {
      const outputs: Float32Array[] = [];
      for (const backend of ["wasm", "cpu"] as const) {
        await useBackend(backend);
        const m = await loadModelDir(join(MODELS, name));
        const samples = syntheticSamples(16, 21, 4, m.spec.config); // each model's own feature config
        const xs = buildBatch(samples, samples.map((_, i) => i), m.spec);
        const y = m.model.predict(xs) as tf.Tensor;
        outputs.push(y.dataSync() as Float32Array);
        tf.dispose([...xs, y]);
        m.model.dispose();
      }
      const [w, c] = outputs as [Float32Array, Float32Array];
      let maxDiff = 0;
      w.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - c[i]!))));
      assert.ok(maxDiff < 1e-4, `max |wasm − cpu| = ${maxDiff}`);
    });
  }
});
