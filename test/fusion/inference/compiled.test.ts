import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, makeInputSpec, sizeOf, type InputSpec } from "../../../fusion/features/config.ts";
import { compileForInference } from "../../../fusion/inference/compiled.ts";
import { TfModelRunner } from "../../../fusion/inference/runner.ts";
import { loadModelDir } from "../../../fusion/model/model-dir.ts";
import { strategyByName, type StrategyName } from "../../../fusion/model/strategies.ts";
import { wideEnsembleOf } from "../../../fusion/model/wide-ensemble.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { useBackend } from "../tf-setup.ts";

const spec = makeInputSpec([...MODALITIES]);
/** Four camera slots (CameraSlotPool in intermediate, CameraSlotMask in early). */
const spec4 = makeInputSpec([...MODALITIES], { ...DEFAULT_FEATURE_CONFIG, cameras: [...DEFAULT_CAMERA_IDS] });

/** Random inputs of batch n (flat, per input of the spec), with some presence bits and camera slots off. */
function inputs(n: number, seed: number, s: InputSpec = spec): Float32Array[] {
  const rand = mulberry32(seed);
  const bit = (name: string): boolean => name === "presence" || name === "camera_mask";
  return s.inputs.map((i) => new Float32Array(n * sizeOf(i.shape)).map(() => (bit(i.name) ? (rand() < 0.7 ? 1 : 0) : rand() * 2 - 1)));
}

const predict = (model: tf.LayersModel, data: Float32Array[], n: number, s: InputSpec = spec): Float32Array =>
  tf.tidy(() => (model.predict(s.inputs.map((i, k) => tf.tensor(data[k]!, [n, ...i.shape]))) as tf.Tensor).dataSync() as Float32Array);

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

for (const backend of ["wasm", "cpu"] as const) {
  describe(`fusion/inference/compiled (${backend})`, function () {
    this.timeout(60_000);
    before(() => useBackend(backend));

    const cases: [string, () => tf.LayersModel, InputSpec?][] = [
      ["intermediate", () => strategyByName("intermediate").build(spec, { seed: 3, head: [16, 8], units: 8 })],
      ["early", () => strategyByName("early").build(spec, { seed: 4, head: [16] })],
      ["a wide ensemble of 3", () => wideEnsembleOf([5, 6, 7].map((seed) => strategyByName("intermediate").build(spec, { seed, head: [16, 8], units: 8 })))],
      ["intermediate with 4 camera slots (CameraSlotPool)", () => strategyByName("intermediate").build(spec4, { seed: 8, head: [16, 8], units: 8 }), spec4],
      ["early with 4 camera slots (CameraSlotMask)", () => strategyByName("early").build(spec4, { seed: 9, head: [16] }), spec4],
    ];
    for (const [name, make, caseSpec = spec] of cases) {
      it(`${name}: the kernel list gives model.predict's outputs at batch 1 and 5, in far fewer kernels, and frees what it made`, async () => {
        const model = make();
        const c = compileForInference(model);
        const viaEngine = compileForInference(model, { direct: false });
        assert.ok(c && viaEngine, "compiled");
        const backendData = (): number => tf.engine().backend.numDataIds();
        for (const n of [1, 5]) {
          const data = inputs(n, n, caseSpec);
          const expected = predict(model, data, n, caseSpec);
          const before = backendData();
          const d = maxAbsDiff(c.run(data, n), expected);
          assert.ok(d < 1e-5, `batch ${n}: differs by ${d}`);
          assert.equal(backendData(), before, "a call straight on the backend leaves no tensor data behind");
          assert.ok(maxAbsDiff(viaEngine.run(data, n), expected) < 1e-5, `batch ${n} through the engine`);
          assert.equal(backendData(), before, "nor one through the engine");
        }
        const data = inputs(1, 9, caseSpec);
        // Kernels called straight on the backend are invisible to the engine's profiler: none are seen.
        assert.equal((await tf.profile(() => (c.run(data, 1), tf.scalar(0)))).kernels.length, 0);
        // tf.profile returns the engine's one profile object, reset by the next call: read each count at once.
        const counted = (await tf.profile(() => (viaEngine.run(data, 1), tf.scalar(0)))).kernels.length;
        const reference = (await tf.profile(() => predict(model, data, 1, caseSpec) && tf.scalar(0))).kernels.length;
        assert.equal(counted, c.kernels, "its own kernel count is right");
        assert.ok(counted * 2 < reference, `${counted} kernels vs predict's ${reference}`);
        c.dispose();
        viaEngine.dispose();
        model.dispose();
      });
    }

    for (const strategy of ["late", "attention"] satisfies StrategyName[]) {
      it(`${strategy}: a layer it does not know leaves the model to model.predict (undefined)`, () => {
        const model = strategyByName(strategy).build(spec, { seed: 1, units: 8 });
        assert.equal(compileForInference(model), undefined);
        model.dispose();
      });
    }

    it("the shipped models/multi-camera compiles (no fallback to model.predict) and gives its outputs", async () => {
      const loaded = await loadModelDir("models/multi-camera");
      const c = compileForInference(loaded.model);
      assert.ok(c, "compiled");
      for (const n of [1, 4]) {
        const data = inputs(n, 30 + n, loaded.spec);
        assert.ok(maxAbsDiff(c.run(data, n), predict(loaded.model, data, n, loaded.spec)) < 1e-5, `batch ${n}`);
      }
      c.dispose();
      loaded.model.dispose();
    });

    it("the TF.js runner runs compiled where it can, with model.predict's outputs", async () => {
      const model = strategyByName("intermediate").build(spec, { seed: 11, head: [16], units: 8 });
      const loaded = { id: "t", hash: "0".repeat(16), dir: "", spec, model, card: undefined as never };
      const runner = new TfModelRunner(loaded, { now: () => 0 });
      assert.ok(runner.compiledKernels! > 0);
      const data = inputs(1, 21);
      const row = Object.fromEntries(spec.inputs.map((i, k) => [i.name, data[k]!]));
      const out = await runner.run(row);
      assert.ok(maxAbsDiff(out.probabilities, predict(model, data, 1)) < 1e-5);
      runner.close();
      const late = strategyByName("late").build(spec, { seed: 1, units: 8 });
      const lateRunner = new TfModelRunner({ ...loaded, model: late }, { now: () => 0 });
      assert.equal(lateRunner.compiledKernels, undefined);
      assert.ok(maxAbsDiff((await lateRunner.run(row)).probabilities, predict(late, data, 1)) < 1e-6);
      lateRunner.close();
    });
  });
}
