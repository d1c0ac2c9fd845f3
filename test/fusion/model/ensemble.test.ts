import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { makeInputSpec } from "../../../fusion/features/config.ts";
import { renderCard } from "../../../fusion/model/card.ts";
import { ENSEMBLE_OUTPUT, ensembleOf } from "../../../fusion/model/ensemble.ts";
import { flopsPerSample } from "../../../fusion/model/flops.ts";
import { loadModelDir, saveModelDir } from "../../../fusion/model/model-dir.ts";
import { strategyByName } from "../../../fusion/model/strategies.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { saveRecogniserFor } from "../recogniser.ts";
import { syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

describe("fusion/model/ensemble", function () {
  this.timeout(60_000);
  const spec = makeInputSpec([...MODALITIES]);
  const samples = syntheticSamples(8, 3);
  let dir: string;
  before(() => useBackend("wasm"));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-ensemble-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("averages its members' probabilities as one flat model that saves, loads and runs like any model directory", async () => {
    const members = [1, 2].map((seed) => strategyByName("intermediate").build(spec, { seed, head: [16, 8] }));
    const xs = buildBatch(samples, [0, 1, 2, 3], spec);
    const each = members.map((m) => (m.predict(xs) as tf.Tensor).dataSync());
    assert.ok(each[0]!.some((v, i) => Math.abs(v - each[1]![i]!) > 1e-4), "the members differ");
    const ens = await ensembleOf(members);
    assert.deepEqual(ens.layers.filter((l) => l.name.startsWith("m1_head_hidden")).map((l) => l.name), ["m1_head_hidden", "m1_head_hidden_2"]);
    assert.equal(ens.outputs.length, 1);
    assert.equal(ens.layers.at(-1)!.name, ENSEMBLE_OUTPUT);
    assert.equal(ens.countParams(), members[0]!.countParams() + members[1]!.countParams());
    assert.equal(flopsPerSample(ens), flopsPerSample(members[0]!) + flopsPerSample(members[1]!));
    const mean = (ens.predict(xs) as tf.Tensor).dataSync();
    mean.forEach((v, i) => assert.ok(Math.abs(v - (each[0]![i]! + each[1]![i]!) / 2) < 1e-6));
    await saveRecogniserFor(dir, spec);
    await saveModelDir(dir, ens, { name: "e", strategy: "intermediate", description: "t", command: "t", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: spec }, renderCard);
    const loaded = await loadModelDir(dir);
    const after = (loaded.model.predict(xs) as tf.Tensor).dataSync();
    mean.forEach((v, i) => assert.ok(Math.abs(v - after[i]!) < 1e-6));
  });

  it("one member is the member itself; none is an error", async () => {
    const m = strategyByName("early").build(spec, { seed: 1 });
    assert.equal(await ensembleOf([m]), m);
    await assert.rejects(ensembleOf([]), /at least one member/);
  });
});
