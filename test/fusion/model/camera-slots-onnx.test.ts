import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, makeInputSpec } from "../../../fusion/features/config.ts";
import { sessionOptions, type OrtModule } from "../../../fusion/inference/onnx-runtime.ts";
import { exportOnnx, ONNX_OUTPUT_NAME } from "../../../fusion/model/onnx-export.ts";
import { STRATEGIES, strategyByName } from "../../../fusion/model/strategies.ts";
import { wideEnsembleOf } from "../../../fusion/model/wide-ensemble.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { cpuTarget, ortOrSkip } from "../ort.ts";
import { syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

describe("fusion/model/onnx-export: camera slots (several cameras)", function () {
  this.timeout(60_000);
  const config = { ...DEFAULT_FEATURE_CONFIG, cameras: [...DEFAULT_CAMERA_IDS] };
  const spec = makeInputSpec([...MODALITIES], config);
  const samples = syntheticSamples(8, 11, 4, config);
  let ort: OrtModule;
  before(async function () {
    await useBackend("wasm");
    ort = await ortOrSkip(this);
  });

  const cases = [
    ...STRATEGIES.map((name) => ({ label: name, make: () => strategyByName(name).build(spec, { seed: 4, units: 8, head: [16] }) })),
    // The default's form: intermediate members fused side by side.
    { label: "intermediate wide ensemble of 3", make: () => wideEnsembleOf([4, 5, 6].map((seed) => strategyByName("intermediate").build(spec, { seed, units: 8, head: [16, 8] }))) },
  ];
  for (const { label, make } of cases) {
    it(`${label}: ONNX Runtime gives tfjs's probabilities (within 1e-5), with camera slots masked and not`, async () => {
      const model = make();
      const bytes = exportOnnx(model);
      const session = await ort.InferenceSession.create(bytes, sessionOptions(cpuTarget(ort)));
      try {
        const maskAt = spec.inputs.findIndex((i) => i.name === "camera_mask");
        const full = buildBatch(samples, [0, 1, 2, 3, 4, 5, 6, 7], spec);
        // Rows with some slots masked (their features left in place: the layers must ignore them).
        const some = full.map((x, i) => (i === maskAt ? x.mul(tf.tensor2d([[1, 0, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 1, 0]])) : x));
        for (const xs of [full, some]) {
          const want = (model.predict(xs) as tf.Tensor).dataSync();
          const feeds = Object.fromEntries(session.inputNames.map((n, i) => [n, new ort.Tensor("float32", xs[i]!.dataSync() as Float32Array, xs[i]!.shape)]));
          const got = (await session.run(feeds))[ONNX_OUTPUT_NAME]!.data as Float32Array;
          assert.equal(got.length, want.length);
          let d = 0;
          for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
          assert.ok(d < 1e-5, `max |ONNX − tfjs| = ${d}`);
        }
      } finally {
        await session.release();
        model.dispose();
      }
    });
  }
});
