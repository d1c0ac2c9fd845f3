import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { makeInputSpec } from "../../../fusion/features/config.ts";
import { STRATEGIES, strategyByName } from "../../../fusion/model/strategies.ts";
import { flopsPerSample } from "../../../fusion/model/flops.ts";
import { buildBatch, splitByGroup } from "../../../fusion/train/dataset.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { train } from "../../../fusion/train/trainer.ts";
import { pretrain, PRETRAIN_TASKS } from "../../../fusion/train/pretrain.ts";
import { COMMANDS, syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

describe("fusion/model/strategies", function () {
  this.timeout(120_000);
  const spec = makeInputSpec([...MODALITIES]);
  const samples = syntheticSamples(360, 7, 4);
  const split = splitByGroup(samples, 0.25, mulberry32(1));
  before(() => useBackend("wasm"));

  for (const name of STRATEGIES) {
    it(`${name}: trains on a tiny dataset on wasm and beats chance`, async () => {
      const r = await train(samples, split, { strategy: name, spec, seed: 3, epochs: 4, batchSize: 32, learningRate: 3e-3, patience: 4, modalityDropout: 0.1 });
      assert.ok(r.history.length >= 1);
      assert.ok(r.history.at(-1)!.loss < r.history[0]!.loss + 1e-3 || r.val.accuracy > 0.3, "loss goes down or the model learned something");
      assert.ok(r.val.accuracy > 0.25, `${name} val accuracy ${r.val.accuracy.toFixed(2)} (chance ≈ 0.2)`);
      assert.ok(flopsPerSample(r.model) > 10_000);
      r.model.dispose();
    });
  }

  for (const name of ["intermediate", "late", "attention"] as const) {
    it(`${name}: a masked modality has no effect on the output, whatever its features`, () => {
      const model = strategyByName(name).build(spec, { seed: 1 });
      const xs = buildBatch(samples, [0, 1, 2], spec);
      const presence = xs[spec.inputs.findIndex((i) => i.name === "presence")]!;
      const masked = presence.mul(tf.tensor1d([0, 1, 1, 1, 1, 0, 1, 1, 1, 1])); // camera off
      const camAt = spec.inputs.findIndex((i) => i.name === "camera");
      const withA = xs.map((x, i) => (i === camAt ? tf.randomNormal(x.shape, 0, 1, "float32", 1) : x === presence ? masked : x));
      const withB = xs.map((x, i) => (i === camAt ? tf.randomNormal(x.shape, 0, 1, "float32", 2) : x === presence ? masked : x));
      const a = (model.predict(withA) as tf.Tensor).dataSync();
      const b = (model.predict(withB) as tf.Tensor).dataSync();
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5));
      model.dispose();
    });
  }

  it("head widths: the shared head gets one hidden layer per width, the first under its historical name", () => {
    for (const name of ["early", "intermediate", "attention"] as const) {
      const deep = strategyByName(name).build(spec, { seed: 1, head: [48, 24] });
      const widths = deep.layers.filter((l) => l.name.startsWith("head_hidden")).map((l) => [l.name, l.getConfig()["units"]]);
      assert.deepEqual(widths, [["head_hidden", 48], ["head_hidden_2", 24]], name);
      const plain = strategyByName(name).build(spec, { seed: 1 });
      assert.deepEqual(plain.layers.filter((l) => l.name.startsWith("head_hidden")).map((l) => l.getConfig()["units"]), [64], `${name}: default [64]`);
      assert.ok(flopsPerSample(deep) !== flopsPerSample(plain));
      deep.dispose();
      plain.dispose();
    }
    assert.throws(() => strategyByName("intermediate").build(spec, { seed: 1, head: [] }), /head widths/);
  });

  it("is deterministic: same seed, same data → same weights", async () => {
    const o = { strategy: "intermediate" as const, spec, seed: 5, epochs: 1, batchSize: 32, learningRate: 3e-3, patience: 1, modalityDropout: 0.2 };
    const a = await train(samples.slice(0, 96), { train: [...Array(64).keys()], val: [...Array(32).keys()].map((i) => i + 64) }, o);
    const b = await train(samples.slice(0, 96), { train: [...Array(64).keys()], val: [...Array(32).keys()].map((i) => i + 64) }, o);
    const wa = a.model.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.model.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(wa, wb);
  });

  it("transfer: a pretrained voice encoder is copied in, frozen, then fine-tuned", async () => {
    const o = { seed: 2, epochs: 3, batchSize: 32, learningRate: 3e-3, patience: 3, modalityDropout: 0 };
    const pre = await pretrain(samples, split, PRETRAIN_TASKS.voice(COMMANDS.length), spec.config, o);
    assert.ok(pre.val.accuracy > 0.5, `voice command accuracy ${pre.val.accuracy}`);
    const before = pre.model.getLayer("voice_enc_out").getWeights()[0]!.dataSync().slice();
    const r = await train(samples, split, { ...o, strategy: "intermediate", spec, pretrained: [{ modality: "voice", model: pre.model }], freezeEpochs: 1, epochs: 2 });
    assert.equal(r.history[0]!.frozen, true);
    assert.equal(r.history[1]!.frozen, false);
    const after = r.model.getLayer("voice_enc_out").getWeights()[0]!.dataSync();
    if (r.bestEpoch === 1) assert.deepEqual(Array.from(after), Array.from(before), "frozen epoch kept the pretrained weights");
    else assert.notDeepEqual(Array.from(after), Array.from(before), "fine-tuning changed them");
  });
});
