/** The model card `fusiond train` writes beside a model, and the one of the voice-command recogniser it ships. */
import type * as tf from "@tensorflow/tfjs";
import { ACTIONS } from "../actions.ts";
import { makeInputSpec, type InputSpec } from "../features/config.ts";
import { COMMAND_VOCAB } from "../features/intent.ts";
import { flopsPerSample } from "../model/flops.ts";
import { VOICE_COMMAND_DIR, type ModelCard } from "../model/model-dir.ts";
import type { LabelledSample } from "./dataset.ts";
import type { TrainResult } from "./trainer.ts";

/** What one `fusiond train` run was and did, for its card. */
export interface TrainingRecord {
  name: string;
  strategy: string;
  description?: string;
  /** The command exactly as run. */
  command: string;
  /** Training and validation files, and the test files (relative to where it ran). */
  files: string[];
  testFiles?: string[];
  samples: readonly LabelledSample[];
  split: { train: number[]; val: number[] };
  testSamples: number;
  backend: string;
  seed: number;
  batchSize: number;
  learningRate: number;
  modalityDropout: number;
  units: number;
  head: readonly number[];
  /** The members (one for a single model), how many trained at once, and which frames each took. */
  trained: readonly TrainResult[];
  sideBySide: boolean;
  jobs: number;
  phased: boolean;
  every: number;
  pretrained: readonly string[];
  wallS: number;
  /** ISO time of writing. */
  created: string;
}

export function trainingCard(r: TrainingRecord, model: tf.LayersModel, spec: InputSpec, metrics: Record<string, unknown>): ModelCard {
  const first = r.trained[0]!;
  const members = r.trained.length;
  const counts: Record<string, number> = {};
  for (const i of r.split.train) counts[ACTIONS[r.samples[i]!.label]!] = (counts[ACTIONS[r.samples[i]!.label]!] ?? 0) + 1;
  return {
    name: r.name,
    strategy: r.strategy,
    description: r.description ?? `${r.strategy} fusion of ${spec.modalities.join(", ")}`,
    command: r.command,
    data: { files: r.files, samples: r.samples.length, train: r.split.train.length, val: r.split.val.length, test: r.testSamples, classCounts: counts },
    training: {
      backend: r.backend,
      seed: r.seed,
      "epochs run": first.history.length,
      "best epoch": first.bestEpoch,
      "batch size": r.batchSize,
      "learning rate": r.learningRate,
      "modality dropout": r.modalityDropout,
      "encoder units": r.units,
      "head widths": r.head.join(","),
      ...(members > 1 ? { "ensemble members": members, "ensemble form": r.sideBySide ? "side by side (one wide model)" : "flat (members as parallel branches)", "members trained at once": Math.min(r.jobs, members), "member frames": r.phased ? `1 in ${r.every}, member k from frame k` : `1 in ${r.every}, all members alike`, "member validation macro-F1": r.trained.map((t) => t.val.macroF1.toFixed(3)).join(", "), "member epochs run": r.trained.map((t) => t.history.length).join(", ") } : {}),
      pretrained: r.pretrained.join(",") || "none",
      "samples/s": Math.round(first.samplesPerSecond),
      "wall time s": Math.round(r.wallS),
    },
    metrics,
    inputSpec: spec,
    flopsPerSample: flopsPerSample(model),
    created: r.created,
    notes: r.testFiles ? [`test data: ${r.testFiles.join(", ")}`] : [],
    ...(r.testFiles ? { testLook: { created: r.created, files: r.testFiles, samples: r.testSamples } } : {}),
  };
}

/** The card of the voice-command recogniser shipped in the model's VOICE_COMMAND_DIR. */
export function recogniserCard(card: ModelCard, name: string, recogniser: tf.LayersModel, metrics: unknown): ModelCard {
  return {
    ...card,
    name: `${name}/${VOICE_COMMAND_DIR}`,
    strategy: "intermediate",
    description: `spoken-command recogniser of ${name} (classes: ${COMMAND_VOCAB.map((c) => c || "none").join(", ")}); feeds the standing voice request`,
    metrics: { validation: metrics },
    inputSpec: makeInputSpec(["voice"], { ...card.inputSpec.config, intent: false }),
    flopsPerSample: flopsPerSample(recogniser),
    notes: [],
  };
}
