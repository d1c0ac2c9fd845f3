/**
 * Custom TF.js layers of the fusion models, built from matMul and elementwise ops only (so they train on
 * the wasm backend, which lacks convolution gradients). Registered for serialization, so a saved model
 * loads with tf.loadLayersModel once this module is imported.
 */
import * as tf from "@tensorflow/tfjs";

type Kwargs = Record<string, unknown>;
type Shape = (number | null)[];
const asList = (x: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(x) ? x : [x]);
const seeded = (seed: number | undefined) => tf.initializers.glorotUniform(seed === undefined ? {} : { seed });

/**
 * The names of the layers feeding `layer`, when it is applied exactly once in its model (undefined when it is
 * shared between several call sites): what the graph rewrites (wide ensembles, compiled inference) walk.
 */
export function inboundLayerNames(layer: tf.layers.Layer): string[] | undefined {
  if (layer.inboundNodes.length !== 1) return undefined;
  return layer.inboundNodes[0]!.inboundLayers.map((l) => l.name);
}

/** Column `index` of the presence vector [B, P] as [B, 1]. */
function presenceColumn(presence: tf.Tensor, index: number): tf.Tensor {
  return presence.slice([0, index], [-1, 1]);
}

/** Multiplies a modality's embedding [B, D] by its presence mask: a missing modality contributes exactly 0. */
export class ModalityGate extends tf.layers.Layer {
  static className = "FusiondModalityGate";
  readonly index: number;
  constructor(config: { index: number; name?: string }) {
    super(config);
    this.index = config.index;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [emb, presence] = asList(inputs) as [tf.Tensor, tf.Tensor];
      return emb.mul(presenceColumn(presence, this.index));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), index: this.index };
  }
}

/**
 * Late fusion: per-modality class logits combined by weights that depend on which modalities are present
 * and how old they are: gate = softmax(presence·W + b) over the present modalities; output = softmax(Σ gate·logits).
 */
export class GatedLateFusion extends tf.layers.Layer {
  static className = "FusiondGatedLateFusion";
  readonly indices: number[];
  readonly seed: number | undefined;
  private w!: tf.LayerVariable;
  private b!: tf.LayerVariable;
  constructor(config: { indices: number[]; seed?: number; name?: string }) {
    super(config);
    this.indices = config.indices;
    this.seed = config.seed;
  }
  override build(inputShape: Shape | Shape[]): void {
    const shapes = inputShape as Shape[];
    const p = shapes[shapes.length - 1]![1]!;
    this.w = this.addWeight("gate_kernel", [p, this.indices.length], "float32", tf.initializers.zeros());
    this.b = this.addWeight("gate_bias", [this.indices.length], "float32", tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const list = asList(inputs);
      const presence = list[list.length - 1]!;
      const logits = tf.stack(list.slice(0, -1), 1); // [B, M, C]
      const mask = tf.concat(this.indices.map((i) => presenceColumn(presence, i)), 1); // [B, M]
      const score = presence.matMul(this.w.read()).add(this.b.read()).add(mask.sub(1).mul(1e9));
      const gate = tf.softmax(score).expandDims(2); // [B, M, 1]
      return tf.softmax(logits.mul(gate).sum(1));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), indices: this.indices, ...(this.seed === undefined ? {} : { seed: this.seed }) };
  }
}

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(gamma).add(beta);
}

/**
 * Cross-modal attention: each present modality's embedding becomes a token (plus a learned modality-type
 * embedding); one single-head self-attention block (residual, layer norm, feed-forward) lets tokens attend
 * to the present tokens only; the output is the mean of the present tokens [B, D].
 */
export class ModalityAttention extends tf.layers.Layer {
  static className = "FusiondModalityAttention";
  readonly indices: number[];
  readonly units: number;
  readonly seed: number | undefined;
  private v: Record<string, tf.LayerVariable> = {};
  constructor(config: { indices: number[]; units: number; seed?: number; name?: string }) {
    super(config);
    this.indices = config.indices;
    this.units = config.units;
    this.seed = config.seed;
  }
  override build(_inputShape: Shape | Shape[]): void {
    const d = this.units;
    const m = this.indices.length;
    const s = this.seed;
    const w = (name: string, shape: number[], k: number): void => {
      this.v[name] = this.addWeight(name, shape, "float32", seeded(s === undefined ? undefined : s + k));
    };
    w("type_embedding", [m, d], 1);
    w("wq", [d, d], 2);
    w("wk", [d, d], 3);
    w("wv", [d, d], 4);
    w("wo", [d, d], 5);
    w("ff1", [d, 2 * d], 6);
    w("ff2", [2 * d, d], 7);
    for (const n of ["ln1_gamma", "ln2_gamma"]) this.v[n] = this.addWeight(n, [d], "float32", tf.initializers.ones());
    for (const n of ["ln1_beta", "ln2_beta", "ff1_bias", "ff2_bias"]) {
      this.v[n] = this.addWeight(n, [n === "ff1_bias" ? 2 * d : d], "float32", tf.initializers.zeros());
    }
    this.built = true;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [(inputShape as Shape[])[0]![0]!, this.units];
  }
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const r = (n: string): tf.Tensor => this.v[n]!.read();
      const list = asList(inputs);
      const presence = list[list.length - 1]!;
      const d = this.units;
      const tokens = tf.stack(list.slice(0, -1), 1).add(r("type_embedding")); // [B, M, D]
      const mask = tf.concat(this.indices.map((i) => presenceColumn(presence, i)), 1); // [B, M]
      const flat = tokens.reshape([-1, d]);
      const shape3 = [-1, this.indices.length, d];
      const q = flat.matMul(r("wq")).reshape(shape3);
      const k = flat.matMul(r("wk")).reshape(shape3);
      const v = flat.matMul(r("wv")).reshape(shape3);
      const scores = tf.matMul(q, k, false, true).div(Math.sqrt(d)).add(mask.sub(1).mul(1e9).expandDims(1));
      const ctx = tf.matMul(tf.softmax(scores), v).reshape([-1, d]).matMul(r("wo"));
      const h1 = layerNorm(flat.add(ctx), r("ln1_gamma"), r("ln1_beta"));
      const ff = tf.relu(h1.matMul(r("ff1")).add(r("ff1_bias"))).matMul(r("ff2")).add(r("ff2_bias"));
      const h2 = layerNorm(h1.add(ff), r("ln2_gamma"), r("ln2_beta")).reshape(shape3);
      const m3 = mask.expandDims(2);
      return h2.mul(m3).sum(1).div(mask.sum(1, true).maximum(1));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), indices: this.indices, units: this.units, ...(this.seed === undefined ? {} : { seed: this.seed }) };
  }
}

/** [B, N] mask → [B, N, 1, …] broadcastable against a slot tensor of rank `rank` (with the batch axis). */
const slotMask = (mask: tf.Tensor, rank: number): tf.Tensor => mask.reshape([...mask.shape, ...Array<number>(rank - 2).fill(1)]);

/**
 * Zeroes the masked camera slots of a slot tensor [B, N, …] with the camera mask [B, N]: a masked slot's
 * features reach nothing downstream, whatever they hold (early fusion, which reads the features raw).
 */
export class CameraSlotMask extends tf.layers.Layer {
  static className = "FusiondCameraSlotMask";
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0]!;
  }
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = asList(inputs) as [tf.Tensor, tf.Tensor];
      return x.mul(slotMask(mask, x.rank));
    });
  }
}

/**
 * The camera slots pooled into one embedding: each slot's embedding from the shared encoder [B, N, D] plus a
 * learned embedding of its camera (front, rear, …) [N, D], through ReLU, averaged over the slots whose mask
 * [B, N] is 1 → [B, D]. A masked slot contributes exactly nothing (it is multiplied by 0 before the sum and
 * not counted), so a frame with one camera masked gives what the frame without that camera gives; no slot
 * present gives zeros.
 */
export class CameraSlotPool extends tf.layers.Layer {
  static className = "FusiondCameraSlotPool";
  readonly seed: number | undefined;
  private embedding!: tf.LayerVariable;
  constructor(config: { seed?: number; name?: string }) {
    super(config);
    this.seed = config.seed;
  }
  override build(inputShape: Shape | Shape[]): void {
    const [, n, d] = (inputShape as Shape[])[0]!;
    this.embedding = this.addWeight("camera_embedding", [n!, d!], "float32", seeded(this.seed));
    this.built = true;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (inputShape as Shape[])[0]!;
    return [s[0]!, s[2]!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [emb, mask] = asList(inputs) as [tf.Tensor, tf.Tensor];
      const slots = tf.relu(emb.add(this.embedding.read())).mul(mask.expandDims(2)); // [B, N, D]
      return slots.sum(1).div(mask.sum(1, true).maximum(1));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...(this.seed === undefined ? {} : { seed: this.seed }) };
  }
}

for (const cls of [ModalityGate, GatedLateFusion, ModalityAttention, CameraSlotMask, CameraSlotPool]) tf.serialization.registerClass(cls);
