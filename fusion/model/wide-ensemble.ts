/**
 * An ensemble fused into one model as wide as all its members together ("side by side"): every layer of the
 * members becomes one layer holding all of them — a dense layer's kernels concatenated where the members
 * read a shared input, block-diagonal where each reads its own part — so the whole ensemble runs in the
 * op count of one member. At batch 1 a model this small costs per op dispatched, not per FLOP (wasm: ~0.4 ms
 * for one member, ~0.9 ms for three as a flat graph, `ensembleOf`); the wide form adds the members' FLOPs
 * (mostly multiplied zeros off the diagonal blocks) but no ops beyond the final reshape, softmax and mean.
 *
 * Exact: the wide model computes each member's activations unchanged (the zero blocks add exact zeros) and
 * averages the members' softmax outputs, as `ensembleOf` does; a test compares the two.
 *
 * Only layers that act on the last axis alone, or elementwise, can be widened: dense, flatten, a reshape that
 * merges trailing axes, concatenate, multiply by a broadcast mask, global max pooling, dropout, the modality
 * gate and the camera slots' mask and pool (the pool's camera embedding [N, D] is widened like a bias) — the
 * `early` and `intermediate` strategies, with one camera or several. Others (attention, late fusion's gate)
 * get a clear error.
 */
import * as tf from "@tensorflow/tfjs";
import { sizeOf } from "../features/config.ts";
import { CameraSlotMask, CameraSlotPool, inboundLayerNames, ModalityGate } from "./layers.ts";

export const WIDE_ENSEMBLE_OUTPUT = "ensemble_mean";

type Sym = tf.SymbolicTensor;
type LayerCtor = new (config: tf.serialization.ConfigDict) => tf.layers.Layer;

/**
 * A tensor of the wide model: for member k, `index[k][j]` is where feature j of that member's tensor (its
 * last axis) sits on the wide tensor's last axis. A shared tensor (an input) has the identity for every member.
 */
interface Wide {
  t: Sym;
  /** Width of the wide tensor's last axis. */
  width: number;
  index: number[][];
  shared: boolean;
}

/** Layers whose output keeps the last axis as it is (elementwise, or pooling over another axis). */
const PASS_THROUGH = new Set(["Dropout", "GlobalMaxPooling1D", "GlobalAveragePooling1D", ModalityGate.className, CameraSlotMask.className]);

const lastDim = (t: Sym): number => t.shape[t.shape.length - 1] as number;

function inboundNames(layer: tf.layers.Layer): string[] {
  const names = inboundLayerNames(layer);
  if (!names) throw new Error(`layer ${layer.name} is used ${layer.inboundNodes.length} times; a wide ensemble needs each layer used once`);
  return names;
}

/** The members' weights of one layer, checked to have the same shapes. */
function memberWeights(members: readonly tf.LayersModel[], name: string): tf.Tensor[][] {
  const ws = members.map((m, k) => {
    const l = m.layers.find((x) => x.name === name);
    if (!l) throw new Error(`ensemble member ${k + 1} has no layer ${name}: the members must be built alike`);
    return l.getWeights();
  });
  const shapes = ws.map((w) => w.map((t) => t.shape.join("×")).join(","));
  if (shapes.some((s) => s !== shapes[0])) throw new Error(`layer ${name}: members' weight shapes differ (${shapes.join(" / ")})`);
  return ws;
}

/** How many leading axes (after the batch) a reshape keeps, when it merges the rest into its last axis; else an error. */
function keptAxes(name: string, shape: readonly number[], target: readonly number[]): number {
  const keep = target.length - 1;
  const same = keep >= 0 && keep < shape.length && target.slice(0, keep).every((v, i) => v === shape[i]) && target[keep] === sizeOf(shape.slice(keep));
  if (!same) throw new Error(`reshape ${name}: only a reshape that merges trailing axes can be widened (${shape.join("×")} → ${target.join("×")})`);
  return keep;
}

export function wideEnsembleOf(members: readonly tf.LayersModel[], name = "ensemble"): tf.LayersModel {
  if (members.length === 0) throw new Error("an ensemble needs at least one member");
  const n = members.length;
  const first = members[0]!;
  if (first.outputs.length !== 1) throw new Error(`a wide ensemble needs one output; the members have ${first.outputs.length}`);
  const outputLayer = first.outputLayers[0]!;
  const byName = new Map<string, Wide>();
  const pending: { layer: tf.layers.Layer; weights: () => tf.Tensor[] }[] = [];
  const inputByName = new Map<string, Sym>();
  let output: Sym | undefined;

  for (const layer of first.layers) {
    const cls = layer.getClassName();
    if (cls === "InputLayer") {
      const t = first.inputs.find((i) => i.sourceLayer.name === layer.name)!;
      const input = tf.input({ shape: t.shape.slice(1) as number[], name: layer.name, dtype: t.dtype });
      inputByName.set(layer.name, input);
      const w = lastDim(t);
      const id = Array.from({ length: w }, (_, j) => j);
      byName.set(layer.name, { t: input, width: w, index: members.map(() => id), shared: true });
      continue;
    }
    const ins = inboundNames(layer).map((s) => byName.get(s)!);
    const memberIn = (layer.input instanceof Array ? layer.input : [layer.input]) as Sym[];
    const config = layer.getConfig();
    if (cls === "Dense") {
      const x = ins[0]!;
      const inDim = lastDim(memberIn[0]!);
      const units = config["units"] as number;
      const isOutput = layer === outputLayer;
      const activation = config["activation"] as string;
      if (isOutput && activation !== "softmax") throw new Error(`the members' output layer ${layer.name} must be a softmax dense layer (got ${activation})`);
      const wide = tf.layers.dense({ units: n * units, activation: isOutput ? "linear" : (activation as "relu"), useBias: config["useBias"] as boolean, name: isOutput ? `${layer.name}_logits` : layer.name });
      const t = wide.apply(x.t) as Sym;
      const ws = memberWeights(members, layer.name);
      pending.push({
        layer: wide,
        weights: () => {
          const kernel = new Float32Array(x.width * n * units);
          const bias = new Float32Array(n * units);
          ws.forEach((w, k) => {
            const kv = w[0]!.dataSync();
            for (let j = 0; j < inDim; j++) {
              const row = x.index[k]![j]! * n * units + k * units;
              for (let c = 0; c < units; c++) kernel[row + c] = kv[j * units + c]!;
            }
            if (w[1]) bias.set(w[1].dataSync(), k * units);
          });
          return [tf.tensor2d(kernel, [x.width, n * units]), ...(config["useBias"] ? [tf.tensor1d(bias)] : [])];
        },
      });
      const index = members.map((_, k) => Array.from({ length: units }, (_, c) => k * units + c));
      if (isOutput) {
        // Per-member softmax, then the mean over members: [B, n·C] → [B, n, C] → softmax → mean.
        const perMember = tf.layers.reshape({ targetShape: [n, units], name: "ensemble_members" }).apply(t) as Sym;
        const probs = tf.layers.softmax({ axis: -1, name: "ensemble_softmax" }).apply(perMember) as Sym;
        output = tf.layers.globalAveragePooling1d({ name: WIDE_ENSEMBLE_OUTPUT }).apply(probs) as Sym;
      }
      byName.set(layer.name, { t, width: n * units, index, shared: false });
    } else if (cls === "Flatten" || cls === "Reshape") {
      // Both merge trailing axes into the last: flatten all after the batch, a reshape those after the axes it keeps.
      const x = ins[0]!;
      const shape = memberIn[0]!.shape.slice(1) as number[];
      const keep = cls === "Flatten" ? 0 : keptAxes(layer.name, shape, config["targetShape"] as number[]);
      if (shape.length - keep < 2) throw new Error(`${cls.toLowerCase()} ${layer.name}: expected axes to merge, per sample ${shape.join("×")}`);
      const inner = shape[shape.length - 1]!;
      const outer = sizeOf(shape.slice(keep, -1));
      const wideLayer = cls === "Flatten" ? tf.layers.flatten({ name: layer.name }) : tf.layers.reshape({ targetShape: [...shape.slice(0, keep), outer * x.width], name: layer.name });
      const t = wideLayer.apply(x.t) as Sym;
      const index = members.map((_, k) => {
        const ix: number[] = [];
        for (let p = 0; p < outer; p++) for (let f = 0; f < inner; f++) ix.push(p * x.width + x.index[k]![f]!);
        return ix;
      });
      byName.set(layer.name, { t, width: outer * x.width, index, shared: x.shared });
    } else if (cls === CameraSlotPool.className) {
      // relu(emb + E) · mask, averaged over the slots: elementwise on the last axis, with E [N, D] laid out as the input.
      const [x, mask] = ins as [Wide, Wide];
      if (!mask.shared) throw new Error(`layer ${layer.name} (${cls}): the camera mask must be an input`);
      const wide = new CameraSlotPool({ name: layer.name });
      const t = wide.apply([x.t, mask.t]) as Sym;
      const ws = memberWeights(members, layer.name);
      const [slots, d] = ws[0]![0]!.shape as [number, number];
      pending.push({
        layer: wide,
        weights: () => {
          const e = new Float32Array(slots * x.width);
          ws.forEach((w, k) => {
            const v = w[0]!.dataSync();
            for (let s = 0; s < slots; s++) for (let j = 0; j < d; j++) e[s * x.width + x.index[k]![j]!] = v[s * d + j]!;
          });
          return [tf.tensor2d(e, [slots, x.width])];
        },
      });
      byName.set(layer.name, { t, width: x.width, index: x.index, shared: false });
    } else if (cls === "Concatenate") {
      if ((config["axis"] as number) !== -1) throw new Error(`concatenate ${layer.name}: only the last axis can be widened`);
      const t = tf.layers.concatenate({ name: layer.name }).apply(ins.map((i) => i.t)) as Sym;
      let offset = 0;
      const index: number[][] = members.map(() => []);
      for (const i of ins) {
        for (let k = 0; k < n; k++) index[k]!.push(...i.index[k]!.map((v) => v + offset));
        offset += i.width;
      }
      byName.set(layer.name, { t, width: offset, index, shared: ins.every((i) => i.shared) });
    } else if (cls === "Multiply") {
      const wideIns = ins.filter((i) => !i.shared);
      const ok = wideIns.length <= 1 && ins.every((i) => !i.shared || i.width === 1 || wideIns.length === 0);
      if (!ok) throw new Error(`multiply ${layer.name}: only one member-specific input times broadcast masks (last axis 1) can be widened`);
      const t = tf.layers.multiply({ name: layer.name }).apply(ins.map((i) => i.t)) as Sym;
      const src = wideIns[0] ?? ins[0]!;
      byName.set(layer.name, { t, width: src.width, index: src.index, shared: wideIns.length === 0 });
    } else if (PASS_THROUGH.has(cls)) {
      const Ctor = layer.constructor as unknown as LayerCtor;
      const t = new Ctor(config).apply(ins.length === 1 ? ins[0]!.t : ins.map((i) => i.t)) as Sym;
      const src = ins[0]!;
      // The gate's second input (presence) is shared; a member-specific one would mix members.
      if (ins.slice(1).some((i) => !i.shared)) throw new Error(`layer ${layer.name} (${cls}): only its first input may be member-specific`);
      byName.set(layer.name, { t, width: src.width, index: src.index, shared: src.shared });
    } else {
      throw new Error(`layer ${layer.name} (${cls}) cannot be widened into an ensemble: only the early and intermediate strategies (dense, flatten, concatenate, masks, pooling, gates) fuse side by side`);
    }
  }
  if (!output) throw new Error("the members' output layer was not reached");
  // The members' input order, which the input spec (and every caller) follows.
  const inputs = first.inputs.map((i) => inputByName.get(i.sourceLayer.name)!);
  const model = tf.model({ inputs, outputs: output, name });
  for (const p of pending) {
    const w = p.weights();
    p.layer.setWeights(w);
    tf.dispose(w);
  }
  return model;
}
