/**
 * The model alone, called every PERIOD ms (the daemon decides at 20 Hz and sleeps between frames, so every
 * call runs cold), through model.predict and through the compiled kernel list (fusion/inference/compiled.ts),
 * the latter through the engine and straight on the backend, alternating. Not a suite of `npm run bench`: a diagnostic for the daemon's latency tail (bench/README.md).
 *   npx tsx bench/paced-predict.ts [MODEL_DIR=models/default] [PERIOD_MS=50] [CALLS=600]
 */
import * as tf from "@tensorflow/tfjs";
import { loadModelDir } from "../fusion/model/model-dir.ts";
import { selectBackend } from "../fusion/inference/backends.ts";
import { compileForInference } from "../fusion/inference/compiled.ts";
await selectBackend("wasm");
const dir = process.argv[2] ?? "models/default";
const period = Number(process.argv[3] ?? 50);
const n = Number(process.argv[4] ?? 600);
const d = await loadModelDir(dir);
const c = compileForInference(d.model)!;
const viaEngine = compileForInference(d.model, { direct: false })!;
const data = () => d.spec.inputs.map((i) => new Float32Array(i.shape.reduce((a, b) => a * b, 1)).map(() => Math.random()));
for (const mode of ["predict", "compiled, engine", "compiled, direct", "predict", "compiled, engine", "compiled, direct"]) {
  const f = mode === "compiled, direct" ? (x: Float32Array[]) => c.run(x, 1) : mode === "compiled, engine" ? (x: Float32Array[]) => viaEngine.run(x, 1) : (x: Float32Array[]) => tf.tidy(() => (d.model.predict(d.spec.inputs.map((i, k) => tf.tensor(x[k]!, [1, ...i.shape]))) as tf.Tensor).dataSync());
  for (let i = 0; i < 200; i++) f(data());
  const t: number[] = [];
  await new Promise<void>((resolve) => {
    const tick = () => {
      const x = data();
      const a = performance.now();
      f(x);
      t.push(performance.now() - a);
      if (t.length >= n) resolve(); else setTimeout(tick, period);
    };
    tick();
  });
  const s = [...t].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
  console.log(dir, mode, `period ${period} ms: p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)}`);
}
