/**
 * `fusiond train --data A.mcap... --strategy S --out models/NAME`: trains a fusion model from simulator
 * recordings. Reading (replay/), alignment (pipeline/'s FrameAligner, exactly the daemon's) and the map of
 * each scenario (sim/) are composed here; features, labels and training are fusion/'s pure code.
 * Features of each file are cached (train-data.ts), so training several models on one dataset extracts them
 * once. Features not yet cached are extracted in worker threads, and an ensemble's members train side by side in
 * them (train-threads.ts, train-worker.ts), one per core. The steps of training are fusion/train's: pretrainEncoders,
 * trainMembers, combineMembers, testMetrics, trainingCard.
 */
import { availableParallelism } from "node:os";
import { basename, join, relative } from "node:path";
import type { Command } from "commander";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import { mulberry32 } from "../../domain/random.ts";
import {
  combineMembers, DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, fusesSideBySide, loadModelDir, makeInputSpec, pretrainEncoders, recogniserCard, renderCard, saveModelDir,
  selectBackend, splitByGroup, STRATEGIES, testMetrics, trainingCard, trainMembers, TRAINING_BACKEND_CHOICES, VOICE_COMMAND_DIR, voiceRecogniser,
  type BackendChoice, type PretrainRun, type StrategyName, type TrainResult,
} from "../../fusion/index.ts";
import { loadAll } from "./train-data.ts";
import { epochLine, progressBar } from "./train-progress.ts";
import { extractInWorkers, trainMembersInWorkers } from "./train-threads.ts";
import { usage } from "../cli-errors.ts";
import { listOf, number, oneOf } from "../cli-validate.ts";
import { writeAtomically } from "../output-file.ts";

interface TrainFlags {
  data: string[];
  valData?: string[];
  testData?: string[];
  strategy: string;
  out: string;
  modalities: string;
  seed: string;
  epochs: string;
  batch: string;
  lr: string;
  patience: string;
  dropout: string;
  every: string;
  pretrain: string;
  freeze: string;
  maxMinutes: string;
  backend: string;
  compare?: string;
  description?: string;
  cache: boolean;
  egoAccel?: boolean;
  cameras?: string;
  head: string;
  units: string;
  ensemble: string;
  jobs?: string;
  quiet?: boolean;
}

export default function register(program: Command): void {
  program
    .command("train")
    .description("train a fusion model from simulator recordings (labels: the expert's actions)")
    .requiredOption("--data <files...>", "training recordings (MCAP with sensors and fusiond.GroundTruth)")
    .option("--val-data <files...>", "validation recordings (default: a split of --data by episode)")
    .option("--test-data <files...>", "held-out recordings to report test metrics on (per weather)")
    .option("--strategy <s>", `fusion strategy: ${STRATEGIES.join(", ")}`, oneOf(STRATEGIES), "intermediate")
    .requiredOption("--out <dir>", "model directory to write (e.g. models/default)")
    .option("--modalities <list>", "modalities the model reads", listOf(MODALITIES), MODALITIES.join(","))
    .option("--seed <n>", "seed of initialisation, shuffles and dropout", number({ integer: true, min: 0 }), "1")
    .option("--epochs <n>", "most epochs", number({ integer: true, min: 1 }), "30")
    .option("--batch <n>", "batch size", number({ integer: true, min: 1 }), "64")
    .option("--lr <x>", "Adam learning rate", number({ gt: 0, max: 1 }), "0.002")
    .option("--patience <n>", "early stopping: epochs without a better validation macro-F1", number({ integer: true, min: 1 }), "5")
    .option("--dropout <p>", "modality dropout probability per modality and sample", number({ min: 0, max: 1 }), "0.15")
    .option("--every <n>", "take every n-th frame of a recording", number({ integer: true, min: 1 }), "2")
    .option("--pretrain <list>", "encoders to pretrain on their own task first (camera,voice), or none", listOf(["camera", "voice", "none"]), "none")
    .option("--freeze <n>", "epochs the pretrained encoders stay frozen before fine-tuning", number({ integer: true, min: 0 }), "3")
    .option("--max-minutes <m>", "stop training after this long, per ensemble member (best weights kept)", number({ gt: 0 }), "18")
    .option("--backend <b>", `TF.js backend: ${TRAINING_BACKEND_CHOICES.join(", ")}`, oneOf(TRAINING_BACKEND_CHOICES), "wasm")
    .option("--compare <dir>", "a baseline model directory to evaluate on the same test data (deltas in the card)")
    .option("--description <text>", "one line for the model card")
    .option("--no-cache", "do not read or write the feature cache")
    .option("--head <widths>", "hidden layer widths of the shared head, comma-separated (early, intermediate, attention)", "64")
    .option("--units <n>", "embedding width of each modality's encoder", number({ integer: true, min: 1, max: 1024 }), "32")
    .option("--ensemble <n>", "train n members (seeds seed, seed+1, …) and ship their averaged probabilities as one model (early and intermediate: fused side by side into one wide model, one member's op count)", number({ integer: true, min: 1, max: 8 }), "1")
    .option("--jobs <n>", "ensemble members trained at once, each in a worker thread on its own core (default: the cores, at most the members)", number({ integer: true, min: 1, max: 64 }))
    .option("-q, --quiet", "no progress and no log lines on stderr (errors still; the result is on stdout)")
    .option("--cameras <ids>", `camera slots, one per camera id in this order, a shared camera encoder over them (e.g. ${DEFAULT_CAMERA_IDS.join(",")}, the simulator's set: data from fusiond sim --cameras); default: the one reference camera`)
    .option("--ego-accel", "read the car's measured acceleration too (only for data from fusiond sim --perturb: on the expert's own drives it gives the label away)")
    .addHelpText(
      "after",
      `
Examples:
  fusiond train --data train-*.mcap --strategy intermediate --out models/mine
  fusiond train --data train-*.mcap --test-data test-*.mcap --strategy late --epochs 20 --out models/late-20 --compare models/default
  fusiond train --data train-*.mcap --modalities camera --out models/camera-mine --quiet
  fusiond train --data 4cam/train-*.mcap --cameras front,rear,left,right --out models/multi-mine   # data: fusiond sim --cameras front,rear,left,right`,
    )
    .action(async (flags: TrainFlags) => {
      const log = (s: string): void => void (flags.quiet ? undefined : process.stderr.write(`fusiond train: ${s}\n`));
      const { modalities, head, units, members, jobs } = checkFlags(flags);
      const t0 = performance.now();
      const backend = await selectBackend(flags.backend as BackendChoice);
      log(`backend ${backend.chosen} (${backend.log.join("; ")})`);
      const every = Number(flags.every);
      // The spec's feature config (it drops cross-modal features whose other modality the model does not read).
      const cameras = flags.cameras?.split(",").map((c) => c.trim()).filter((c) => c.length > 0);
      if (cameras !== undefined && (cameras.length === 0 || new Set(cameras).size !== cameras.length || cameras.some((c) => !/^[^/#+]+$/.test(c)))) {
        usage(`--cameras takes distinct camera ids separated by commas, e.g. ${DEFAULT_CAMERA_IDS.join(",")}, not "${flags.cameras}"`);
      }
      const baseConfig = { ...DEFAULT_FEATURE_CONFIG, ...(flags.egoAccel ? { egoAccel: true } : {}), ...(cameras ? { cameras } : {}) };
      const spec = makeInputSpec(modalities, baseConfig);
      // An ensemble is bagged by phase: member k takes every n-th training frame starting at frame k, so that
      // together the members see every frame (all are loaded; each member's split picks its phase).
      const phased = members > 1 && every > 1;
      if (flags.cache) {
        // Recordings not in the feature cache yet are read and turned into samples on every core first.
        const sets = [{ files: flags.data, every: phased ? 1 : every }, { files: flags.valData ?? [], every }, { files: flags.testData ?? [], every: 1 }];
        await extractInWorkers(sets, spec.config, flags.jobs === undefined ? availableParallelism() : jobs, log);
      }
      const data = await loadAll(flags.data, phased ? 1 : every, flags.cache, log, spec.config);
      const valSamples = flags.valData ? await loadAll(flags.valData, every, flags.cache, log, spec.config) : [];
      const samples = [...data, ...valSamples];
      const seed = Number(flags.seed);
      const split = flags.valData
        ? { train: data.map((_, i) => i), val: valSamples.map((_, i) => data.length + i) }
        : splitByGroup(samples, 0.2, mulberry32(seed));
      const common = {
        seed,
        epochs: Number(flags.epochs),
        batchSize: Number(flags.batch),
        learningRate: Number(flags.lr),
        patience: Number(flags.patience),
        maxSeconds: Number(flags.maxMinutes) * 60,
        now: () => performance.now(),
      };
      const memberSplit = (k: number): { train: number[]; val: number[] } => (phased ? { train: split.train.filter((i) => i % every === k % every), val: split.val } : split);
      log(`${samples.length} samples: train ${split.train.length}${phased ? ` (each member 1 frame in ${every} at its own phase: ${memberSplit(0).train.length})` : ""}, validation ${split.val.length}; ${spec.modalities.join("+")} ${flags.strategy}`);
      const pretrainRun: PretrainRun = {
        samples,
        split: memberSplit(0),
        config: spec.config,
        options: { ...common, epochs: Math.min(4, common.epochs), modalityDropout: 0 },
        progress: (label) => progressBar(label, flags.quiet),
        log,
      };
      const { pretrained, metrics: pretrainMetrics } = await pretrainEncoders(flags.pretrain === "none" ? [] : flags.pretrain.split(","), modalities, pretrainRun);
      const { now: _now, ...plain } = common; // a worker gets plain data, and its own clock
      const memberOptions = (k: number) => ({
        ...plain,
        seed: seed + k,
        strategy: flags.strategy as StrategyName,
        spec,
        head,
        units,
        modalityDropout: Number(flags.dropout),
        freezeEpochs: Number(flags.freeze),
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
            backend: flags.backend as BackendChoice,
            data: flags.data,
            every: phased ? 1 : every,
            valData: flags.valData ?? [],
            valEvery: every,
            cache: flags.cache,
            config: spec.config,
            split: memberSplit(k),
            options: { ...memberOptions(k), head: [...head], maxSeconds: common.maxSeconds },
            pretrained: pretrainedDirs,
            out,
          }),
          pretrained,
          epochLine,
        });
      } else {
        trained = await trainMembers(samples, {
          members,
          options: (k) => ({ ...memberOptions(k), now: common.now, pretrained }),
          split: memberSplit,
          progress: (k) => progressBar(members > 1 ? `${flags.strategy} ${k + 1}/${members}` : flags.strategy, flags.quiet),
          onEpoch: (e) => log(epochLine(e)),
          announce: (k) => log(`ensemble member ${k + 1} of ${members} (seed ${seed + k}${phased ? `, frames ${k % every}, ${(k % every) + every}, … of every recording` : ""})`),
        });
      }
      const { model, val } = await combineMembers(trained, flags.strategy, samples, split.val.length ? split.val : split.train, spec);
      if (members > 1) log(`ensemble of ${members}: validation macro-F1 ${val.macroF1.toFixed(3)} (members ${trained.map((r) => r.val.macroF1.toFixed(3)).join(", ")})`);
      // Test data is read after training, so a held-out suite may still be being written while we train.
      const test = flags.testData ? await loadAll(flags.testData, 1, flags.cache, log, spec.config) : [];
      const baseModel = test.length && flags.compare ? await loadModelDir(flags.compare).catch((err: Error) => void log(`--compare ${flags.compare}: ${err.message} (no baseline in the card)`)) : undefined;
      // A baseline with other camera slots reads the same recordings as its own features (a single-camera one: the first camera).
      const sameCameras = baseModel && JSON.stringify(baseModel.spec.config.cameras) === JSON.stringify(spec.config.cameras);
      const base = baseModel ? { ...baseModel, test: sameCameras ? test : await loadAll(flags.testData!, 1, flags.cache, log, baseModel.spec.config, baseModel.spec.config.cameras ?? spec.config.cameras?.slice(0, 1)) } : undefined;
      const metrics: Record<string, unknown> = {
        validation: { n: val.n, macroF1: val.macroF1, accuracy: val.accuracy },
        ...pretrainMetrics,
        ...(test.length ? testMetrics(model, spec, test, base ?? undefined) : {}),
      };
      const cwd = (f: string): string => relative(process.cwd(), f);
      const card = trainingCard(
        {
          name: basename(flags.out),
          strategy: flags.strategy,
          ...(flags.description !== undefined ? { description: flags.description } : {}),
          command: `fusiond ${process.argv.slice(2).join(" ")}`,
          files: [...flags.data, ...(flags.valData ?? [])].map(cwd),
          ...(flags.testData ? { testFiles: flags.testData.map(cwd) } : {}),
          samples,
          split,
          testSamples: test.length,
          backend: backend.chosen,
          seed,
          batchSize: common.batchSize,
          learningRate: common.learningRate,
          modalityDropout: Number(flags.dropout),
          units,
          head,
          trained,
          sideBySide: fusesSideBySide(flags.strategy),
          jobs,
          phased,
          every,
          pretrained: pretrained.map((p) => p.modality),
          wallS: (performance.now() - t0) / 1000,
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
        const recCard = recogniserCard(card, basename(flags.out), rec.model, rec.metrics);
        saveRecogniser = (dir) => saveModelDir(join(dir, VOICE_COMMAND_DIR), rec.model, recCard, renderCard);
      }
      // The model directory appears whole or not at all (bin/output-file.ts): a failed save leaves no half model.
      const hash = await writeAtomically(flags.out, async (tmp) => {
        await saveRecogniser?.(tmp);
        return saveModelDir(tmp, model, card, renderCard);
      });
      log(`wrote ${flags.out} (hash ${hash}); validation macro-F1 ${val.macroF1.toFixed(3)}`);
      process.stdout.write(JSON.stringify({ out: flags.out, hash, metrics }, null, 2) + "\n");
    });
}

/** The checks commander's option parsers cannot make; the flags as numbers. */
function checkFlags(flags: TrainFlags): { modalities: Modality[]; head: number[]; units: number; members: number; jobs: number } {
  const modalities = flags.modalities.split(",").map((m) => m.trim()) as Modality[];
  const badMods = modalities.filter((m) => !MODALITIES.includes(m));
  if (!STRATEGIES.includes(flags.strategy as StrategyName) || badMods.length || !(TRAINING_BACKEND_CHOICES as readonly string[]).includes(flags.backend)) {
    usage(`bad option: strategy ${flags.strategy} (one of ${STRATEGIES.join(", ")}), modalities ${badMods.join(",") || "ok"}, backend ${flags.backend}`);
  }
  const head = flags.head.split(",").map((w) => Number(w.trim()));
  const units = Number(flags.units);
  const members = Number(flags.ensemble);
  if (!Number.isInteger(members) || members < 1 || members > 8) {
    usage(`bad option: --ensemble ${flags.ensemble} (1 to 8 members)`);
  }
  const jobs = flags.jobs === undefined ? Math.min(members, availableParallelism()) : Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
    usage(`bad option: --jobs ${flags.jobs} (a positive integer: members trained at once)`);
  }
  if (head.some((w) => !Number.isInteger(w) || w < 1 || w > 4096) || !Number.isInteger(units) || units < 1 || units > 1024) {
    usage(`--head must be comma-separated whole numbers from 1 to 4096, e.g. 128,64, not "${flags.head}"`);
  }
  return { modalities, head, units, members, jobs };
}
