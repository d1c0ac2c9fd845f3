import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODALITIES } from "../../../schemas/index.ts";
import { makeInputSpec } from "../../../fusion/features/config.ts";
import { createModelRunner } from "../../../fusion/inference/make-runner.ts";
import type { OrtModule } from "../../../fusion/inference/onnx-runtime.ts";
import { OnnxModelRunner } from "../../../fusion/inference/onnx-runner.ts";
import { TfModelRunner } from "../../../fusion/inference/runner.ts";
import { renderCard } from "../../../fusion/model/card.ts";
import { loadModelDir, saveModelDir, type ModelCard } from "../../../fusion/model/model-dir.ts";
import { MODEL_ONNX } from "../../../fusion/model/onnx-file.ts";
import { strategyByName } from "../../../fusion/model/strategies.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { cpuTarget, ortOrSkip } from "../ort.ts";
import { saveRecogniserFor } from "../recogniser.ts";
import { syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

describe("fusion/inference/onnx-runner", function () {
  this.timeout(60_000);
  const spec = makeInputSpec([...MODALITIES]);
  let ort: OrtModule;
  let dir: string;
  before(async function () {
    await useBackend("wasm");
    ort = await ortOrSkip(this);
    dir = mkdtempSync(join(tmpdir(), "fusiond-onnx-runner-"));
    const card: ModelCard = { name: "t", strategy: "attention", description: "test", command: "test", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: spec };
    await saveRecogniserFor(dir, spec);
    await saveModelDir(dir, strategyByName("attention").build(spec, { seed: 9, units: 8 }), card, renderCard);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("decides what the TF.js runner decides (within 1e-5), micro-batched, recording backend 'onnx', with its command recogniser on ONNX too", async () => {
    const samples = syntheticSamples(6, 4);
    const rows = samples.map((s) => Object.fromEntries(buildBatch([s], [0], spec).map((t, i) => [spec.inputs[i]!.name, t.dataSync() as Float32Array])));
    const onnx = await createModelRunner(await loadModelDir(dir), { chosen: "onnx", tfBackend: "onnx", log: [], ort: cpuTarget(ort) }, { now: () => 0, maxBatch: 4 });
    const tfr = new TfModelRunner(await loadModelDir(dir), { now: () => 0 });
    try {
      assert.ok(onnx instanceof OnnxModelRunner);
      assert.equal(onnx.backend, "onnx");
      assert.equal(onnx.commands?.backend, "onnx");
      await onnx.warmup();
      const got = await Promise.all(rows.map((r) => onnx.run(r)));
      const want = await Promise.all(rows.map((r) => tfr.run(r)));
      got.forEach((g, i) => g.probabilities.forEach((p, c) => assert.ok(Math.abs(p - want[i]!.probabilities[c]!) < 1e-5, `row ${i} class ${c}`)));
      // A batch of 2 after batches of 4 (and the warm-up's zeros): the stacked inputs' buffers are reused, stale rows past n unread.
      assert.deepEqual(got.map((g) => g.batchSize), [4, 4, 4, 4, 2, 2]);
      assert.equal(onnx.modelHash, tfr.modelHash, "decisions carry the hash of the tfjs model the ONNX file was exported from");
    } finally {
      onnx.close();
      tfr.close();
    }
  });

  it("a model directory without model.onnx fails at load with the command that writes it", async () => {
    const other = mkdtempSync(join(tmpdir(), "fusiond-onnx-missing-"));
    try {
      const mono = makeInputSpec(["ego"]);
      const card: ModelCard = { name: "m", strategy: "intermediate", description: "test", command: "test", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: mono };
      await saveModelDir(other, strategyByName("intermediate").build(mono, { seed: 1, units: 4 }), card, renderCard);
      rmSync(join(other, MODEL_ONNX));
      await assert.rejects(OnnxModelRunner.create(await loadModelDir(other), cpuTarget(ort), { now: () => 0 }), (e: Error & { code?: string }) => {
        assert.equal(e.code, "onnx_model_unavailable");
        assert.match(e.message, /cannot run on onnx: .*model\.onnx does not exist \(write it again with: fusiond export --model/);
        return true;
      });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
