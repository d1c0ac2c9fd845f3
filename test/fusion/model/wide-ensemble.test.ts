import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, makeInputSpec } from "../../../fusion/features/config.ts";
import { renderCard } from "../../../fusion/model/card.ts";
import { ensembleOf } from "../../../fusion/model/ensemble.ts";
import { loadModelDir, saveModelDir } from "../../../fusion/model/model-dir.ts";
import { strategyByName } from "../../../fusion/model/strategies.ts";
import { WIDE_ENSEMBLE_OUTPUT, wideEnsembleOf } from "../../../fusion/model/wide-ensemble.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { saveRecogniserFor } from "../recogniser.ts";
import { syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe("fusion/model/wide-ensemble", function () {
  this.timeout(60_000);
  const spec = makeInputSpec([...MODALITIES]);
  const samples = syntheticSamples(8, 5);
  const rows = [0, 1, 2, 3, 4, 5, 6, 7];
  let dir: string;
  before(() => useBackend("wasm"));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-wide-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const strategy of ["intermediate", "early"] as const) {
    it(`${strategy}: three members side by side give the flat ensemble's probabilities, in one member's layer count`, async () => {
      const members = [1, 2, 3].map((seed) => strategyByName(strategy).build(spec, { seed, head: [16, 8], units: 8 }));
      const xs = buildBatch(samples, rows, spec);
      const flat = (await ensembleOf(members)).predict(xs) as tf.Tensor;
      const wide = wideEnsembleOf(members);
      const out = wide.predict(xs) as tf.Tensor;
      assert.deepEqual(out.shape, flat.shape);
      assert.ok(maxAbsDiff(out.dataSync(), flat.dataSync()) < 1e-5, `wide and flat differ by ${maxAbsDiff(out.dataSync(), flat.dataSync())}`);
      // Each member alone differs from the mean: the test would see a wide model that ran only one member.
      const one = (members[0]!.predict(xs) as tf.Tensor).dataSync();
      assert.ok(maxAbsDiff(one, out.dataSync()) > 1e-4);
      // The member's layers plus reshape, softmax and mean — not three times the layers.
      assert.equal(wide.layers.length, members[0]!.layers.length + 3);
      assert.equal(wide.outputs.length, 1);
      assert.equal(wide.layers.at(-1)!.name, WIDE_ENSEMBLE_OUTPUT);
      assert.deepEqual(wide.inputs.map((i) => i.name.replace(/_\d+$/, "")), members[0]!.inputs.map((i) => i.name.replace(/_\d+$/, "")));
    });
  }

  describe("camera slots (several cameras)", () => {
    const config = { ...DEFAULT_FEATURE_CONFIG, cameras: [...DEFAULT_CAMERA_IDS] };
    const camSpec = makeInputSpec([...MODALITIES], config);
    const camSamples = syntheticSamples(8, 6, 4, config);
    const camAt = camSpec.inputs.findIndex((i) => i.name === "camera");
    const maskAt = camSpec.inputs.findIndex((i) => i.name === "camera_mask");
    const probs = (m: tf.LayersModel, xs: tf.Tensor[]): Float32Array => (m.predict(xs) as tf.Tensor).dataSync() as Float32Array;

    for (const strategy of ["intermediate", "early"] as const) {
      it(`${strategy}: side by side gives the flat ensemble's probabilities, and a masked slot gives that camera absent`, async () => {
        const members = [1, 2, 3].map((seed) => strategyByName(strategy).build(camSpec, { seed, head: [16, 8], units: 8 }));
        const wide = wideEnsembleOf(members);
        const flat = await ensembleOf(members);
        const xs = buildBatch(camSamples, rows, camSpec);
        // Rows with some slots masked: "masked" leaves garbage in them, "absent" zeros (what the features give).
        const keep = tf.tensor2d([[1, 0, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 1, 0]]);
        const slotKeep = keep.reshape([8, 4, 1, 1]);
        const garbage = tf.randomNormal(xs[camAt]!.shape, 0, 3, "float32", 7);
        const masked = xs.map((x, i) => (i === maskAt ? keep : i === camAt ? x.mul(slotKeep).add(garbage.mul(tf.onesLike(slotKeep).sub(slotKeep))) : x));
        const absent = xs.map((x, i) => (i === maskAt ? keep : i === camAt ? x.mul(slotKeep) : x));
        for (const input of [xs, masked]) {
          const d = maxAbsDiff(probs(wide, input), probs(flat, input));
          assert.ok(d < 1e-5, `wide and flat differ by ${d}`);
        }
        const d = maxAbsDiff(probs(wide, masked), probs(wide, absent));
        assert.ok(d < 1e-6, `masked and absent differ by ${d}`);
        assert.ok(maxAbsDiff(probs(wide, masked), probs(wide, xs)) > 1e-4, "the slots change the output when present");
        assert.ok(maxAbsDiff(probs(members[0]!, xs), probs(wide, xs)) > 1e-4, "all members run, not one");
        assert.equal(wide.layers.length, members[0]!.layers.length + 3);
      });
    }
  });

  it("saves and loads as a model directory with the same outputs", async () => {
    const members = [4, 5].map((seed) => strategyByName("intermediate").build(spec, { seed, head: [16, 8], units: 8 }));
    const wide = wideEnsembleOf(members);
    const xs = buildBatch(samples, rows, spec);
    const before = (wide.predict(xs) as tf.Tensor).dataSync();
    await saveRecogniserFor(dir, spec);
    await saveModelDir(dir, wide, { name: "w", strategy: "intermediate", description: "t", command: "t", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: spec }, renderCard);
    const loaded = await loadModelDir(dir);
    assert.ok(maxAbsDiff((loaded.model.predict(xs) as tf.Tensor).dataSync(), before) < 1e-6);
  });

  it("one member is that member's probabilities", () => {
    const m = strategyByName("intermediate").build(spec, { seed: 9, head: [16], units: 8 });
    const xs = buildBatch(samples, rows, spec);
    const d = maxAbsDiff((wideEnsembleOf([m]).predict(xs) as tf.Tensor).dataSync(), (m.predict(xs) as tf.Tensor).dataSync());
    assert.ok(d < 1e-6, `differs by ${d}`);
  });

  it("refuses what it cannot widen, and members built differently, with errors that say so", () => {
    const late = [1, 2].map((seed) => strategyByName("late").build(spec, { seed, units: 8 }));
    assert.throws(() => wideEnsembleOf(late), /cannot be widened.*early and intermediate/);
    const mixed = [strategyByName("intermediate").build(spec, { seed: 1, head: [16], units: 8 }), strategyByName("intermediate").build(spec, { seed: 2, head: [8], units: 8 })];
    assert.throws(() => wideEnsembleOf(mixed), /weight shapes differ/);
    assert.throws(() => wideEnsembleOf([]), /at least one member/);
  });
});
