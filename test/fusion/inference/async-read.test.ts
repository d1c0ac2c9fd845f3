/**
 * TF.js backends without synchronous read-back (webgpu): the runner skips the compiled kernel list (which reads
 * synchronously), runs model.predict and reads the result asynchronously. Checked on a stand-in registered under
 * the name "webgpu" (the CPU backend's kernels), since this machine has no GPU.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { makeInputSpec } from "../../../fusion/features/config.ts";
import { TfModelRunner } from "../../../fusion/inference/runner.ts";
import type { LoadedModel } from "../../../fusion/model/model-dir.ts";
import { strategyByName } from "../../../fusion/model/strategies.ts";
import { useBackend } from "../tf-setup.ts";

describe("fusion/inference/runner on a backend read asynchronously (webgpu)", function () {
  this.timeout(60_000);
  const NAME = "webgpu";
  let registered = false;
  before(() => {
    if (tf.findBackendFactory(NAME)) return; // the real one is installed: nothing to stand in for
    tf.registerBackend(NAME, () => new MathBackendCPU(), 0);
    for (const k of tf.getKernelsForBackend("cpu")) tf.registerKernel({ ...k, backendName: NAME });
    registered = true;
  });
  after(async () => {
    await useBackend("wasm");
    if (registered) {
      for (const k of tf.getKernelsForBackend(NAME)) tf.unregisterKernel(k.kernelName, NAME);
      tf.removeBackend(NAME);
    }
  });

  it("runs through model.predict with an asynchronous read and gives the CPU backend's probabilities", async () => {
    const spec = makeInputSpec(["ego", "gnss"]);
    await useBackend("cpu");
    const model = strategyByName("intermediate").build(spec, { seed: 2, units: 8 });
    const rows = [1, 2, 3].map((v) => Object.fromEntries(spec.inputs.map((i) => [i.name, new Float32Array(i.shape.reduce((a, b) => a * b, 1)).map((_, j) => Math.sin(v * 7 + j))])));
    const loaded = { dir: "", id: "t", hash: "0000000000000000", model, spec, card: {} } as unknown as LoadedModel;
    const onCpu = new TfModelRunner(loaded, { now: () => 0 });
    const want = await Promise.all(rows.map((r) => onCpu.run(r)));
    assert.ok(onCpu.compiledKernels !== undefined, "on cpu the runner compiles");
    assert.ok(await tf.setBackend(NAME));
    const onGpu = new TfModelRunner(loaded, { now: () => 0, maxBatch: 4 });
    assert.equal(onGpu.backend, NAME);
    assert.equal(onGpu.compiledKernels, undefined, "no compiled kernel list where reads are asynchronous");
    const got = await Promise.all(rows.map((r) => onGpu.run(r)));
    got.forEach((g, i) => g.probabilities.forEach((p, c) => assert.ok(Math.abs(p - want[i]!.probabilities[c]!) < 1e-6)));
    assert.deepEqual(got.map((g) => g.batchSize), [3, 3, 3]);
    const before = tf.memory().numTensors;
    await onGpu.run(rows[0]!);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by a call");
  });
});
