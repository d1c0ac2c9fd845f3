import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, makeInputSpec, specMismatches, type FeatureConfig } from "../../../fusion/features/config.ts";
import { extractFeatures } from "../../../fusion/features/frame.ts";
import { CAMERA_MOUNTS } from "../../../sim/sensors/camera-set.ts";
import { STRATEGIES, strategyByName } from "../../../fusion/model/strategies.ts";
import { buildBatch, splitByGroup } from "../../../fusion/train/dataset.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { train } from "../../../fusion/train/trainer.ts";
import { randomScene, sceneFrame, syntheticSamples, withCameras } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

const CONFIG: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, cameras: [...DEFAULT_CAMERA_IDS] };

describe("fusion/model camera slots (several cameras)", function () {
  this.timeout(120_000);
  const spec = makeInputSpec([...MODALITIES], CONFIG);
  const samples = syntheticSamples(48, 5, 4, CONFIG);
  before(() => useBackend("wasm"));

  it("the config names the cameras: camera [N, patches, values] and camera_mask [N]; the defaults are the simulator's set", () => {
    assert.deepEqual([...DEFAULT_CAMERA_IDS], [...CAMERA_MOUNTS]);
    const shapes = Object.fromEntries(spec.inputs.map((i) => [i.name, i.shape]));
    assert.deepEqual(shapes["camera"], [4, 16, 192]);
    assert.deepEqual(shapes["camera_mask"], [4]);
    assert.deepEqual(specMismatches(spec), []);
    const single = makeInputSpec([...MODALITIES]);
    assert.ok(!single.inputs.some((i) => i.name === "camera_mask"), "a single-camera spec is as it was");
    assert.deepEqual(single.inputs.find((i) => i.name === "camera")!.shape, [16, 192]);
    assert.throws(() => makeInputSpec(["camera"], { ...CONFIG, cameras: ["front", "front"] }), /distinct camera ids/);
    assert.throws(() => makeInputSpec(["camera"], { ...CONFIG, cameras: ["a/b"] }), /no \//);
  });

  it("features: each named camera fills its own slot; a missing or undecodable camera is zeros with mask 0 in its slot only", () => {
    const rand = mulberry32(9);
    const scene = randomScene(rand);
    const frame = withCameras(sceneFrame(scene, 0, rand), scene, CONFIG.cameras!, rand);
    const all = extractFeatures(frame, { config: CONFIG });
    assert.deepEqual([...all.inputs.camera_mask], [1, 1, 1, 1]);
    const per = all.inputs.camera.length / 4;
    const rearTopic = "vehicles/t/sensors/camera/rear";
    const corrupt = { ...frame, cameras: { ...frame.cameras, [rearTopic]: { ...frame.cameras![rearTopic]!, message: { ...frame.cameras![rearTopic]!.message, width: 4000 } } } };
    const stale = { ...frame, cameras: { ...frame.cameras, [rearTopic]: null } };
    const bad = extractFeatures(corrupt, { config: CONFIG });
    const gone = extractFeatures(stale, { config: CONFIG });
    assert.deepEqual([...bad.inputs.camera_mask], [1, 0, 1, 1]);
    assert.deepEqual(bad.inputs.camera, gone.inputs.camera);
    assert.deepEqual(bad.inputs.camera_mask, gone.inputs.camera_mask);
    assert.ok(bad.problems.some((p) => p.startsWith("camera rear: ")), bad.problems.join("; "));
    assert.ok(bad.inputs.camera.subarray(per, 2 * per).every((v) => v === 0));
    for (const slot of [0, 2, 3]) assert.deepEqual(bad.inputs.camera.subarray(slot * per, (slot + 1) * per), all.inputs.camera.subarray(slot * per, (slot + 1) * per));
    assert.ok(bad.present.camera, "three cameras left: the camera modality is present");
    // A recording of the single front camera: the front slot only.
    const one = extractFeatures(sceneFrame(scene, 0, rand), { config: { ...CONFIG, cameras: ["0", "rear"] } });
    assert.deepEqual([...one.inputs.camera_mask], [1, 0]);
  });

  for (const name of STRATEGIES) {
    it(`${name}: a masked camera slot gives the logits of that camera absent, whatever it holds, and differs from all present`, () => {
      const model = strategyByName(name).build(spec, { seed: 2, units: 16 });
      const rows = [0, 1, 2, 3];
      const xs = buildBatch(samples, rows, spec);
      const camAt = spec.inputs.findIndex((i) => i.name === "camera");
      const maskAt = spec.inputs.findIndex((i) => i.name === "camera_mask");
      const slot = 2; // left
      const keep = tf.tensor1d([1, 1, 0, 1]);
      const slotOnly = tf.oneHot(tf.tensor1d([slot], "int32"), 4).reshape([1, 4, 1, 1]);
      const garbage = tf.randomNormal(xs[camAt]!.shape, 0, 3, "float32", 7);
      // masked: the mask says no, but the slot holds garbage; absent: zeros and mask 0 (what the features give).
      const masked = xs.map((x, i) => (i === maskAt ? x.mul(keep) : i === camAt ? x.mul(slotOnly.sub(1).neg()).add(garbage.mul(slotOnly)) : x));
      const absent = xs.map((x, i) => (i === maskAt ? x.mul(keep) : i === camAt ? x.mul(slotOnly.sub(1).neg()) : x));
      const p = (inputs: tf.Tensor[]): Float32Array => (model.predict(inputs) as tf.Tensor).dataSync() as Float32Array;
      const [a, b, c] = [p(masked), p(absent), p(xs)];
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-6, `masked ${v} vs absent ${b[i]}`));
      assert.ok(a.some((v, i) => Math.abs(v - c[i]!) > 1e-4), "a camera's slot changes the output when present");
      model.dispose();
    });
  }

  it("intermediate trains on several cameras (slot dropout on) and beats chance", async () => {
    const many = syntheticSamples(240, 7, 4, CONFIG);
    const split = splitByGroup(many, 0.25, mulberry32(1));
    const r = await train(many, split, { strategy: "intermediate", spec, seed: 3, epochs: 4, batchSize: 32, learningRate: 3e-3, patience: 4, modalityDropout: 0.1 });
    assert.ok(r.val.accuracy > 0.25, `val accuracy ${r.val.accuracy.toFixed(2)} (chance ≈ 0.2)`);
    r.model.dispose();
  });

  it("slot dropout zeroes whole slots and their mask bits, never every slot", () => {
    // rand() = 0 drops everything it may: every modality but the first (camera), then every slot but the first.
    const xs = buildBatch(samples, [0, 1], spec, { p: 0.5, rand: () => 0 });
    const at = (n: string): tf.Tensor => xs[spec.inputs.findIndex((i) => i.name === n)]!;
    assert.deepEqual(at("camera_mask").arraySync(), [[1, 0, 0, 0], [1, 0, 0, 0]]);
    const cam = at("camera").arraySync() as number[][][][];
    for (const row of cam) {
      assert.ok(row[0]!.flat().some((v) => v !== 0), "the kept slot keeps its features");
      for (const k of [1, 2, 3]) assert.ok(row[k]!.flat().every((v) => v === 0), `slot ${k} zeroed`);
    }
    const none = buildBatch(samples, [0, 1], spec, { p: 0.5, rand: () => 0.99 });
    assert.deepEqual(none[spec.inputs.findIndex((i) => i.name === "camera_mask")]!.arraySync(), [[1, 1, 1, 1], [1, 1, 1, 1]], "nothing dropped above p");
  });
});
