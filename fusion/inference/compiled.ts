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
 * On the wasm and cpu backends the kernels are called straight on the backend (`kernelFunc` from the kernel
 * registry, intermediates freed at the end of the call), without the engine's per-kernel bookkeeping
 * (scopes, tensor tracking, profiling hooks): in the daemon that bookkeeping was more of the model call than
 * the arithmetic (a CPU profile at 20 Hz: ~0.5 of ~0.9 ms). Other backends go through the engine.
 *
 * Exact: the same kernels on the same weights in the same order (tests compare it with `model.predict` on
 * every backend here, and check that a call leaves no tensor data behind). The camera slots' layers (CameraSlotMask,
 * CameraSlotPool) are run as the same kernels they call. Layers it does not know (attention, late fusion's gate) make `compileForInference`
 * return undefined, and callers use `model.predict`.
 */
import * as tf from "@tensorflow/tfjs";
import { sizeOf } from "../features/config.ts";
import { CameraSlotMask, CameraSlotPool, inboundLayerNames, ModalityGate } from "../model/layers.ts";

/** A value of the model in rows form: `t` is [1, rows, last]; `shape` is its logical shape with the batch. */
interface Rows {
  t: tf.TensorInfo;
  shape: number[];
}

/** How kernels are run: through the engine (any backend) or straight on the backend (wasm, cpu). */
interface Exec {
  kernel(name: string, inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[], attrs: Record<string, unknown>): tf.TensorInfo;
  upload(data: Float32Array, shape: number[]): tf.TensorInfo;
  /** Runs fn, frees every tensor made inside it, and returns fn's result (which must be plain data). */
  scope<T>(fn: () => T): T;
  read(t: tf.TensorInfo): Float32Array;
}

const engineExec: Exec = {
  kernel: (name, inputs, attrs) => tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor,
  upload: (data, shape) => tf.tensor(data, shape),
  scope: (fn) => tf.tidy(() => fn() as never),
  read: (t) => (t as tf.Tensor).dataSync() as Float32Array,
};

/** Backends whose kernels are known to run (and free) correctly when called without the engine. */
const DIRECT = new Set(["wasm", "cpu"]);

function directExec(backendName: string, backend: tf.KernelBackend): Exec {
  const made: tf.TensorInfo[] = [];
  const kernels = new Map<string, tf.KernelFunc>();
  const kernelFunc = (name: string): tf.KernelFunc => {
    let k = kernels.get(name);
    if (!k) {
      const config = tf.getKernel(name, backendName);
      if (!config) throw new Error(`compiled: backend ${backendName} has no ${name} kernel`);
      kernels.set(name, (k = config.kernelFunc));
    }
    return k;
  };
  return {
    kernel(name, inputs, attrs) {
      const out = kernelFunc(name)({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap });
      const t = Array.isArray(out) ? out[0]! : out;
      made.push(t);
      return t;
    },
    upload(data, shape) {
      const t = { dataId: backend.write(data, shape, "float32"), shape, dtype: "float32" as const };
      made.push(t);
      return t;
    },
    scope(fn) {
      try {
        return fn();
      } finally {
        for (const t of made) backend.disposeData(t.dataId);
        made.length = 0;
      }
    },
    read: (t) => backend.readSync(t.dataId) as Float32Array,
  };
}

/** Runs the compiled model on inputs given as flat row-major data per input, batch `n`; returns [n × classes]. */
export type CompiledModel = (inputs: readonly Float32Array[], n: number) => Float32Array;

type Step = (values: Map<string, Rows>, n: number, e: Exec) => Rows;

const FUSABLE = new Set(["linear", "relu", "sigmoid", "elu", "relu6"]);

const rows = (t: tf.TensorInfo, shape: number[]): Rows => ({ t, shape });
const reshape = (e: Exec, t: tf.TensorInfo, shape: number[]): tf.TensorInfo => e.kernel("Reshape", { x: t }, { shape });
const toRows = (e: Exec, t: tf.TensorInfo, shape: number[]): Rows => {
  const last = shape[shape.length - 1]!;
  const r = sizeOf(shape) / last;
  return rows(t.shape.length === 3 && t.shape[0] === 1 && t.shape[1] === r ? t : reshape(e, t, [1, r, last]), shape);
};
const softmax = (e: Exec, x: Rows): Rows => rows(e.kernel("Softmax", { logits: x.t }, { dim: x.t.shape.length - 1 }), x.shape);

function fusedDense(e: Exec, x: Rows, kernel: tf.Tensor, bias: tf.Tensor | undefined, activation: string): Rows {
  const out = e.kernel("_FusedMatMul", bias ? { a: x.t, b: kernel, bias } : { a: x.t, b: kernel }, { transposeA: false, transposeB: false, activation });
  return rows(out, [...x.shape.slice(0, -1), kernel.shape[2]!]);
}

/**
 * Compiles a layers model for inference, or returns undefined when it holds a layer this does not know.
 * The weights are copied (the compiled model outlives nothing: dispose it with the returned `dispose`).
 */
export function compileForInference(model: tf.LayersModel, options: { direct?: boolean } = {}): { run: CompiledModel; dispose: () => void; kernels: number } | undefined {
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
    const all = (v: Map<string, Rows>): Rows[] => ins.map((s) => v.get(s)!);
    let step: Step;
    if (cls === "Dense") {
      const activation = config["activation"] as string;
      if (!FUSABLE.has(activation) && activation !== "softmax") return fail();
      const [k, b] = layer.getWeights();
      const kernel = keep(tf.reshape(k!, [1, ...k!.shape]));
      const bias = b ? keep(b.clone()) : undefined;
      const fused = activation === "softmax" ? "linear" : activation;
      step = (v, _n, e) => {
        const y = fusedDense(e, one(v), kernel, bias, fused);
        return activation === "softmax" ? softmax(e, y) : y;
      };
      kernels += activation === "softmax" ? 2 : 1;
    } else if (cls === "Flatten") {
      step = (v, _n, e) => {
        const x = one(v);
        const flat = sizeOf(x.shape.slice(1));
        return toRows(e, x.t, [x.shape[0]!, flat]);
      };
      kernels += 1;
    } else if (cls === "Reshape") {
      const target = config["targetShape"] as number[];
      if (target.some((d) => d < 0)) return fail();
      step = (v, _n, e) => toRows(e, one(v).t, [one(v).shape[0]!, ...target]);
      kernels += 1;
    } else if (cls === "Concatenate") {
      if ((config["axis"] as number) !== -1) return fail();
      step = (v, _n, e) => {
        const xs = all(v);
        const last = xs.reduce((a, x) => a + x.shape[x.shape.length - 1]!, 0);
        return rows(xs.length === 1 ? xs[0]!.t : e.kernel("Concat", xs.map((x) => x.t), { axis: 2 }), [...xs[0]!.shape.slice(0, -1), last]);
      };
      kernels += 1;
    } else if (cls === "Multiply") {
      // Elementwise with broadcasting over the last axis only (a [.., 1] mask): rows line up.
      step = (v, _n, e) => {
        const xs = all(v);
        const widest = xs.reduce((a, x) => (x.shape[x.shape.length - 1]! > a.shape[a.shape.length - 1]! ? x : a));
        if (xs.some((x) => x.shape.length !== widest.shape.length || x.t.shape[1] !== widest.t.shape[1])) throw new Error(`compiled ${layer.name}: inputs of different rows`);
        return rows(xs.slice(1).reduce((a, x) => e.kernel("Multiply", { a, b: x.t }, {}), xs[0]!.t), widest.shape);
      };
      kernels += ins.length - 1;
    } else if (cls === "GlobalMaxPooling1D" || cls === "GlobalAveragePooling1D") {
      step = (v, _n, e) => {
        const x = one(v);
        const [n, steps, f] = x.shape as [number, number, number];
        const r = reshape(e, x.t, [n, steps, f]);
        const pooled = cls === "GlobalMaxPooling1D" ? e.kernel("Max", { x: r }, { reductionIndices: 1, keepDims: false }) : e.kernel("Mean", { x: r }, { axis: 1, keepDims: false });
        return toRows(e, pooled, [n, f]);
      };
      kernels += 3;
    } else if (cls === "Softmax") {
      const axis = config["axis"] as number | number[];
      if (axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) return fail();
      step = (v, _n, e) => softmax(e, one(v));
      kernels += 1;
    } else if (cls === "Dropout") {
      step = (v) => one(v);
    } else if (cls === ModalityGate.className) {
      const index = (layer as ModalityGate).index;
      step = (v, _n, e) => {
        const [emb, presence] = all(v) as [Rows, Rows];
        const column = e.kernel("Slice", { x: presence.t }, { begin: [0, 0, index], size: [1, -1, 1] });
        return rows(e.kernel("Multiply", { a: emb.t, b: column }, {}), emb.shape);
      };
      kernels += 2;
    } else if (cls === CameraSlotMask.className) {
      // x [n, N, …] times the mask [n, N] reshaped to [n, N, 1, …] (the layer's own kernels, in its order).
      step = (v, _n, e) => {
        const [x, mask] = all(v) as [Rows, Rows];
        const m = reshape(e, mask.t, [...mask.shape, ...Array<number>(x.shape.length - 2).fill(1)]);
        return toRows(e, e.kernel("Multiply", { a: reshape(e, x.t, x.shape), b: m }, {}), x.shape);
      };
      kernels += 4;
    } else if (cls === CameraSlotPool.className) {
      // relu(emb [n, N, D] + camera embedding [N, D]) × mask [n, N, 1], summed over the slots, divided by max(1, slots kept).
      const embedding = keep(layer.getWeights()[0]!.clone());
      const one1 = keep(tf.scalar(1));
      step = (v, _n, e) => {
        const [emb, mask] = all(v) as [Rows, Rows];
        const [n, slots, d] = emb.shape as [number, number, number];
        const relu = e.kernel("Relu", { x: e.kernel("Add", { a: reshape(e, emb.t, [n, slots, d]), b: embedding }, {}) }, {});
        const kept = e.kernel("Multiply", { a: relu, b: reshape(e, mask.t, [n, slots, 1]) }, {});
        const sum = e.kernel("Sum", { x: kept }, { axis: [1], keepDims: false });
        const count = e.kernel("Maximum", { a: e.kernel("Sum", { x: reshape(e, mask.t, [n, slots]) }, { axis: [1], keepDims: true }), b: one1 }, {});
        return toRows(e, e.kernel("RealDiv", { a: sum, b: count }, {}), [n, d]);
      };
      kernels += 11;
    } else {
      return fail();
    }
    steps.push({ name: layer.name, step });
  }
  const outName = model.outputLayers[0]!.name;
  const inputNames = [...inputIndex.keys()];
  // One executor per backend instance, made on first use (tests switch backends between calls; a backend
  // registered again is a new instance, never served by the old one's executor).
  const execs = new WeakMap<tf.KernelBackend, Exec>();
  const execFor = (backend: tf.KernelBackend, name: string): Exec => {
    let e = execs.get(backend);
    if (!e) execs.set(backend, (e = options.direct !== false && DIRECT.has(name) ? directExec(name, backend) : engineExec));
    return e;
  };
  const run: CompiledModel = (data, n) => {
    const e = execFor(tf.backend(), tf.getBackend());
    return e.scope(() => {
      const values = new Map<string, Rows>();
      inputNames.forEach((name, i) => {
        const shape = [n, ...inputShapes[i]!];
        const last = shape[shape.length - 1]!;
        values.set(name, rows(e.upload(data[i]!, [1, data[i]!.length / last, last]), shape));
      });
      for (const s of steps) values.set(s.name, s.step(values, n, e));
      return e.read(values.get(outName)!.t);
    });
  };
  return { run, dispose: () => tf.dispose(owned), kernels };
}
