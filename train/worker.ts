/**
 * The work `fusiond train` hands to worker threads, one per core (TF.js on wasm and the feature extraction
 * each run on one core):
 *  - an ensemble member (`--ensemble N --jobs J`): the worker reads the same recordings in the same order as
 *    the parent (from the feature cache the parent filled), keeping only the samples its split names (the
 *    parent's indices, renumbered: share.ts), so a phased member holds a third of the frames; it trains
 *    with the parent's options, saves the member to a directory and reports epochs and the result;
 *  - feature extraction: recordings not yet in the feature cache are read, aligned and turned into samples
 *    in parallel, each worker a share of the files; the parent then reads them all from the cache.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { FsModelHandler, selectBackend, train, type BackendChoice, type ClassificationMetrics, type EpochReport, type FeatureConfig, type Progress, type TrainOptions } from "../fusion/index.ts";
import type { Modality } from "../schemas/index.ts";
import { loadAll, loadPicked } from "./data.ts";
import { compactSplit } from "./share.ts";

export interface MemberJob {
  kind: "member";
  member: number;
  backend: BackendChoice;
  data: string[];
  every: number;
  valData: string[];
  valEvery: number;
  cache: boolean;
  config: FeatureConfig;
  split: { train: number[]; val: number[] };
  /** The parent's training options, plain data (a worker has its own clock and callbacks). */
  options: Required<Pick<TrainOptions, "strategy" | "spec" | "seed" | "epochs" | "batchSize" | "learningRate" | "patience" | "modalityDropout" | "maxSeconds" | "freezeEpochs" | "units">> & { head: number[] };
  /** Pretrained encoders, saved by the parent. */
  pretrained: { modality: Modality; dir: string }[];
  /** Where the trained member is saved. */
  out: string;
}

export interface FeaturesJob {
  kind: "features";
  files: string[];
  every: number;
  config: FeatureConfig;
}

export type FeaturesMessage = { kind: "extracted"; file: string; line: string } | { kind: "done" } | { kind: "error"; message: string };

export type MemberMessage =
  | { kind: "progress"; member: number; progress: Progress }
  | { kind: "epoch"; member: number; epoch: EpochReport }
  | { kind: "done"; member: number; history: EpochReport[]; bestEpoch: number; val: ClassificationMetrics; samplesPerSecond: number }
  | { kind: "error"; member: number; message: string };

async function run(job: MemberJob): Promise<void> {
  const post = (m: MemberMessage): void => parentPort!.postMessage(m);
  try {
    await selectBackend(job.backend);
    const quiet = (): void => {};
    // Only the samples this member's split names are kept (its share of the training frames, and validation),
    // renumbered in order: the same samples in the same order, a third of the memory for a phased member.
    const mine = compactSplit(job.split);
    const sets = [{ files: job.data, every: job.every }, { files: job.valData, every: job.valEvery }];
    const samples = await loadPicked(sets, job.cache, quiet, job.config, (s, i) => (mine.keep(i) ? s : undefined));
    const pretrained = [];
    for (const p of job.pretrained) pretrained.push({ modality: p.modality, model: await tf.loadLayersModel(new FsModelHandler(p.dir)) });
    let last = 0;
    const r = await train(samples, mine.split, {
      ...job.options,
      pretrained,
      now: () => performance.now(),
      onProgress: (progress) => {
        const t = performance.now();
        if (t - last < 500 && progress.batch !== progress.batches) return;
        last = t;
        post({ kind: "progress", member: job.member, progress });
      },
      onEpoch: (epoch) => post({ kind: "epoch", member: job.member, epoch }),
    });
    await r.model.save(new FsModelHandler(job.out));
    post({ kind: "done", member: job.member, history: r.history, bestEpoch: r.bestEpoch, val: r.val, samplesPerSecond: r.samplesPerSecond });
  } catch (err) {
    post({ kind: "error", member: job.member, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

async function extract(job: FeaturesJob): Promise<void> {
  const post = (m: FeaturesMessage): void => parentPort!.postMessage(m);
  try {
    for (const file of job.files) await loadAll([file], job.every, true, (line) => post({ kind: "extracted", file, line }), job.config);
    post({ kind: "done" });
  } catch (err) {
    post({ kind: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

if (parentPort && workerData) {
  const job = workerData as MemberJob | FeaturesJob;
  await (job.kind === "member" ? run(job) : extract(job));
}
