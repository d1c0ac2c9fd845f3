/**
 * An ensemble's members trained one after another in this thread (train/threads.ts trains them in
 * worker threads instead), and the members combined into the one model that ships.
 */
import type * as tf from "@tensorflow/tfjs";
import { ensembleOf } from "../model/ensemble.ts";
import { wideEnsembleOf } from "../model/wide-ensemble.ts";
import type { InputSpec } from "../features/config.ts";
import type { LabelledSample } from "./dataset.ts";
import type { ClassificationMetrics } from "./metrics.ts";
import { modelMetrics, train, type EpochReport, type Progress, type TrainOptions, type TrainResult } from "./trainer.ts";

export interface MemberRun {
  members: number;
  /** Member k's training options (its seed) and split (its phase of the frames). */
  options: (k: number) => Omit<TrainOptions, "onProgress" | "onEpoch">;
  split: (k: number) => { train: number[]; val: number[] };
  /** Member k's progress bar, and what it says once per epoch. */
  progress: (k: number) => (p: Progress) => void;
  onEpoch: (e: EpochReport) => void;
  /** Said before each member (only with several). */
  announce: (k: number) => void;
}

export async function trainMembers(samples: readonly LabelledSample[], run: MemberRun): Promise<TrainResult[]> {
  const trained: TrainResult[] = [];
  for (let k = 0; k < run.members; k++) {
    if (run.members > 1) run.announce(k);
    trained.push(await train(samples, run.split(k), { ...run.options(k), onProgress: run.progress(k), onEpoch: run.onEpoch }));
  }
  return trained;
}

/** Early and intermediate members fuse side by side into one wide model; late and attention ones become one flat graph. */
export const fusesSideBySide = (strategy: string): boolean => strategy === "early" || strategy === "intermediate";

/**
 * The model that ships: the one member, or the members combined (side by side for early and intermediate:
 * one member's op count at batch 1; late and attention ones, with per-modality gates and attention, as one
 * flat graph), with its validation metrics (an ensemble's measured again on `val`).
 */
export async function combineMembers(
  trained: readonly TrainResult[],
  strategy: string,
  samples: readonly LabelledSample[],
  val: readonly number[],
  spec: InputSpec,
): Promise<{ model: tf.LayersModel; val: ClassificationMetrics }> {
  if (trained.length === 1) return { model: trained[0]!.model, val: trained[0]!.val };
  const models = trained.map((r) => r.model);
  const model = fusesSideBySide(strategy) ? wideEnsembleOf(models) : await ensembleOf(models);
  return { model, val: modelMetrics(model, samples, val, spec) };
}
