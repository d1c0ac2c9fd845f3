/**
 * A TF.js layers model of fusiond written as an ONNX model (opset 13), in TypeScript: no JavaScript exporter
 * from tfjs to ONNX exists (tf2onnx is Python and reads TensorFlow graphs, not tfjs layers). The protobuf
 * classes come from onnx-proto (generated from onnx.proto, onnx 1.10: IR version 8, opsets up to 15).
 *
 * Every layer the four strategies and the wide ensemble use is lowered: dense (Gemm, rank 3 through reshapes,
 * with its activation; a kernel made of zero blocks — a wide ensemble's block-diagonal layers — as one Gemm
 * per member on the columns that member reads, without the zeros: models/default's model.onnx shrinks from 4.2
 * to 1.2 MB, and ORT's b1 call, bound by reading the weights, takes about half the time), flatten, reshape,
 * concatenate, multiply, global max/average pooling, softmax, dropout (identity), average, the modality gate,
 * late fusion's gate, the camera slots' mask and pool and the cross-modal attention block (its layer norm
 * spelt out in ReduceMean/Sub/Mul/Sqrt/Div: LayerNormalization is opset 17, newer than onnx-proto).
 *
 * A wide ensemble runs as its members side by side without moving data between them: the dense layers the
 * members share an input of (per-patch, per-frame, per-return encoders) are split into one Gemm per member's
 * units, and each member's part then flows through the elementwise layers, pooling, flatten and concatenation
 * (Split) to that member's Gemm of the next block layer — no Transpose or batched MatMul, one Gather for the
 * presence columns of all the modality gates (mergeGates), and ORT fuses each Gemm's bias and ReLU and prepacks
 * its weights. (The earlier form, a feature-major batched MatMul with transposes and gathers between, spent
 * ~20% of ORT's time at b256 moving data.)
 *
 * The graph computes what the layers' `call` computes, op for op (the block Gemms leave out only products with
 * exact zeros), so only the kernels' summation order differs (tests compare logits with tfjs within 1e-4). A
 * layer it does not know throws, naming the layer.
 *
 * Pure: model in, bytes out. The inputs keep the model's input order and the input layers' names; the batch
 * dimension is symbolic ("N"); the one output is `OUTPUT_NAME` [N, classes].
 */
import * as tf from "@tensorflow/tfjs";
import onnxProto from "onnx-proto";
import { inboundLayerNames, CameraSlotMask, CameraSlotPool, GatedLateFusion, ModalityAttention, ModalityGate } from "./layers.ts";

const { onnx } = onnxProto;

export const ONNX_OPSET = 13;
export const ONNX_OUTPUT_NAME = "probabilities";
const IR_VERSION = 8;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

type Attr = number | number[] | string;

/** Builds the graph: nodes, initializers and unique value names. */
class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private n = 0;

  /** A fresh value name under `hint`. */
  name(hint: string): string {
    return `${hint}:${this.n++}`;
  }

  op(type: string, inputs: string[], hint: string, attrs: Record<string, Attr> = {}): string {
    const out = this.name(hint);
    this.nodes.push(
      onnx.NodeProto.create({
        opType: type,
        input: inputs,
        output: [out],
        name: `${hint}/${type}:${this.nodes.length}`,
        attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
      }),
    );
    return out;
  }

  float(hint: string, data: Float32Array | readonly number[], dims: readonly number[]): string {
    const name = this.name(hint);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    this.initializers.push(onnx.TensorProto.create({ name, dataType: FLOAT, dims: [...dims], rawData: bytesOf(values) }));
    return name;
  }

  int64(hint: string, values: readonly number[]): string {
    return this.int64Shaped(hint, values, [values.length]);
  }

  int64Shaped(hint: string, values: readonly number[], dims: readonly number[]): string {
    const name = this.name(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dataType: INT64, dims: [...dims], rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) }));
    return name;
  }

  /** Values that are a modality gate's product: `raw` times column `index` of `presence` (concatSplit merges them). */
  readonly gated = new Map<string, { raw: string; presence: string; index: number }>();
  private readonly gathered = new Map<string, string>();

  /** Columns `indices` of `presence` as [B, indices.length], made once per presence and indices. */
  presenceColumns(hint: string, presence: string, indices: readonly number[]): string {
    const key = `${presence}|${indices.join(",")}`;
    let out = this.gathered.get(key);
    if (!out) this.gathered.set(key, (out = this.op("Gather", [presence, this.int64(`${hint}/indices`, indices)], hint, { axis: 1 })));
    return out;
  }

  /** The node that makes `value`, if a node does (not an input or initializer). */
  producer(value: string): InstanceType<typeof onnx.NodeProto> | undefined {
    return this.nodes.find((n) => n.output.includes(value));
  }

  weight(hint: string, t: tf.Tensor): string {
    return this.float(hint, t.dataSync() as Float32Array, t.shape);
  }
}

/** Little-endian bytes of a typed array (ONNX raw_data is little-endian; so is every machine Node runs on here). */
const bytesOf = (a: Float32Array | BigInt64Array): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

function attribute(name: string, v: Attr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "string") return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (Number.isInteger(v)) return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
}

/**
 * A value's last axis as per-member parts (a wide ensemble's members, side by side): part m is the value with
 * only the last-axis columns `cols[m]` ([B, …, k_m]). A block dense (blockDense) reading such parts runs one
 * Gemm per member on its own part: no gather, no transpose, no zero blocks. Parts may share columns (an input
 * every member reads whole).
 */
interface Members {
  parts: string[];
  cols: number[][];
}

/**
 * The value as `n` member parts, made on demand (the graph gains the nodes only when asked, once per `n`), or
 * undefined where the value does not split that way.
 */
type Split = (n: number) => Members | undefined;

/** A Split that makes its parts once per `n`. */
function memo(make: Split): Split {
  const done = new Map<number, Members | undefined>();
  return (n) => {
    if (!done.has(n)) done.set(n, make(n));
    return done.get(n);
  };
}

/** A value of the graph: its name and its shape without the batch axis. */
interface Value {
  name: string;
  shape: number[];
  /** Where the value can be had as per-member parts of its last axis: see Split. */
  split?: Split;
}

const ACTIVATIONS: Record<string, string | undefined> = { linear: undefined, relu: "Relu", sigmoid: "Sigmoid", tanh: "Tanh", elu: "Elu", softmax: "Softmax" };

const lastAxis = (v: Value): number => v.shape.length; // with the batch axis in front

/** The weight of a custom layer by its name (tfjs names them `<layer>/<weight>`, with a suffix when repeated). */
function weightNamed(layer: tf.layers.Layer, name: string): tf.Tensor {
  const i = layer.weights.findIndex((w) => w.originalName.split("/").pop() === name || w.name.split("/").pop()?.replace(/_\d+$/, "") === name);
  if (i < 0) throw new Error(`layer ${layer.name} has no weight ${name}`);
  return layer.getWeights()[i]!;
}

/**
 * A kernel's zero blocks: its output columns in runs that read the same input rows (the rows with a nonzero
 * weight in the column). A wide ensemble's dense layer (wide-ensemble.ts) is block-diagonal where each member
 * reads its own part of the input: one run per member, each reading about 1/n of the rows, the rest exact
 * zeros. Undefined where splitting would not pay: one run, more than MAX_BLOCKS, a run that reads no row,
 * or more than MAX_BLOCK_FRACTION of the kernel's weights still kept.
 */
export function kernelBlocks(kernel: Float32Array, inDim: number, units: number): { cols: [number, number]; rows: number[] }[] | undefined {
  const support = (c: number): number[] => {
    const rows: number[] = [];
    for (let r = 0; r < inDim; r++) if (kernel[r * units + c] !== 0) rows.push(r);
    return rows;
  };
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  const blocks: { cols: [number, number]; rows: number[] }[] = [];
  for (let c = 0; c < units; c++) {
    const rows = support(c);
    const last = blocks[blocks.length - 1];
    if (last && same(last.rows, rows)) last.cols[1] = c + 1;
    else if (blocks.length === MAX_BLOCKS) return undefined;
    else blocks.push({ cols: [c, c + 1], rows });
  }
  const kept = blocks.reduce((a, b) => a + b.rows.length * (b.cols[1] - b.cols[0]), 0);
  if (blocks.length < 2 || blocks.some((b) => b.rows.length === 0) || kept > MAX_BLOCK_FRACTION * inDim * units) return undefined;
  return blocks;
}
const MAX_BLOCKS = 16;

const MAX_BLOCK_FRACTION = 0.6;

const isSubset = (a: readonly number[], b: readonly number[]): boolean => {
  const set = new Set(b);
  return a.every((r) => set.has(r));
};

/**
 * `x` as one part per block, each holding the rows (input columns) that block reads and, where `x`'s parts
 * are so made, a few more (their kernel rows are zeros): `x`'s own parts (x.split: a block dense or a dense
 * layer before it and what came between); else the rows gathered.
 */
function memberParts(g: GraphBuilder, name: string, x: Value, blocks: { rows: number[] }[]): Members {
  const own = x.split?.(blocks.length);
  const fits = own && blocks.every((b, m) => isSubset(b.rows, own.cols[m]!)) && own.cols.reduce((a, c) => a + c.length, 0) <= MAX_PART_GROWTH * blocks.reduce((a, b) => a + b.rows.length, 0);
  if (fits) return own;
  return { parts: blocks.map((b, m) => g.op("Gather", [x.name, g.int64(`${name}/rows_m${m}`, b.rows)], `${name}/m${m}`, { axis: 1 })), cols: blocks.map((b) => b.rows) };
}
/** How much wider than the rows its blocks read the parts a block dense takes as they are may be. */
const MAX_PART_GROWTH = 1.5;

/**
 * A rank-2 dense layer with zero blocks (kernelBlocks): one Gemm per block (member) on the rows it reads
 * (memberParts), with its bias and activation (ORT fuses them into the GEMM and prepacks the weights); the
 * value is the blocks' outputs side by side (a Concat, dropped by pruneGraph where every reader takes the
 * parts), and keeps the parts for what follows. The zeros are neither stored nor multiplied; the products
 * left out are exact zeros. A softmax across the blocks runs on the concatenation.
 */
function blockDense(g: GraphBuilder, name: string, x: Value, kernel: Float32Array, bias: Float32Array | undefined, units: number, blocks: { cols: [number, number]; rows: number[] }[], act: string | undefined): Value {
  const inputs = memberParts(g, name, x, blocks);
  const parts = blocks.map((b, m) => {
    const rows = inputs.cols[m]!;
    const u = b.cols[1] - b.cols[0];
    const w = new Float32Array(rows.length * u);
    rows.forEach((r, j) => {
      for (let c = 0; c < u; c++) w[j * u + c] = kernel[r * units + b.cols[0] + c]!;
    });
    const ins = [inputs.parts[m]!, g.float(`${name}/kernel_m${m}`, w, [rows.length, u])];
    if (bias) ins.push(g.float(`${name}/bias_m${m}`, bias.subarray(b.cols[0], b.cols[1]), [u]));
    const y = g.op("Gemm", ins, `${name}/m${m}`);
    return act && act !== "Softmax" ? g.op(act, [y], `${name}/m${m}`) : y;
  });
  const joined = g.op("Concat", parts, name, { axis: -1 });
  if (act === "Softmax") return { name: g.op(act, [joined], name, { axis: -1 }), shape: [units] };
  const members: Members = { parts, cols: blocks.map((b) => Array.from({ length: b.cols[1] - b.cols[0] }, (_, c) => b.cols[0] + c)) };
  return { name: joined, shape: [units], split: (n) => (n === blocks.length ? members : undefined) };
}

/** Drops the nodes whose outputs nothing reads (e.g. a block dense's transpose back that no layer needed) and the initializers only they read. */
function pruneGraph(g: GraphBuilder, outputs: readonly string[]): void {
  const live = new Set(outputs);
  const kept = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i]!;
    if (!node.output.some((o) => live.has(o))) continue;
    kept.push(node);
    for (const x of node.input) live.add(x);
  }
  g.nodes.splice(0, g.nodes.length, ...kept.reverse());
  const inits = g.initializers.filter((t) => live.has(t.name));
  g.initializers.splice(0, g.initializers.length, ...inits);
}

function dense(g: GraphBuilder, layer: tf.layers.Layer, x: Value): Value {
  const config = layer.getConfig();
  const activation = config["activation"] as string;
  if (!(activation in ACTIVATIONS)) throw new Error(`dense layer ${layer.name}: activation ${activation} has no ONNX export`);
  const [k, b] = layer.getWeights();
  const kv = k!.dataSync() as Float32Array;
  const bv = b ? (b.dataSync() as Float32Array) : undefined;
  const act = ACTIVATIONS[activation];
  const units = k!.shape[1]!;
  if (x.shape.length === 1) {
    const blocks = kernelBlocks(kv, k!.shape[0]!, units);
    if (blocks) return blockDense(g, layer.name, x, kv, bv, units, blocks, act);
  }
  const kernel = g.weight(`${layer.name}/kernel`, k!);
  // Rank 3 ([B, rows, in], e.g. per-patch or per-return dense) runs as one Gemm on [B·rows, in] between two
  // reshapes (free in ORT: no copy), so ORT fuses bias and activation into the GEMM as it does for rank 2.
  const inDim = x.shape[x.shape.length - 1]!;
  const rows = x.shape.length > 1 ? g.op("Reshape", [x.name, g.int64(`${layer.name}/rows`, [-1, inDim])], layer.name) : x.name;
  let y = g.op("Gemm", b ? [rows, kernel, g.weight(`${layer.name}/bias`, b)] : [rows, kernel], layer.name);
  const shape = [...x.shape.slice(0, -1), units];
  if (act === "Softmax") y = g.op(act, [y], layer.name, { axis: -1 });
  else if (act) y = g.op(act, [y], layer.name);
  if (x.shape.length > 1) y = g.op("Reshape", [y, g.int64(`${layer.name}/shape`, [-1, ...shape])], layer.name);
  // Its units as n groups, each its own Gemm on the same input (for a block dense that reads them per member).
  const split = memo((n) => {
    if (units % n !== 0 || act === "Softmax") return undefined;
    const u = units / n;
    const parts = Array.from({ length: n }, (_, m) => {
      const w = new Float32Array(inDim * u);
      for (let r = 0; r < inDim; r++) for (let c = 0; c < u; c++) w[r * u + c] = kv[r * units + m * u + c]!;
      const ins = [rows, g.float(`${layer.name}/kernel_m${m}`, w, [inDim, u])];
      if (bv) ins.push(g.float(`${layer.name}/bias_m${m}`, bv.subarray(m * u, (m + 1) * u), [u]));
      let p = g.op("Gemm", ins, `${layer.name}/m${m}`);
      if (act) p = g.op(act, [p], `${layer.name}/m${m}`);
      return x.shape.length > 1 ? g.op("Reshape", [p, g.int64(`${layer.name}/m${m}/shape`, [-1, ...x.shape.slice(0, -1), u])], `${layer.name}/m${m}`) : p;
    });
    return { parts, cols: parts.map((_, m) => Array.from({ length: u }, (_, c) => m * u + c)) };
  });
  return { name: y, shape, split };
}

/** [B, P] presence → its columns `indices` as [B, M]. */
const columns = (g: GraphBuilder, hint: string, presence: string, indices: readonly number[]): string => g.op("Gather", [presence, g.int64(`${hint}/indices`, indices)], hint, { axis: 1 });

/** Stacks [B, D] values on a new axis 1: [B, M, D]. */
function stack(g: GraphBuilder, hint: string, xs: readonly string[]): string {
  const axes = g.int64(`${hint}/axis1`, [1]);
  const un = xs.map((x) => g.op("Unsqueeze", [x, axes], hint));
  return un.length === 1 ? un[0]! : g.op("Concat", un, hint, { axis: 1 });
}

/** (mask − 1) · 1e9: 0 where present, −1e9 where absent, as the layers add it to scores. */
function maskPenalty(g: GraphBuilder, hint: string, mask: string): string {
  return g.op("Mul", [g.op("Sub", [mask, g.float(`${hint}/one`, [1], [])], hint), g.float(`${hint}/big`, [1e9], [])], hint);
}

function lateGate(g: GraphBuilder, layer: GatedLateFusion, ins: Value[]): Value {
  const h = layer.name;
  const presence = ins[ins.length - 1]!.name;
  const logits = stack(g, h, ins.slice(0, -1).map((v) => v.name)); // [B, M, C]
  const mask = columns(g, h, presence, layer.indices);
  let score = g.op("MatMul", [presence, g.weight(`${h}/gate_kernel`, weightNamed(layer, "gate_kernel"))], h);
  score = g.op("Add", [score, g.weight(`${h}/gate_bias`, weightNamed(layer, "gate_bias"))], h);
  score = g.op("Add", [score, maskPenalty(g, h, mask)], h);
  const gate = g.op("Unsqueeze", [g.op("Softmax", [score], h, { axis: -1 }), g.int64(`${h}/axis2`, [2])], h);
  const summed = g.op("ReduceSum", [g.op("Mul", [logits, gate], h), g.int64(`${h}/axis1`, [1])], h, { keepdims: 0 });
  return { name: g.op("Softmax", [summed], h, { axis: -1 }), shape: ins[0]!.shape };
}

function layerNorm(g: GraphBuilder, hint: string, x: string, gamma: string, beta: string): string {
  const mean = g.op("ReduceMean", [x], hint, { axes: [-1], keepdims: 1 });
  const centred = g.op("Sub", [x, mean], hint);
  const variance = g.op("ReduceMean", [g.op("Mul", [centred, centred], hint)], hint, { axes: [-1], keepdims: 1 });
  const std = g.op("Sqrt", [g.op("Add", [variance, g.float(`${hint}/eps`, [1e-5], [])], hint)], hint);
  return g.op("Add", [g.op("Mul", [g.op("Div", [centred, std], hint), gamma], hint), beta], hint);
}

function attention(g: GraphBuilder, layer: ModalityAttention, ins: Value[]): Value {
  const h = layer.name;
  const d = layer.units;
  const m = layer.indices.length;
  const w = (n: string): string => g.weight(`${h}/${n}`, weightNamed(layer, n));
  const presence = ins[ins.length - 1]!.name;
  const tokens = g.op("Add", [stack(g, h, ins.slice(0, -1).map((v) => v.name)), w("type_embedding")], h); // [B, M, D]
  const mask = columns(g, h, presence, layer.indices); // [B, M]
  const flatShape = g.int64(`${h}/flat`, [-1, d]);
  const shape3 = g.int64(`${h}/shape3`, [-1, m, d]);
  const flat = g.op("Reshape", [tokens, flatShape], h);
  const proj = (n: string): string => g.op("Reshape", [g.op("MatMul", [flat, w(n)], h), shape3], h);
  const [q, k, v] = [proj("wq"), proj("wk"), proj("wv")];
  let scores = g.op("MatMul", [q, g.op("Transpose", [k], h, { perm: [0, 2, 1] })], h);
  scores = g.op("Div", [scores, g.float(`${h}/sqrt_d`, [Math.sqrt(d)], [])], h);
  scores = g.op("Add", [scores, g.op("Unsqueeze", [maskPenalty(g, h, mask), g.int64(`${h}/axis1`, [1])], h)], h);
  const attended = g.op("MatMul", [g.op("Softmax", [scores], h, { axis: -1 }), v], h);
  const ctx = g.op("MatMul", [g.op("Reshape", [attended, flatShape], h), w("wo")], h);
  const h1 = layerNorm(g, `${h}/ln1`, g.op("Add", [flat, ctx], h), w("ln1_gamma"), w("ln1_beta"));
  const hidden = g.op("Relu", [g.op("Add", [g.op("MatMul", [h1, w("ff1")], h), w("ff1_bias")], h)], h);
  const ff = g.op("Add", [g.op("MatMul", [hidden, w("ff2")], h), w("ff2_bias")], h);
  const h2 = g.op("Reshape", [layerNorm(g, `${h}/ln2`, g.op("Add", [h1, ff], h), w("ln2_gamma"), w("ln2_beta")), shape3], h);
  const axis1 = g.int64(`${h}/axis1`, [1]);
  const pooled = g.op("ReduceSum", [g.op("Mul", [h2, g.op("Unsqueeze", [mask, g.int64(`${h}/axis2`, [2])], h)], h), axis1], h, { keepdims: 0 });
  const count = g.op("Max", [g.op("ReduceSum", [mask, axis1], h, { keepdims: 1 }), g.float(`${h}/one`, [1], [])], h);
  return { name: g.op("Div", [pooled, count], h), shape: [d] };
}

/** CameraSlotMask: x [B, N, …] · mask [B, N] reshaped to [B, N, 1, …]. */
function cameraSlotMask(g: GraphBuilder, layer: CameraSlotMask, [x, mask]: Value[]): Value {
  const h = layer.name;
  const shape = g.int64(`${h}/shape`, [-1, mask!.shape[0]!, ...Array<number>(x!.shape.length - 1).fill(1)]);
  return { name: g.op("Mul", [x!.name, g.op("Reshape", [mask!.name, shape], h)], h), shape: x!.shape };
}

/** CameraSlotPool: Σ_n mask · relu(emb + E) / max(Σ mask, 1). */
function cameraSlotPool(g: GraphBuilder, layer: CameraSlotPool, [emb, mask]: Value[]): Value {
  const h = layer.name;
  const axis1 = g.int64(`${h}/axis1`, [1]);
  const slots = g.op("Relu", [g.op("Add", [emb!.name, g.weight(`${h}/camera_embedding`, weightNamed(layer, "camera_embedding"))], h)], h);
  const kept = g.op("Mul", [slots, g.op("Unsqueeze", [mask!.name, g.int64(`${h}/axis2`, [2])], h)], h);
  const summed = g.op("ReduceSum", [kept, axis1], h, { keepdims: 0 });
  const count = g.op("Max", [g.op("ReduceSum", [mask!.name, axis1], h, { keepdims: 1 }), g.float(`${h}/one`, [1], [])], h);
  return { name: g.op("Div", [summed, count], h), shape: [emb!.shape[1]!] };
}

/**
 * The per-member parts of a concatenation of rank-2 values (last axis) where some split in n: member m's part
 * is the concatenation of their parts m and of the other inputs whole (an input every member reads, e.g.
 * presence). Undefined where none splits, or the whole inputs would make the parts much wider than the
 * concatenation split n ways.
 */
function concatSplit(g: GraphBuilder, hint: string, ins: readonly Value[]): Split | undefined {
  if (ins.some((v) => v.shape.length !== 1) || !ins.some((v) => v.split)) return undefined;
  return memo((n) => {
    const split = ins.map((v) => v.split?.(n));
    if (split.every((sp) => !sp)) return undefined;
    const width = ins.reduce((a, v) => a + v.shape[0]!, 0);
    const whole = ins.reduce((a, v, i) => a + (split[i] ? 0 : v.shape[0]!), 0);
    if (whole * n > MAX_SHARED_FRACTION * width) return undefined;
    const parts: string[] = [];
    const cols: number[][] = [];
    for (let m = 0; m < n; m++) {
      let offset = 0;
      const c: number[] = [];
      const names = ins.map((v, i) => {
        const at = offset;
        offset += v.shape[0]!;
        const sp = split[i];
        if (sp) {
          c.push(...sp.cols[m]!.map((j) => at + j));
          return { name: sp.parts[m]!, width: sp.cols[m]!.length };
        }
        for (let j = 0; j < v.shape[0]!; j++) c.push(at + j);
        return { name: v.name, width: v.shape[0]! };
      });
      const merged = mergeGates(g, `${hint}/m${m}`, names);
      parts.push(merged.length === 1 ? merged[0]! : g.op("Concat", merged, `${hint}/m${m}`, { axis: -1 }));
      cols.push(c);
    }
    return { parts, cols };
  });
}
/**
 * Concatenation inputs with runs of modality-gated parts (each `raw` · one presence column) merged: a run's raw
 * parts concatenated, times their presence columns gathered once ([B, width], shared by every member) — one
 * Concat and one Mul for the run instead of a Mul per part. The same products: x · p either way.
 */
function mergeGates(g: GraphBuilder, hint: string, items: readonly { name: string; width: number }[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; ) {
    const first = g.gated.get(items[i]!.name);
    let j = i + 1;
    while (first && j < items.length && g.gated.get(items[j]!.name)?.presence === first.presence) j++;
    if (!first || j - i < 2) {
      out.push(items[i]!.name);
      i++;
      continue;
    }
    const run = items.slice(i, j);
    const gates = run.map((it) => g.gated.get(it.name)!);
    const raw = g.op("Concat", gates.map((x) => x.raw), `${hint}/gated`, { axis: -1 });
    const cols = g.presenceColumns(`${hint}/gates`, first.presence, run.flatMap((it, k) => Array<number>(it.width).fill(gates[k]!.index)));
    out.push(g.op("Mul", [raw, cols], `${hint}/gated`));
    i = j;
  }
  return out;
}

/** How much of a concatenation the inputs every member reads whole may make up, counted once per member. */
const MAX_SHARED_FRACTION = 0.5;

/** Each part of `x`'s split through `op` (one that keeps the last axis' columns: elementwise, pooling another axis). */
const mapSplit = (x: Value, op: (part: string, m: number) => string): Split | undefined =>
  x.split &&
  memo((n) => {
    const sp = x.split!(n);
    return sp && { parts: sp.parts.map(op), cols: sp.cols };
  });

/** One layer's ONNX nodes; returns its output value. */
function lower(g: GraphBuilder, layer: tf.layers.Layer, ins: Value[]): Value {
  const cls = layer.getClassName();
  const config = layer.getConfig();
  const x = ins[0]!;
  switch (cls) {
    case "Dense":
      return dense(g, layer, x);
    case "Flatten": {
      const flat: Value = { name: g.op("Flatten", [x.name], layer.name, { axis: 1 }), shape: [x.shape.reduce((a, b) => a * b, 1)] };
      if (!x.split || x.shape.length !== 2) return flat;
      // [B, F, U] split on its last axis → [B, F·U]: part m flattened holds columns f·U + c for its c.
      const [f, u] = x.shape as [number, number];
      const split = memo((n) => {
        const sp = x.split!(n);
        // A part that is a reshape (a split dense's [B·F, u] → [B, F, u]) is reshaped once, straight to [B, F·u]:
        // one node fewer per member (ORT's cost at b1 is mostly per node).
        const flatten = (p: string, m: number): string => {
          const made = g.producer(p);
          const shape = () => g.int64(`${layer.name}/m${m}/shape`, [-1, f * sp!.cols[m]!.length]);
          return made?.opType === "Reshape" ? g.op("Reshape", [made.input[0]!, shape()], `${layer.name}/m${m}`) : g.op("Flatten", [p], `${layer.name}/m${m}`, { axis: 1 });
        };
        return sp && { parts: sp.parts.map(flatten), cols: sp.cols.map((c) => Array.from({ length: f * c.length }, (_, i) => Math.floor(i / c.length) * u + c[i % c.length]!)) };
      });
      return { ...flat, split };
    }
    case "Reshape": {
      const target = config["targetShape"] as number[];
      return { name: g.op("Reshape", [x.name, g.int64(`${layer.name}/shape`, [-1, ...target])], layer.name), shape: target };
    }
    case "Concatenate": {
      const axis = config["axis"] as number;
      if (axis !== -1 && axis !== x.shape.length) throw new Error(`concatenate ${layer.name}: only the last axis is exported (axis ${axis})`);
      const last = ins.reduce((a, v) => a + v.shape[v.shape.length - 1]!, 0);
      const joined: Value = { name: g.op("Concat", ins.map((v) => v.name), layer.name, { axis: -1 }), shape: [...x.shape.slice(0, -1), last] };
      const split = concatSplit(g, layer.name, ins);
      return split ? { ...joined, split } : joined;
    }
    case "Multiply": {
      const widest = ins.reduce((a, v) => (v.shape[v.shape.length - 1]! > a.shape[a.shape.length - 1]! ? v : a));
      const product: Value = { name: ins.slice(1).reduce((a, v) => g.op("Mul", [a, v.name], layer.name), x.name), shape: widest.shape };
      // Two factors, one split and the other broadcast along the last axis (a mask [B, P, 1]): per part.
      const [a, b] = ins;
      const other = ins.length === 2 && a!.split ? b! : ins.length === 2 && b!.split ? a! : undefined;
      const split = other && other.shape[other.shape.length - 1] === 1 && other.shape.length === widest.shape.length ? mapSplit(other === b ? a! : b!, (p, m) => g.op("Mul", other === b ? [p, b.name] : [a!.name, p], `${layer.name}/m${m}`)) : undefined;
      return split ? { ...product, split } : product;
    }
    case "Average": {
      const sum = ins.slice(1).reduce((a, v) => g.op("Add", [a, v.name], layer.name), x.name);
      return { name: g.op("Div", [sum, g.float(`${layer.name}/n`, [ins.length], [])], layer.name), shape: x.shape };
    }
    case "GlobalMaxPooling1D":
    case "GlobalAveragePooling1D": {
      if ((config["dataFormat"] ?? "channelsLast") !== "channelsLast") throw new Error(`${cls} ${layer.name}: only channelsLast is exported`);
      const op = cls === "GlobalMaxPooling1D" ? "ReduceMax" : "ReduceMean";
      const pooled: Value = { name: g.op(op, [x.name], layer.name, { axes: [1], keepdims: 0 }), shape: x.shape.slice(1) };
      const split = x.shape.length === 2 ? mapSplit(x, (p, m) => g.op(op, [p], `${layer.name}/m${m}`, { axes: [1], keepdims: 0 })) : undefined;
      return split ? { ...pooled, split } : pooled;
    }
    case "Softmax": {
      const axis = config["axis"] as number | number[];
      const a = Array.isArray(axis) ? axis : [axis];
      if (a.length !== 1 || (a[0] !== -1 && a[0] !== lastAxis(x))) throw new Error(`softmax ${layer.name}: only the last axis is exported`);
      return { name: g.op("Softmax", [x.name], layer.name, { axis: -1 }), shape: x.shape };
    }
    case "Dropout":
      return x;
    case ModalityGate.className: {
      const column = columns(g, layer.name, ins[1]!.name, [(layer as ModalityGate).index]);
      const gated: Value = { name: g.op("Mul", [x.name, column], layer.name), shape: x.shape };
      const index = (layer as ModalityGate).index;
      const split = mapSplit(x, (p, m) => {
        const out = g.op("Mul", [p, column], `${layer.name}/m${m}`);
        g.gated.set(out, { raw: p, presence: ins[1]!.name, index });
        return out;
      });
      return split ? { ...gated, split } : gated;
    }
    case GatedLateFusion.className:
      return lateGate(g, layer as GatedLateFusion, ins);
    case ModalityAttention.className:
      return attention(g, layer as ModalityAttention, ins);
    case CameraSlotMask.className:
      return cameraSlotMask(g, layer as CameraSlotMask, ins);
    case CameraSlotPool.className:
      return cameraSlotPool(g, layer as CameraSlotPool, ins);
    default:
      throw new Error(`layer ${layer.name} (${cls}) has no ONNX export; the exporter knows the layers of the early, intermediate, late and attention strategies and the ensembles`);
  }
}

const valueInfo = (name: string, dims: (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
  });

export interface OnnxExportOptions {
  /** Written into the model's doc string and metadata (e.g. the model id and its tfjs hash). */
  docString?: string;
  metadata?: Record<string, string>;
}

/** The model as ONNX bytes (see the module comment). Throws, naming the layer, on a layer it cannot lower. */
export function exportOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  if (model.outputs.length !== 1) throw new Error(`ONNX export needs a model with one output; ${model.name} has ${model.outputs.length}`);
  const g = new GraphBuilder();
  const values = new Map<string, Value>();
  const inputs = model.inputs.map((t) => {
    const name = t.sourceLayer.name;
    const shape = t.shape.slice(1) as number[];
    values.set(name, { name, shape });
    return valueInfo(name, ["N", ...shape]);
  });
  for (const layer of model.layers) {
    if (layer.getClassName() === "InputLayer") continue;
    const ins = inboundLayerNames(layer);
    if (!ins) throw new Error(`layer ${layer.name} is applied ${layer.inboundNodes.length} times; the ONNX export needs each layer applied once`);
    values.set(layer.name, lower(g, layer, ins.map((n) => values.get(n)!)));
  }
  const out = values.get(model.outputLayers[0]!.name)!;
  g.nodes.push(onnx.NodeProto.create({ opType: "Identity", input: [out.name], output: [ONNX_OUTPUT_NAME], name: "output/Identity" }));
  pruneGraph(g, [ONNX_OUTPUT_NAME]);
  const graph = onnx.GraphProto.create({
    name: model.name,
    node: g.nodes,
    initializer: g.initializers,
    input: inputs,
    output: [valueInfo(ONNX_OUTPUT_NAME, ["N", ...out.shape])],
  });
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: "fusiond",
    producerVersion: "1",
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    graph,
    ...(options.docString ? { docString: options.docString } : {}),
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** A one-node model (y = x + x, x: [N, 4]): what backend selection runs to check that an execution provider works. */
export function tinyOnnxModel(): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: "probe",
    node: [onnx.NodeProto.create({ opType: "Add", input: ["x", "x"], output: ["y"], name: "add" })],
    input: [valueInfo("x", ["N", 4])],
    output: [valueInfo("y", ["N", 4])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: IR_VERSION, producerName: "fusiond", opsetImport: [{ domain: "", version: ONNX_OPSET }], graph })).finish();
}
