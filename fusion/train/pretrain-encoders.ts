/**
 * `fusiond train --pretrain camera,voice`: each named encoder trained on its own task first (camera: an
 * obstacle ahead; voice: the spoken command), to be copied into the fusion model; and the voice-command
 * recogniser a model that reads the standing voice request ships with.
 */
import type * as tf from "@tensorflow/tfjs";
import type { Modality } from "../../schemas/index.ts";
import { COMMAND_VOCAB } from "../features/intent.ts";
import type { FeatureConfig } from "../features/config.ts";
import type { LabelledSample } from "./dataset.ts";
import { PRETRAIN_TASKS, pretrain } from "./pretrain.ts";
import type { Progress, TrainOptions } from "./trainer.ts";

export interface PretrainedEncoder {
  modality: Modality;
  model: tf.LayersModel;
}

/** What pretraining runs with: the training options (a few epochs, no modality dropout), a progress bar per task. */
export interface PretrainRun {
  samples: readonly LabelledSample[];
  split: { train: number[]; val: number[] };
  config: FeatureConfig;
  options: Omit<TrainOptions, "strategy" | "spec" | "pretrained" | "onProgress">;
  progress: (label: string) => (p: Progress) => void;
  log: (line: string) => void;
}

/** Pretrains the encoders named (camera, voice) that the model reads; their metrics keyed "pretrain M". */
export async function pretrainEncoders(
  names: readonly string[],
  modalities: readonly Modality[],
  run: PretrainRun,
): Promise<{ pretrained: PretrainedEncoder[]; metrics: Record<string, unknown> }> {
  const pretrained: PretrainedEncoder[] = [];
  const metrics: Record<string, unknown> = {};
  for (const m of names) {
    if (m !== "camera" && m !== "voice") throw new Error(`--pretrain: only camera and voice have pretraining tasks (got ${m})`);
    if (!modalities.includes(m)) continue;
    const task = m === "camera" ? PRETRAIN_TASKS.camera(2) : PRETRAIN_TASKS.voice(COMMAND_VOCAB.length);
    const r = await pretrain(run.samples, run.split, task, run.config, { ...run.options, onProgress: run.progress(`pretrain ${m}`) });
    run.log(`pretrained ${m} encoder (${m === "camera" ? "obstacle ahead" : "spoken command"}): validation accuracy ${r.val.accuracy.toFixed(3)}, macro-F1 ${r.val.macroF1.toFixed(3)}`);
    metrics[`pretrain ${m}`] = { task: m === "camera" ? "obstacle ahead" : "command", accuracy: r.val.accuracy, macroF1: r.val.macroF1 };
    pretrained.push({ modality: m, model: r.model });
  }
  return { pretrained, metrics };
}

/**
 * The voice-command recogniser that feeds a model's standing voice request at inference: the voice encoder
 * pretrained on the spoken command — the one --pretrain made, else pretrained now (`fresh`: its metrics are
 * new and go in the card).
 */
export async function voiceRecogniser(
  pretrained: readonly PretrainedEncoder[],
  pretrainMetrics: Record<string, unknown>,
  run: PretrainRun,
): Promise<{ model: tf.LayersModel; metrics: unknown; fresh: boolean }> {
  const rec = pretrained.find((p) => p.modality === "voice");
  if (rec) return { model: rec.model, metrics: pretrainMetrics["pretrain voice"], fresh: false };
  const r = await pretrain(run.samples, run.split, PRETRAIN_TASKS.voice(COMMAND_VOCAB.length), run.config, { ...run.options, onProgress: run.progress("voice-command") });
  return { model: r.model, metrics: { task: "command", accuracy: r.val.accuracy, macroF1: r.val.macroF1 }, fresh: true };
}
