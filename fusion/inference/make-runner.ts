/**
 * The runner for a selected backend (TF.js or ONNX Runtime), and the probe `--backend auto` times candidates with.
 */
import { loadModelDir, type LoadedModel } from "../model/model-dir.ts";
import type { BackendProbe, BackendSelection } from "./backends.ts";
import { OnnxModelRunner } from "./onnx-runner.ts";
import { TfModelRunner, type ModelRunner, type RunnerOptions } from "./runner.ts";

/** A runner for `loaded` on the selected backend (ONNX Runtime for `onnx`/`onnx-webgpu`, TF.js otherwise). */
export async function createModelRunner(loaded: LoadedModel, selection: BackendSelection, opts: RunnerOptions & { compile?: boolean }): Promise<ModelRunner> {
  return selection.ort ? OnnxModelRunner.create(loaded, selection.ort, opts) : new TfModelRunner(loaded, opts);
}

/**
 * A probe: loads the model directory on the candidate, warms it up and times `runs` single-sample calls
 * (zeros; the models' cost does not depend on the values), for at most about 250 ms, giving the median in ms. `now` is a monotonic ms
 * clock (bin/ passes performance.now).
 */
export function modelProbe(dir: string, now: () => number, runs = 25): BackendProbe {
  return async (selection) => {
    const runner = await createModelRunner(await loadModelDir(dir), selection, { now, maxBatch: 1, maxQueue: 1 });
    try {
      await runner.warmup();
      const zeros = Object.fromEntries(runner.spec.inputs.map((i) => [i.name, new Float32Array(i.shape.reduce((a, b) => a * b, 1))]));
      const ms: number[] = [];
      const start = now();
      // At most `runs` calls and about 250 ms: a slow candidate (tfjs cpu: ~40 ms a call) is not timed for long.
      for (let i = 0; i < runs && (i < 3 || now() - start < 250); i++) {
        const t0 = now();
        await runner.run(zeros);
        ms.push(now() - t0);
      }
      return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
    } finally {
      runner.close();
    }
  };
}
