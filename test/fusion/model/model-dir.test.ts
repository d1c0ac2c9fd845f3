import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { makeInputSpec } from "../../../fusion/features/config.ts";
import { saveRecogniserFor } from "../recogniser.ts";
import { renderCard } from "../../../fusion/model/card.ts";
import { INPUT_SPEC_JSON, loadModelDir, saveModelDir, type ModelCard } from "../../../fusion/model/model-dir.ts";
import { STRATEGIES, strategyByName } from "../../../fusion/model/strategies.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

const card = (spec: ModelCard["inputSpec"], strategy: string): ModelCard => ({
  name: "t",
  strategy,
  description: "test",
  command: "test",
  data: { files: [], samples: 0, train: 0, val: 0 },
  training: {},
  metrics: {},
  inputSpec: spec,
});

describe("fusion/model/model-dir", function () {
  this.timeout(60_000);
  let dir: string;
  const spec = makeInputSpec([...MODALITIES]);
  const samples = syntheticSamples(8, 3);
  before(() => useBackend("wasm"));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-model-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of STRATEGIES) {
    it(`${name}: save → load gives the same outputs, and the card carries the hash`, async () => {
      const model = strategyByName(name).build(spec, { seed: 4 });
      const xs = buildBatch(samples, [0, 1, 2, 3], spec);
      const before = (model.predict(xs) as tf.Tensor).dataSync();
      await saveRecogniserFor(dir, spec);
      const hash = await saveModelDir(dir, model, card(spec, name), renderCard);
      const loaded = await loadModelDir(dir);
      assert.ok(loaded.commands, "the recogniser comes with the model");
      assert.equal(loaded.hash, hash);
      assert.equal(JSON.parse(readFileSync(join(dir, "card.json"), "utf8")).hash, hash);
      assert.match(readFileSync(join(dir, "card.md"), "utf8"), /## Made by/);
      const after = (loaded.model.predict(xs) as tf.Tensor).dataSync();
      before.forEach((v, i) => assert.ok(Math.abs(v - after[i]!) < 1e-6));
    });
  }

  it("a model that reads the voice request without its voice-command/ recogniser is a clear error at load time", async () => {
    assert.ok(spec.inputs.some((i) => i.name === "intent"));
    await saveModelDir(dir, strategyByName("intermediate").build(spec, { seed: 1 }), card(spec, "intermediate"), renderCard);
    await assert.rejects(loadModelDir(dir), (e: Error & { code?: string }) => e.code === "model_incomplete" && /voice-command\//.test(e.message));
  });

  it("a missing file is a clear error at load time", async () => {
    await saveModelDir(dir, strategyByName("late").build(spec, { seed: 1 }), card(spec, "late"), renderCard);
    unlinkSync(join(dir, "weights.bin"));
    await assert.rejects(loadModelDir(dir), (e: Error & { code?: string }) => e.code === "model_incomplete" && /weights\.bin/.test(e.message));
    await assert.rejects(loadModelDir(join(dir, "nope")), { code: "model_not_found" });
  });

  it("a truncated weights file is a clear error at load time", async () => {
    await saveModelDir(dir, strategyByName("early").build(spec, { seed: 1 }), card(spec, "early"), renderCard);
    writeFileSync(join(dir, "weights.bin"), new Uint8Array(100));
    await assert.rejects(loadModelDir(dir), { code: "model_corrupt" });
  });

  it("an input spec that the feature code no longer produces is rejected at load time", async () => {
    await saveModelDir(dir, strategyByName("intermediate").build(spec, { seed: 1 }), card(spec, "intermediate"), renderCard);
    const stored = JSON.parse(readFileSync(join(dir, INPUT_SPEC_JSON), "utf8"));
    stored.inputs[0].shape = [16, 99];
    writeFileSync(join(dir, INPUT_SPEC_JSON), JSON.stringify(stored));
    await assert.rejects(loadModelDir(dir), (e: Error & { code?: string }) => e.code === "model_spec_mismatch" && /camera/.test(e.message));
    stored.inputs[0].shape = [16, 192];
    stored.featuresVersion = 0;
    writeFileSync(join(dir, INPUT_SPEC_JSON), JSON.stringify(stored));
    await assert.rejects(loadModelDir(dir), /features version/);
  });

  it("a spec whose modalities differ from the model's inputs is rejected at load time", async () => {
    await saveModelDir(dir, strategyByName("intermediate").build(spec, { seed: 1 }), card(spec, "intermediate"), renderCard);
    writeFileSync(join(dir, INPUT_SPEC_JSON), JSON.stringify(makeInputSpec(["camera"])));
    await assert.rejects(loadModelDir(dir), { code: "model_spec_mismatch" });
  });
});
