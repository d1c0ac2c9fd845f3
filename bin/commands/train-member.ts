/**
 * One ensemble member trained in a worker thread (`fusiond train --ensemble N --jobs J`): TF.js on wasm runs
 * on one core, so members train side by side, one per core. The worker reads the same recordings in the same
 * order as the parent (from the feature cache the parent filled), so the parent's sample indices hold; it
 * trains with the parent's options, saves the member to a directory and reports epochs and the result.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { FsModelHandler, selectBackend, train, type BackendChoice, type ClassMetrics, type EpochReport, type FeatureConfig, type InputSpec, type Progress, type StrategyName } from "../../fusion/index.ts";
import type { Modality } from "../../schemas/index.ts";
import { loadAll } from "./train-data.ts";

export interface MemberJob {
  member: number;
  backend: BackendChoice;
  data: string[];
  every: number;
  valData: string[];
  valEvery: number;
  cache: boolean;
  config: FeatureConfig;
  split: { train: number[]; val: number[] };
  options: {
    strategy: StrategyName;
    spec: InputSpec;
    seed: number;
    epochs: number;
    batchSize: number;
    learningRate: number;
    patience: number;
    modalityDropout: number;
    maxSeconds: number;
    freezeEpochs: number;
    head: number[];
    units: number;
  };
  /** Pretrained encoders, saved by the parent. */
  pretrained: { modality: Modality; dir: string }[];
  /** Where the trained member is saved. */
  out: string;
}

export type MemberMessage =
  | { kind: "progress"; member: number; progress: Progress }
  | { kind: "epoch"; member: number; epoch: EpochReport }
  | { kind: "done"; member: number; history: EpochReport[]; bestEpoch: number; val: ClassMetrics; samplesPerSecond: number }
  | { kind: "error"; member: number; message: string };

async function run(job: MemberJob): Promise<void> {
  const post = (m: MemberMessage): void => parentPort!.postMessage(m);
  try {
    await selectBackend(job.backend);
    const quiet = (): void => {};
    const samples = [...(await loadAll(job.data, job.every, job.cache, quiet, job.config)), ...(await loadAll(job.valData, job.valEvery, job.cache, quiet, job.config))];
    const pretrained = [];
    for (const p of job.pretrained) pretrained.push({ modality: p.modality, model: await tf.loadLayersModel(new FsModelHandler(p.dir)) });
    let last = 0;
    const r = await train(samples, job.split, {
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

if (parentPort && workerData) await run(workerData as MemberJob);
