/**
 * A layers model turned into a straight list of TF.js kernel calls for inference.
 *
 * Why: at batch 1 the fusion models cost per kernel dispatched, not per FLOP. `model.predict` on the default
 * model dispatches ~108 kernels (51 of them reshapes: every dense layer's matMul is reshaped to rank 3 and
 * back, every layer standardises its inputs), and each dispatch is JavaScript on the engine's bookkeeping —
 * cheap in a hot loop, but a daemon deciding at 20 Hz wakes up cold every 50 ms, and there the dispatches
 * dominate. TF.js has no inference compiler for layers models (the graph-model converter is a Python tool),
 * so this is ours: every tensor is kept in "rows" form `[1, rows, features]` (the layout the fused matMul
 * kernel takes), so a dense layer is one `_FusedMatMul` kernel with its bias and activation, and reshapes
 * remain only where the model itself reshapes (flatten, pooling, the ensemble's member axis).
 *
 * Exact: the same kernels on the same weights in the same order (tests compare it with `model.predict` on
 * every backend here). Layers it does not know (attention, late fusion's gate) make `compileForInference`
 * return undefined, and callers use `model.predict`.
 */
import * as tf from "@tensorflow/tfjs";
import { sizeOf } from "../features/config.ts";
import { inboundLayerNames, ModalityGate } from "../model/layers.ts";

/** A value of the model in rows form: `t` is [1, rows, last]; `shape` is its logical shape with the batch. */
interface Rows {
  t: tf.Tensor;
  shape: number[];
}

/** Runs the compiled model on inputs given as flat row-major data per input, batch `n`; returns [n × classes]. */
export type CompiledModel = (inputs: readonly Float32Array[], n: number) => Float32Array;

type Step = (values: Map<string, Rows>, n: number) => Rows;

const FUSABLE = new Set(["linear", "relu", "sigmoid", "elu", "relu6"]);

const rows = (t: tf.Tensor, shape: number[]): Rows => ({ t, shape });
const toRows = (t: tf.Tensor, shape: number[]): Rows => {
  const last = shape[shape.length - 1]!;
  const r = sizeOf(shape) / last;
  return rows(t.shape.length === 3 && t.shape[0] === 1 && t.shape[1] === r ? t : tf.reshape(t, [1, r, last]), shape);
};

function fusedDense(x: Rows, kernel: tf.Tensor, bias: tf.Tensor | undefined, activation: string): Rows {
  const out = tf.engine().runKernel("_FusedMatMul", bias ? { a: x.t, b: kernel, bias } : { a: x.t, b: kernel }, { transposeA: false, transposeB: false, activation }) as tf.Tensor;
  return rows(out, [...x.shape.slice(0, -1), kernel.shape[2]!]);
}

/**
 * Compiles a layers model for inference, or returns undefined when it holds a layer this does not know.
 * The weights are copied (the compiled model outlives nothing: dispose it with the returned `dispose`).
 */
export function compileForInference(model: tf.LayersModel): { run: CompiledModel; dispose: () => void; kernels: number } | undefined {
  if (model.outputs.length !== 1) return undefined;
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (owned.push(tf.keep(t)), t);
  const inputIndex = new Map(model.inputs.map((t, i) => [t.sourceLayer.name, i]));
  const inputShapes = model.inputs.map((t) => t.shape.slice(1) as number[]);
  const steps: { name: string; step: Step }[] = [];
  let kernels = 0;
  const fail = (): undefined => {
    tf.dispose(owned);
    return undefined;
  };
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === "InputLayer") continue;
    const ins = inboundLayerNames(layer);
    if (!ins) return fail();
    const config = layer.getConfig();
    const one = (v: Map<string, Rows>): Rows => v.get(ins[0]!)!;
    let step: Step;
    if (cls === "Dense") {
      const activation = config["activation"] as string;
      if (!FUSABLE.has(activation) && activation !== "softmax") return fail();
      const [k, b] = layer.getWeights();
      const kernel = keep(tf.reshape(k!, [1, ...k!.shape]));
      const bias = b ? keep(b.clone()) : undefined;
      const fused = activation === "softmax" ? "linear" : activation;
      step = (v) => {
        const y = fusedDense(one(v), kernel, bias, fused);
        return activation === "softmax" ? rows(tf.softmax(y.t, -1), y.shape) : y;
      };
      kernels += activation === "softmax" ? 2 : 1;
    } else if (cls === "Flatten") {
      step = (v) => {
        const x = one(v);
        const flat = sizeOf(x.shape.slice(1));
        return toRows(x.t, [x.shape[0]!, flat]);
      };
      kernels += 1;
    } else if (cls === "Reshape") {
      const target = config["targetShape"] as number[];
      if (target.some((d) => d < 0)) return fail();
      step = (v) => toRows(one(v).t, [one(v).shape[0]!, ...target]);
      kernels += 1;
    } else if (cls === "Concatenate") {
      if ((config["axis"] as number) !== -1) return fail();
      step = (v) => {
        const xs = ins.map((s) => v.get(s)!);
        const last = xs.reduce((a, x) => a + x.shape[x.shape.length - 1]!, 0);
        return rows(tf.concat(xs.map((x) => x.t), 2), [...xs[0]!.shape.slice(0, -1), last]);
      };
      kernels += 1;
    } else if (cls === "Multiply") {
      // Elementwise with broadcasting over the last axis only (a [.., 1] mask): rows line up.
      step = (v) => {
        const xs = ins.map((s) => v.get(s)!);
        const widest = xs.reduce((a, x) => (x.shape[x.shape.length - 1]! > a.shape[a.shape.length - 1]! ? x : a));
        if (xs.some((x) => x.shape.length !== widest.shape.length || x.t.shape[1] !== widest.t.shape[1])) throw new Error(`compiled ${layer.name}: inputs of different rows`);
        return rows(xs.slice(1).reduce((a, x) => tf.mul(a, x.t), xs[0]!.t), widest.shape);
      };
      kernels += ins.length - 1;
    } else if (cls === "GlobalMaxPooling1D" || cls === "GlobalAveragePooling1D") {
      step = (v) => {
        const x = one(v);
        const [n, steps, f] = x.shape as [number, number, number];
        const pooled = cls === "GlobalMaxPooling1D" ? tf.max(tf.reshape(x.t, [n, steps, f]), 1) : tf.mean(tf.reshape(x.t, [n, steps, f]), 1);
        return toRows(pooled, [n, f]);
      };
      kernels += 3;
    } else if (cls === "Softmax") {
      const axis = config["axis"] as number | number[];
      if (axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) return fail();
      step = (v) => rows(tf.softmax(one(v).t, -1), one(v).shape);
      kernels += 1;
    } else if (cls === "Dropout") {
      step = (v) => one(v);
    } else if (cls === ModalityGate.className) {
      const index = (layer as ModalityGate).index;
      step = (v) => {
        const [emb, presence] = [v.get(ins[0]!)!, v.get(ins[1]!)!];
        const column = tf.slice(presence.t, [0, 0, index], [1, -1, 1]);
        return rows(tf.mul(emb.t, column), emb.shape);
      };
      kernels += 2;
    } else {
      return fail();
    }
    steps.push({ name: layer.name, step });
  }
  const outName = model.outputLayers[0]!.name;
  const inputNames = [...inputIndex.keys()];
  const run: CompiledModel = (data, n) =>
    tf.tidy(() => {
      const values = new Map<string, Rows>();
      inputNames.forEach((name, i) => {
        const shape = [n, ...inputShapes[i]!];
        const last = shape[shape.length - 1]!;
        values.set(name, rows(tf.tensor(data[i]!, [1, data[i]!.length / last, last]), shape));
      });
      for (const s of steps) values.set(s.name, s.step(values, n));
      return values.get(outName)!.t.dataSync() as Float32Array;
    });
  return { run, dispose: () => tf.dispose(owned), kernels };
}
