/**
 * One training run of `fusiond train`: the recordings read as samples (data.ts, feature cache; recordings not yet
 * cached extracted on every core, threads.ts), split, encoders pretrained, the members trained (in this thread
 * or side by side in worker threads), combined, tested, and the model card written. The steps of training are
 * fusion/train's pure code: pretrainEncoders, trainMembers, combineMembers, testMetrics, trainingCard. What it
 * returns is saved by the caller (bin/commands/train.ts writes the model directory whole or not at all).
 */
import { join, relative } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import type { Modality } from "../schemas/index.ts";
import { mulberry32 } from "../domain/random.ts";
import {
  combineMembers, fusesSideBySide, loadModelDir, pretrainEncoders, recogniserCard, renderCard, saveModelDir, splitByGroup, testMetrics,
  trainingCard, trainMembers, VOICE_COMMAND_DIR, voiceRecogniser,
  type BackendChoice, type EpochReport, type InputSpec, type ModelCard, type PretrainRun, type Progress, type StrategyName, type TrainResult,
} from "../fusion/index.ts";
import { loadAll, loadPicked, withoutFeatures } from "./data.ts";
import { inShare, memberSplit as memberShare } from "./share.ts";
import { extractInWorkers, trainMembersInWorkers } from "./threads.ts";

export interface TrainRunOptions {
  data: string[];
  valData?: string[];
  testData?: string[];
  strategy: StrategyName;
  modalities: Modality[];
  /** The input spec (its feature config: cameras, ego acceleration). */
  spec: InputSpec;
  /** The backend asked for (worker threads select it again) and the one chosen here. */
  backend: { asked: BackendChoice; chosen: string };
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  dropout: number;
  every: number;
  /** Encoders to pretrain (camera, voice), or none. */
  pretrain: string[];
  freeze: number;
  maxMinutes: number;
  compare?: string;
  description?: string;
  cache: boolean;
  head: number[];
  units: number;
  members: number;
  /** Members trained at once; worker threads that extract features not yet cached. */
  jobs: number;
  extractJobs: number;
  /** The model's name (its directory's) and the command line, for the card. */
  name: string;
  command: string;
  /** When the run started (performance.now()), for the card's wall time. */
  t0: number;
  log: (s: string) => void;
  progress: (label: string) => (p: Progress) => void;
  epochLine: (e: EpochReport) => string;
}

export interface TrainRunResult {
  model: tf.LayersModel;
  card: ModelCard;
  metrics: Record<string, unknown>;
  val: { macroF1: number };
  /** Saves the model (and the voice-command recogniser it ships, if any) into a directory; its hash. */
  save: (dir: string) => Promise<string>;
}

export async function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const { spec, every, members, jobs, head, units, log } = o;
  // An ensemble is bagged by phase: member k takes every n-th training frame starting at frame k, so that
  // together the members see every frame (each member's split picks its phase; share.ts).
  const phased = members > 1 && every > 1;
  if (o.cache) {
    // Recordings not in the feature cache yet are read and turned into samples on every core first.
    const sets = [{ files: o.data, every: phased ? 1 : every }, { files: o.valData ?? [], every }, { files: o.testData ?? [], every: 1 }];
    await extractInWorkers(sets, spec.config, o.extractJobs, log);
  }
  // When phased members train in workers (each reads its own share), this thread keeps the features of member 0's
  // share (the encoders are pretrained on it) and of the validation drives, and of the other training frames only
  // their labels and tags (the card counts them): share.ts. Without validation drives the split is drawn after
  // loading, so everything is kept.
  const lean = phased && members > 1 && jobs > 1 && o.valData !== undefined;
  // One array holds them (training drives first): a sample whose features are dropped later is held nowhere else.
  const samples = await loadPicked([{ files: o.data, every: phased ? 1 : every }], o.cache, log, spec.config, (s, i) => (!lean || inShare(i, every, 0) ? s : withoutFeatures(s)));
  const nData = samples.length;
  if (o.valData) for (const s of await loadAll(o.valData, every, o.cache, log, spec.config)) samples.push(s);
  const seed = o.seed;
  const split = o.valData
    ? { train: Array.from({ length: nData }, (_, i) => i), val: Array.from({ length: samples.length - nData }, (_, i) => nData + i) }
    : splitByGroup(samples, 0.2, mulberry32(seed));
  const common = {
    seed,
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    patience: o.patience,
    maxSeconds: o.maxMinutes * 60,
    now: () => performance.now(),
  };
  const memberSplit = (k: number): { train: number[]; val: number[] } => (phased ? memberShare(split, every, k) : split);
  log(`${samples.length} samples: train ${split.train.length}${phased ? ` (each member 1 frame in ${every} at its own phase: ${memberSplit(0).train.length})` : ""}, validation ${split.val.length}; ${spec.modalities.join("+")} ${o.strategy}`);
  const pretrainRun: PretrainRun = {
    samples,
    split: memberSplit(0),
    config: spec.config,
    // The encoders are pretrained at the members' width (--units), so that they can be copied into them.
    options: { ...common, units, epochs: Math.min(4, common.epochs), modalityDropout: 0 },
    progress: o.progress,
    log,
  };
  const { pretrained, metrics: pretrainMetrics } = await pretrainEncoders(o.pretrain, o.modalities, pretrainRun);
  // Member 0's share is not read here again unless a voice-command recogniser must still be pretrained on it; the
  // validation samples not until the members are combined: both go while the workers (each with its own copy of
  // validation) train, and validation is read again from the feature cache afterwards.
  const recogniserLater = spec.inputs.some((i) => i.name === "intent") && !pretrained.some((p) => p.modality === "voice");
  const dropWhileWorkers = lean && !recogniserLater;
  if (dropWhileWorkers) for (const i of [...split.train, ...split.val]) samples[i] = withoutFeatures(samples[i]!);
  const { now: _now, ...plain } = common; // a worker gets plain data, and its own clock
  const memberOptions = (k: number) => ({
    ...plain,
    seed: seed + k,
    strategy: o.strategy,
    spec,
    head,
    units,
    modalityDropout: o.dropout,
    freezeEpochs: o.freeze,
  });
  let trained: TrainResult[];
  if (members > 1 && jobs > 1) {
    log(`${members} ensemble members, ${Math.min(jobs, members)} at a time in worker threads (seeds ${seed}–${seed + members - 1}${phased ? `, member k takes frames k, k + ${every}, … of every recording` : ""})`);
    trained = await trainMembersInWorkers({
      members,
      jobs,
      log,
      job: (k, out, pretrainedDirs) => ({
        kind: "member",
        member: k,
        backend: o.backend.asked,
        data: o.data,
        every: phased ? 1 : every,
        valData: o.valData ?? [],
        valEvery: every,
        cache: o.cache,
        config: spec.config,
        split: memberSplit(k),
        options: { ...memberOptions(k), head: [...head], maxSeconds: common.maxSeconds },
        pretrained: pretrainedDirs,
        out,
      }),
      pretrained,
      epochLine: o.epochLine,
    });
    if (dropWhileWorkers) (await loadAll(o.valData!, every, o.cache, log, spec.config)).forEach((s, j) => (samples[nData + j] = s));
  } else {
    trained = await trainMembers(samples, {
      members,
      options: (k) => ({ ...memberOptions(k), now: common.now, pretrained }),
      split: memberSplit,
      progress: (k) => o.progress(members > 1 ? `${o.strategy} ${k + 1}/${members}` : o.strategy),
      onEpoch: (e) => log(o.epochLine(e)),
      announce: (k) => log(`ensemble member ${k + 1} of ${members} (seed ${seed + k}${phased ? `, frames ${k % every}, ${(k % every) + every}, … of every recording` : ""})`),
    });
  }
  const { model, val } = await combineMembers(trained, o.strategy, samples, split.val.length ? split.val : split.train, spec);
  if (members > 1) log(`ensemble of ${members}: validation macro-F1 ${val.macroF1.toFixed(3)} (members ${trained.map((r) => r.val.macroF1.toFixed(3)).join(", ")})`);
  // Test data is read after training, so a held-out suite may still be being written while we train.
  const test = o.testData ? await loadAll(o.testData, 1, o.cache, log, spec.config) : [];
  const baseModel = test.length && o.compare ? await loadModelDir(o.compare).catch((err: Error) => void log(`--compare ${o.compare}: ${err.message} (no baseline in the card)`)) : undefined;
  // A baseline with other camera slots reads the same recordings as its own features (a single-camera one: the first camera).
  const sameCameras = baseModel && JSON.stringify(baseModel.spec.config.cameras) === JSON.stringify(spec.config.cameras);
  const base = baseModel ? { ...baseModel, test: sameCameras ? test : await loadAll(o.testData!, 1, o.cache, log, baseModel.spec.config, baseModel.spec.config.cameras ?? spec.config.cameras?.slice(0, 1)) } : undefined;
  const metrics: Record<string, unknown> = {
    validation: { n: val.n, macroF1: val.macroF1, accuracy: val.accuracy },
    ...pretrainMetrics,
    ...(test.length ? testMetrics(model, spec, test, base ?? undefined) : {}),
  };
  const cwd = (f: string): string => relative(process.cwd(), f);
  const card = trainingCard(
    {
      name: o.name,
      strategy: o.strategy,
      ...(o.description !== undefined ? { description: o.description } : {}),
      command: o.command,
      files: [...o.data, ...(o.valData ?? [])].map(cwd),
      ...(o.testData ? { testFiles: o.testData.map(cwd) } : {}),
      samples,
      split,
      testSamples: test.length,
      backend: o.backend.chosen,
      seed,
      batchSize: common.batchSize,
      learningRate: common.learningRate,
      modalityDropout: o.dropout,
      units,
      head,
      trained,
      sideBySide: fusesSideBySide(o.strategy),
      jobs,
      phased,
      every,
      pretrained: pretrained.map((p) => p.modality),
      wallS: (performance.now() - o.t0) / 1000,
      created: new Date().toISOString(),
    },
    model,
    spec,
    metrics,
  );
  let saveRecogniser: ((dir: string) => Promise<unknown>) | undefined;
  // A model that reads the standing voice request ships the recogniser that feeds it at inference.
  if (spec.inputs.some((i) => i.name === "intent")) {
    const rec = await voiceRecogniser(pretrained, pretrainMetrics, pretrainRun);
    if (rec.fresh) card.metrics["voice-command recogniser"] = rec.metrics;
    log(`voice-command recogniser: validation accuracy ${(rec.metrics as { accuracy: number }).accuracy.toFixed(3)}`);
    const recCard = recogniserCard(card, o.name, rec.model, rec.metrics);
    saveRecogniser = (dir) => saveModelDir(join(dir, VOICE_COMMAND_DIR), rec.model, recCard, renderCard);
  }
  const save = async (dir: string): Promise<string> => {
    await saveRecogniser?.(dir);
    return saveModelDir(dir, model, card, renderCard);
  };
  return { model, card, metrics, val, save };
}
