/**
 * Transfer learning: a unimodal encoder pretrained on its own task (camera: is an obstacle ahead in the
 * ego lane; voice: which command was spoken), later copied into a fusion model by layer name.
 */
import * as tf from "@tensorflow/tfjs";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import { makeInputSpec, type FeatureConfig, type InputSpec } from "../features/config.ts";
import { ModalityGate } from "../model/layers.ts";
import { encode, Seeds, specInputs } from "../model/strategies.ts";
import type { LabelledSample } from "./dataset.ts";
import { fitModel, type TrainOptions, type TrainResult } from "./trainer.ts";

export interface PretrainTask {
  modality: Modality;
  classes: number;
  labelOf: (s: LabelledSample) => number;
}

export const PRETRAIN_TASKS: Record<"camera" | "voice", (commands: number) => PretrainTask> = {
  camera: () => ({ modality: "camera", classes: 2, labelOf: (s) => s.aux.obstacleAhead }),
  voice: (commands) => ({ modality: "voice", classes: commands, labelOf: (s) => s.aux.command }),
};

export function buildPretrainModel(task: PretrainTask, spec: InputSpec, seed: number, units = 32): tf.LayersModel {
  const s = new Seeds(seed);
  const { list, byName } = specInputs(spec);
  // Gated by the modality's presence like in the fusion models (and so the saved model keeps both inputs).
  const emb = new ModalityGate({ index: MODALITIES.indexOf(task.modality), name: `${task.modality}_gate` }).apply([encode(task.modality, byName, s, units), byName.presence!]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: task.classes, activation: "softmax", name: `${task.modality}_pretrain_out`, kernelInitializer: s.glorot() }).apply(emb);
  return tf.model({ inputs: list, outputs: out as tf.SymbolicTensor, name: `${task.modality}_pretrain` });
}

/** Pretrains the encoder of task.modality on the samples where that modality is present. */
export async function pretrain(
  samples: readonly LabelledSample[],
  split: { train: number[]; val: number[] },
  task: PretrainTask,
  config: FeatureConfig,
  o: Omit<TrainOptions, "strategy" | "spec" | "pretrained">,
): Promise<TrainResult> {
  // The encoder's own task reads the modality alone (not the voice request the fusion model adds).
  const spec = makeInputSpec([task.modality], { ...config, intent: false });
  const mi = MODALITIES.indexOf(task.modality);
  const has = (i: number): boolean => samples[i]!.inputs.presence[mi] === 1;
  const part = { train: split.train.filter(has), val: split.val.filter(has) };
  if (part.train.length === 0) throw new Error(`no training samples with ${task.modality} present`);
  const model = buildPretrainModel(task, spec, o.seed, o.units);
  return fitModel(model, samples, part, { ...o, strategy: "intermediate", spec, modalityDropout: 0 }, o.now ?? (() => 0), task.labelOf, task.classes);
}
