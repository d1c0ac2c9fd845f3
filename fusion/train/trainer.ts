/**
 * The training loop: seeded shuffles and modality dropout, class-weighted cross-entropy (macro-F1 is the
 * target, and KEEP dominates driving data), a validation split by episode, early stopping on validation
 * macro-F1 with the best weights restored, optional pretrained encoders (frozen, then fine-tuned).
 * Runs on whatever TF.js backend is active (wasm in practice: every layer is matMul-based).
 */
import * as tf from "@tensorflow/tfjs";
import type { Modality } from "../../schemas/index.ts";
import type { InputSpec } from "../features/config.ts";
import { NUM_ACTIONS } from "../actions.ts";
import { strategyByName, type StrategyName } from "../model/strategies.ts";
import { buildBatch, type LabelledSample } from "./dataset.ts";
import { argmaxRows, classificationMetrics, type ClassificationMetrics } from "./metrics.ts";
import { mulberry32, shuffledIndices } from "../../domain/random.ts";

export interface TrainOptions {
  strategy: StrategyName;
  spec: InputSpec;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Stop after this many epochs without a better validation macro-F1. */
  patience: number;
  /** Per-modality dropout probability during training. */
  modalityDropout: number;
  /** Encoders pretrained on their own tasks, copied in by layer name and frozen for `freezeEpochs`. */
  pretrained?: { modality: Modality; model: tf.LayersModel }[];
  freezeEpochs?: number;
  /** Stop after this many seconds of training (the best weights so far are kept). */
  maxSeconds?: number;
  units?: number;
  /** Hidden widths of the shared head (strategies.ts BuildOptions.head). */
  head?: readonly number[];
  onProgress?: (p: Progress) => void;
  onEpoch?: (e: EpochReport) => void;
  /** Monotonic clock in ms (only bin/ uses the wall clock; tests pass a fake). */
  now?: () => number;
}

export interface Progress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  val: ClassificationMetrics;
  best: boolean;
  frozen: boolean;
}

export interface TrainResult {
  model: tf.LayersModel;
  history: EpochReport[];
  bestEpoch: number;
  val: ClassificationMetrics;
  samplesPerSecond: number;
}

/**
 * Inverse-frequency ("balanced") class weights, capped at 20× the most frequent class's, normalised to mean 1
 * over the classes present: macro-F1 counts a rare class (a lane change, a hard brake) as much as KEEP.
 */
export function classWeights(labels: readonly number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  const maxCount = Math.max(1, ...counts);
  const raw = counts.map((c) => (c > 0 ? Math.min(20, maxCount / c) : 0));
  const present = raw.filter((w) => w > 0);
  const mean = present.reduce((a, b) => a + b, 0) / Math.max(1, present.length);
  return raw.map((w) => (w > 0 ? w / mean : 1));
}

function weightedCrossEntropy(weights: number[]): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  const w = tf.keep(tf.tensor1d(weights));
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const p = yPred.clipByValue(1e-7, 1);
      return yTrue.mul(p.log()).mul(w).sum(-1).neg().mean();
    });
}

/** Predicted class probabilities for samples `idx`, in batches. */
export function predictSamples(model: tf.LayersModel, samples: readonly LabelledSample[], idx: readonly number[], spec: InputSpec, batch = 256): Float32Array {
  const classes = (model.outputs[0]!.shape[1] as number) ?? NUM_ACTIONS;
  const out = new Float32Array(idx.length * classes);
  for (let i = 0; i < idx.length; i += batch) {
    const part = idx.slice(i, i + batch);
    const xs = buildBatch(samples, part, spec);
    const y = model.predict(xs) as tf.Tensor;
    out.set(y.dataSync() as Float32Array, i * classes);
    tf.dispose([...xs, y]);
  }
  return out;
}

/** Classification metrics of `model` on the samples at `idx` (validation, test, a condition slice). eval/run/evaluate.ts is the evaluation of a model on drives. */
export function modelMetrics(model: tf.LayersModel, samples: readonly LabelledSample[], idx: readonly number[], spec: InputSpec, labelOf = (s: LabelledSample) => s.label): ClassificationMetrics {
  const classes = model.outputs[0]!.shape[1] as number;
  const probs = predictSamples(model, samples, idx, spec);
  return classificationMetrics(idx.map((i) => labelOf(samples[i]!)), argmaxRows(probs, classes), classes);
}

function setEncodersTrainable(model: tf.LayersModel, modalities: Modality[], trainable: boolean): void {
  for (const layer of model.layers) if (modalities.some((m) => layer.name.startsWith(`${m}_enc_`))) layer.trainable = trainable;
}

/** Copies the weights of every `<modality>_enc_*` layer of `from` into the same-named layer of `to`. */
export function copyEncoder(from: tf.LayersModel, to: tf.LayersModel, modality: Modality): number {
  let copied = 0;
  for (const layer of to.layers) {
    if (!layer.name.startsWith(`${modality}_enc_`) || layer.getWeights().length === 0) continue;
    layer.setWeights(from.getLayer(layer.name).getWeights());
    copied++;
  }
  if (copied === 0) throw new Error(`no ${modality} encoder layers to copy`);
  return copied;
}

export async function train(samples: readonly LabelledSample[], split: { train: number[]; val: number[] }, o: TrainOptions): Promise<TrainResult> {
  const now = o.now ?? (() => 0);
  const model = strategyByName(o.strategy).build(o.spec, { seed: o.seed, ...(o.units ? { units: o.units } : {}), ...(o.head ? { head: o.head } : {}) });
  return fitModel(model, samples, split, o, now, (s) => s.label, NUM_ACTIONS);
}

/** Trains an already built model (the fusion model, or a unimodal pretraining model with its own labels). */
export async function fitModel(
  model: tf.LayersModel,
  samples: readonly LabelledSample[],
  split: { train: number[]; val: number[] },
  o: TrainOptions,
  now: () => number,
  labelOf: (s: LabelledSample) => number,
  classes: number,
): Promise<TrainResult> {
  const loss = weightedCrossEntropy(classWeights(split.train.map((i) => labelOf(samples[i]!)), classes));
  const frozenMods = (o.pretrained ?? []).map((p) => p.modality);
  for (const p of o.pretrained ?? []) copyEncoder(p.model, model, p.modality);
  const freezeEpochs = frozenMods.length ? (o.freezeEpochs ?? 2) : 0;
  const compile = (lr: number): void => model.compile({ optimizer: tf.train.adam(lr), loss });
  if (freezeEpochs > 0) setEncodersTrainable(model, frozenMods, false);
  compile(o.learningRate);
  const rand = mulberry32(o.seed);
  const history: EpochReport[] = [];
  let best: { f1: number; epoch: number; weights: tf.Tensor[] } | undefined;
  let seen = 0;
  const t0 = now();
  const batches = Math.ceil(split.train.length / o.batchSize);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const frozen = epoch <= freezeEpochs;
    if (epoch === freezeEpochs + 1 && freezeEpochs > 0) {
      setEncodersTrainable(model, frozenMods, true); // fine-tune everything at a lower rate
      compile(o.learningRate * 0.3);
    }
    const order = shuffledIndices(split.train.length, rand).map((i) => split.train[i]!);
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      const idx = order.slice(b * o.batchSize, (b + 1) * o.batchSize);
      const xs = buildBatch(samples, idx, o.spec, { p: o.modalityDropout, rand });
      const ys = tf.oneHot(tf.tensor1d(idx.map((i) => labelOf(samples[i]!)), "int32"), classes);
      const l = (await model.trainOnBatch(xs, ys)) as number;
      tf.dispose([...xs, ys]);
      lossSum += l;
      seen += idx.length;
      o.onProgress?.({ epoch, epochs: o.epochs, batch: b + 1, batches, loss: lossSum / (b + 1) });
    }
    const val = modelMetrics(model, samples, split.val.length ? split.val : split.train, o.spec, labelOf);
    const isBest = !best || val.macroF1 > best.f1;
    if (isBest) {
      best?.weights.forEach((w) => w.dispose());
      best = { f1: val.macroF1, epoch, weights: model.getWeights().map((w) => tf.keep(w.clone())) };
    }
    const report = { epoch, loss: lossSum / batches, val, best: isBest, frozen };
    history.push(report);
    o.onEpoch?.(report);
    if (!frozen && epoch - best!.epoch >= o.patience) break;
    if (o.maxSeconds !== undefined && (now() - t0) / 1000 > o.maxSeconds) break;
  }
  model.setWeights(best!.weights);
  best!.weights.forEach((w) => w.dispose());
  const elapsed = (now() - t0) / 1000;
  return {
    model,
    history,
    bestEpoch: best!.epoch,
    val: history[best!.epoch - 1]!.val,
    samplesPerSecond: elapsed > 0 ? seen / elapsed : 0,
  };
}
