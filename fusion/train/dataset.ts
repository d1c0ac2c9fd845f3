/**
 * A labelled training set held as per-sample feature arrays (the output of extractFeatures), and the
 * batching that turns a list of samples into model inputs, with optional modality dropout.
 */
import * as tf from "@tensorflow/tfjs";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import { INPUT_MODALITY, sizeOf, type InputName, type InputSpec } from "../features/config.ts";

export interface LabelledSample {
  /** Every input as extractFeatures made it (full modality set; restricted to a spec when batched). */
  inputs: Record<InputName, Float32Array>;
  /** Action class index (see actions.ts). */
  label: number;
  /** Split unit: samples of one group (episode) all go to training or all to validation. */
  group: string;
  /** Conditions, for per-condition metrics (e.g. weather "FOG", "NIGHT"). */
  tags: { weather: string; inTunnel: boolean };
  /** Labels of the unimodal pretraining tasks. */
  aux: { obstacleAhead: number; command: number };
}

export interface DropoutOptions {
  /** Probability of dropping each modality of each sample. */
  p: number;
  rand: () => number;
}

/**
 * Model inputs [B, ...shape] for samples `idx`, in spec order. Modalities outside the spec have their
 * presence zeroed. With dropout, each sample loses each modality with probability p (its inputs and its
 * presence zeroed, as if the sensor were missing), keeping at least one present modality; with several
 * cameras, each present camera slot of a kept camera modality is also dropped with probability p (its
 * features and mask bit zeroed, as when that one camera fails), keeping at least one.
 */
export function buildBatch(samples: readonly LabelledSample[], idx: readonly number[], spec: InputSpec, dropout?: DropoutOptions): tf.Tensor[] {
  const arrays = spec.inputs.map((i) => new Float32Array(idx.length * sizeOf(i.shape)));
  const sizes = spec.inputs.map((i) => sizeOf(i.shape));
  const presenceAt = spec.inputs.findIndex((i) => i.name === "presence");
  const cameraAt = spec.inputs.findIndex((i) => i.name === "camera");
  const maskAt = spec.inputs.findIndex((i) => i.name === "camera_mask");
  const nm = MODALITIES.length;
  idx.forEach((si, row) => {
    const s = samples[si]!;
    const dropped = new Set<Modality>();
    if (dropout && dropout.p > 0) {
      const present = spec.modalities.filter((m) => s.inputs.presence[MODALITIES.indexOf(m)] === 1);
      for (const m of present) if (dropout.rand() < dropout.p) dropped.add(m);
      if (dropped.size === present.length && present.length > 0) dropped.delete(present[Math.floor(dropout.rand() * present.length)]!);
    }
    spec.inputs.forEach((input, k) => {
      const mod = INPUT_MODALITY[input.name];
      if (mod !== null && dropped.has(mod)) return; // stays zero
      arrays[k]!.set(s.inputs[input.name], row * sizes[k]!);
    });
    if (dropout && dropout.p > 0 && maskAt >= 0 && !dropped.has("camera")) dropCameraSlots(arrays[cameraAt]!, arrays[maskAt]!, row, sizes[maskAt]!, dropout);
    if (presenceAt >= 0) {
      const p = arrays[presenceAt]!;
      const base = row * sizes[presenceAt]!;
      MODALITIES.forEach((m, i) => {
        if (!spec.modalities.includes(m) || dropped.has(m)) p[base + i] = p[base + nm + i] = 0;
      });
    }
  });
  return spec.inputs.map((i, k) => tf.tensor(arrays[k]!, [idx.length, ...i.shape]));
}

/** Camera-slot dropout of one batch row (see buildBatch): slots of [slots × per] camera values and their mask. */
function dropCameraSlots(camera: Float32Array, mask: Float32Array, row: number, slots: number, dropout: DropoutOptions): void {
  const per = camera.length / mask.length;
  const present = Array.from({ length: slots }, (_, i) => row * slots + i).filter((k) => mask[k] === 1);
  const drop = present.filter(() => dropout.rand() < dropout.p);
  if (drop.length === present.length) drop.splice(Math.floor(dropout.rand() * drop.length), 1);
  for (const k of drop) {
    mask[k] = 0;
    camera.fill(0, k * per, (k + 1) * per);
  }
}

/** Split by group: a seeded fraction of the groups (at least one, when there are two or more) validates. */
export function splitByGroup(samples: readonly LabelledSample[], valFraction: number, rand: () => number): { train: number[]; val: number[] } {
  const groups = [...new Set(samples.map((s) => s.group))].sort();
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  let nVal = Math.round(groups.length * valFraction);
  if (groups.length >= 2) nVal = Math.max(1, Math.min(groups.length - 1, nVal));
  const valGroups = new Set(groups.slice(0, nVal));
  const train: number[] = [];
  const val: number[] = [];
  samples.forEach((s, i) => (valGroups.has(s.group) ? val : train).push(i));
  if (groups.length < 2) {
    // One episode only: hold out its last fraction in time order instead.
    const cut = Math.floor(samples.length * (1 - valFraction));
    return { train: train.filter((i) => i < cut), val: train.filter((i) => i >= cut) };
  }
  return { train, val };
}
