/**
 * `fusiond train --data A.mcap... --strategy S --out models/NAME`: trains a fusion model from simulator
 * recordings. Reading (replay/), alignment (pipeline/'s FrameAligner, exactly the daemon's) and the map of
 * each scenario (sim/) are composed here; features, labels and training are fusion/'s pure code.
 * Features of each file are cached (train-data.ts), so training several models on one dataset extracts them
 * once. Features not yet cached are extracted in worker threads, and an ensemble's members train side by side in
 * them (train-worker.ts), one per core.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { Worker } from "node:worker_threads";
import type { Command } from "commander";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import {
  ACTIONS, TRAINING_BACKEND_CHOICES, COMMAND_VOCAB, DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, ensembleOf, evaluate, flopsPerSample, FsModelHandler, loadModelDir, makeInputSpec,
  mulberry32, pretrain, VOICE_COMMAND_DIR, PRETRAIN_TASKS, renderCard, saveModelDir, selectBackend, splitByGroup, STRATEGIES, train, wideEnsembleOf,
  type BackendChoice, type ClassMetrics, type InputSpec, type LabelledSample, type ModelCard, type StrategyName, type TrainResult, type EpochReport,
} from "../../fusion/index.ts";
import { loadAll, uncachedFiles } from "./train-data.ts";
import type { FeaturesJob, FeaturesMessage, MemberJob, MemberMessage } from "./train-worker.ts";
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

/** Overall and per-condition metrics on a sample set. */
export function conditionMetrics(model: tf.LayersModel, samples: LabelledSample[], spec: InputSpec): Record<string, unknown> {
  const all = samples.map((_, i) => i);
  const out: Record<string, unknown> = {};
  const summary = (m: ClassMetrics) => ({ n: m.n, macroF1: m.macroF1, accuracy: m.accuracy });
  const overall = evaluate(model, samples, all, spec);
  out["overall"] = { ...summary(overall), ...Object.fromEntries(ACTIONS.map((a, i) => [`F1 ${a}`, overall.perClassF1[i] ?? "n/a"])) };
  for (const w of ["CLEAR", "RAIN", "FOG", "NIGHT"]) {
    const idx = all.filter((i) => samples[i]!.tags.weather === w);
    if (idx.length) out[`weather ${w}`] = summary(evaluate(model, samples, idx, spec));
  }
  const tunnel = all.filter((i) => samples[i]!.tags.inTunnel);
  if (tunnel.length) out["in tunnel"] = summary(evaluate(model, samples, tunnel, spec));
  return out;
}

function progressBar(label: string, quiet = false): (p: { epoch: number; epochs: number; batch: number; batches: number; loss: number }) => void {
  let lastDraw = 0;
  return (p) => {
    if (quiet) return;
    const now = performance.now();
    // A log file (no terminal) gets one line per epoch, not a redraw every 200 ms.
    if (p.batch !== p.batches && (now - lastDraw < 200 || !process.stderr.isTTY)) return;
    lastDraw = now;
    const width = 30;
    const filled = Math.round((p.batch / p.batches) * width);
    process.stderr.write(`\r${label} epoch ${p.epoch}/${p.epochs} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)}`);
    if (p.batch === p.batches) process.stderr.write("\n");
  };
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
      const t0 = performance.now();
      const backend = await selectBackend(flags.backend as BackendChoice);
      log(`backend ${backend.chosen} (${backend.log.join("; ")})`);
      const every = Number(flags.every);
      // The spec's feature config (it drops cross-modal features whose other modality the model does not read).
      const cameras = flags.cameras?.split(",").map((c) => c.trim()).filter((c) => c.length > 0);
      if (cameras !== undefined && (cameras.length === 0 || new Set(cameras).size !== cameras.length || cameras.some((c) => !/^[^/#+]+$/.test(c)))) {
        usage(`--cameras takes distinct camera ids separated by commas, e.g. ${DEFAULT_CAMERA_IDS.join(",")}, not "${flags.cameras}"`);
      }
      // Side by side (wide-ensemble.ts) knows one camera's encoder only: several cameras train one model, or late/attention ensembles.
      if (cameras && members > 1 && (flags.strategy === "early" || flags.strategy === "intermediate")) {
        usage(`--cameras with --ensemble ${members} needs --strategy late or attention (early and intermediate ensembles are fused side by side, which takes one camera); or train one member`);
      }
      const baseConfig = { ...DEFAULT_FEATURE_CONFIG, ...(flags.egoAccel ? { egoAccel: true } : {}), ...(cameras ? { cameras } : {}) };
      const spec = makeInputSpec(modalities, baseConfig);
      // An ensemble is bagged by phase: member k takes every n-th training frame starting at frame k, so that
      // together the members see every frame (all are loaded; each member's split picks its phase).
      const phased = members > 1 && every > 1;
      if (flags.cache) {
        // Recordings not in the feature cache yet are read and turned into samples on every core first.
        await extractInWorkers(
          [
            { files: flags.data, every: phased ? 1 : every },
            { files: flags.valData ?? [], every },
            { files: flags.testData ?? [], every: 1 },
          ],
          spec.config,
          flags.jobs === undefined ? availableParallelism() : jobs,
          log,
        );
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
      const pretrained = [];
      const pretrainMetrics: Record<string, unknown> = {};
      for (const m of flags.pretrain === "none" ? [] : flags.pretrain.split(",")) {
        if (m !== "camera" && m !== "voice") throw new Error(`--pretrain: only camera and voice have pretraining tasks (got ${m})`);
        if (!modalities.includes(m)) continue;
        const task = m === "camera" ? PRETRAIN_TASKS.camera(2) : PRETRAIN_TASKS.voice(COMMAND_VOCAB.length);
        const r = await pretrain(samples, memberSplit(0), task, spec.config, { ...common, epochs: Math.min(4, common.epochs), modalityDropout: 0, onProgress: progressBar(`pretrain ${m}`, flags.quiet) });
        log(`pretrained ${m} encoder (${m === "camera" ? "obstacle ahead" : "spoken command"}): validation accuracy ${r.val.accuracy.toFixed(3)}, macro-F1 ${r.val.macroF1.toFixed(3)}`);
        pretrainMetrics[`pretrain ${m}`] = { task: m === "camera" ? "obstacle ahead" : "command", accuracy: r.val.accuracy, macroF1: r.val.macroF1 };
        pretrained.push({ modality: m as Modality, model: r.model });
      }
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
      const epochLine = (e: EpochReport): string =>
        `epoch ${e.epoch}${e.frozen ? " (encoders frozen)" : ""}: loss ${e.loss.toFixed(4)}, validation macro-F1 ${e.val.macroF1.toFixed(3)}, accuracy ${e.val.accuracy.toFixed(3)}${e.best ? " *" : ""}`;
      let trained: TrainResult[] = [];
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
        for (let k = 0; k < members; k++) {
          if (members > 1) log(`ensemble member ${k + 1} of ${members} (seed ${seed + k}${phased ? `, frames ${k % every}, ${(k % every) + every}, … of every recording` : ""})`);
          trained.push(
            await train(samples, memberSplit(k), {
              ...memberOptions(k),
              now: common.now,
              pretrained,
              onProgress: progressBar(members > 1 ? `${flags.strategy} ${k + 1}/${members}` : flags.strategy, flags.quiet),
              onEpoch: (e) => log(epochLine(e)),
            }),
          );
        }
      }
      // Early and intermediate members fuse side by side into one wide model (one member's op count at
      // batch 1); late and attention ones (per-modality gates, attention) become one flat graph.
      const sideBySide = flags.strategy === "early" || flags.strategy === "intermediate";
      const model = members === 1 ? trained[0]!.model : sideBySide ? wideEnsembleOf(trained.map((r) => r.model)) : await ensembleOf(trained.map((r) => r.model));
      const val = members > 1 ? evaluate(model, samples, split.val.length ? split.val : split.train, spec) : trained[0]!.val;
      if (members > 1) log(`ensemble of ${members}: validation macro-F1 ${val.macroF1.toFixed(3)} (members ${trained.map((r) => r.val.macroF1.toFixed(3)).join(", ")})`);
      const result = { ...trained[0]!, val };
      // Test data is read after training, so a held-out suite may still be being written while we train.
      const test = flags.testData ? await loadAll(flags.testData, 1, flags.cache, log, spec.config) : [];
      const metrics: Record<string, unknown> = {
        validation: { n: result.val.n, macroF1: result.val.macroF1, accuracy: result.val.accuracy },
        ...pretrainMetrics,
      };
      if (test.length) {
        const m = conditionMetrics(model, test, spec);
        for (const [k, v] of Object.entries(m)) metrics[`test ${k}`] = v;
        const base = flags.compare ? await loadModelDir(flags.compare).catch((err: Error) => void log(`--compare ${flags.compare}: ${err.message} (no baseline in the card)`)) : undefined;
        if (base) {
          // A baseline with other camera slots reads the same recordings as its own features (a single-camera one: the first camera).
          const sameCameras = JSON.stringify(base.spec.config.cameras) === JSON.stringify(spec.config.cameras);
          const baseTest = sameCameras ? test : await loadAll(flags.testData!, 1, flags.cache, log, base.spec.config, base.spec.config.cameras ?? spec.config.cameras?.slice(0, 1));
          const b = conditionMetrics(base.model, baseTest, base.spec);
          for (const [k, v] of Object.entries(b)) {
            const mine = (m[k] as { macroF1: number } | undefined)?.macroF1;
            const theirs = (v as { macroF1: number }).macroF1;
            metrics[`baseline ${base.id} test ${k}`] = { macroF1: theirs, ...(mine !== undefined ? { "this model − baseline": mine - theirs } : {}) };
          }
        }
      }
      const counts: Record<string, number> = {};
      for (const i of split.train) counts[ACTIONS[samples[i]!.label]!] = (counts[ACTIONS[samples[i]!.label]!] ?? 0) + 1;
      const card: ModelCard = {
        name: basename(flags.out),
        strategy: flags.strategy,
        description: flags.description ?? `${flags.strategy} fusion of ${spec.modalities.join(", ")}`,
        command: `fusiond ${process.argv.slice(2).join(" ")}`,
        data: { files: [...flags.data, ...(flags.valData ?? [])].map((f) => relative(process.cwd(), f)), samples: samples.length, train: split.train.length, val: split.val.length, test: test.length, classCounts: counts },
        training: {
          backend: backend.chosen,
          seed,
          "epochs run": result.history.length,
          "best epoch": result.bestEpoch,
          "batch size": common.batchSize,
          "learning rate": common.learningRate,
          "modality dropout": Number(flags.dropout),
          "encoder units": units,
          "head widths": head.join(","),
          ...(members > 1 ? { "ensemble members": members, "ensemble form": sideBySide ? "side by side (one wide model)" : "flat (members as parallel branches)", "members trained at once": Math.min(jobs, members), "member frames": phased ? `1 in ${every}, member k from frame k` : `1 in ${every}, all members alike`, "member validation macro-F1": trained.map((r) => r.val.macroF1.toFixed(3)).join(", "), "member epochs run": trained.map((r) => r.history.length).join(", ") } : {}),
          pretrained: pretrained.map((p) => p.modality).join(",") || "none",
          "samples/s": Math.round(result.samplesPerSecond),
          "wall time s": Math.round((performance.now() - t0) / 1000),
        },
        metrics,
        inputSpec: spec,
        flopsPerSample: flopsPerSample(model),
        created: new Date().toISOString(),
        notes: flags.testData ? [`test data: ${flags.testData.map((f) => relative(process.cwd(), f)).join(", ")}`] : [],
      };
      let saveRecogniser: ((dir: string) => Promise<unknown>) | undefined;
      // A model that reads the standing voice request ships the recogniser that feeds it at inference: the
      // voice encoder pretrained on the spoken command (pretrained now if --pretrain did not include voice).
      if (spec.inputs.some((i) => i.name === "intent")) {
        let rec = pretrained.find((p) => p.modality === "voice");
        let recMetrics = pretrainMetrics["pretrain voice"];
        if (!rec) {
          const r = await pretrain(samples, memberSplit(0), PRETRAIN_TASKS.voice(COMMAND_VOCAB.length), spec.config, { ...common, epochs: Math.min(4, common.epochs), modalityDropout: 0, onProgress: progressBar("voice-command", flags.quiet) });
          rec = { modality: "voice", model: r.model };
          recMetrics = { task: "command", accuracy: r.val.accuracy, macroF1: r.val.macroF1 };
          card.metrics["voice-command recogniser"] = recMetrics;
        }
        log(`voice-command recogniser: validation accuracy ${(recMetrics as { accuracy: number }).accuracy.toFixed(3)}`);
        const recSpec = makeInputSpec(["voice"], { ...spec.config, intent: false });
        const recCard: ModelCard = {
          ...card,
          name: `${basename(flags.out)}/${VOICE_COMMAND_DIR}`,
          strategy: "intermediate",
          description: `spoken-command recogniser of ${basename(flags.out)} (classes: ${COMMAND_VOCAB.map((c) => c || "none").join(", ")}); feeds the standing voice request`,
          metrics: { validation: recMetrics },
          inputSpec: recSpec,
          flopsPerSample: flopsPerSample(rec.model),
          notes: [],
        };
        const recogniser = rec.model;
        saveRecogniser = (dir) => saveModelDir(join(dir, VOICE_COMMAND_DIR), recogniser, recCard, renderCard);
      }
      // The model directory appears whole or not at all (bin/output-file.ts): a failed save leaves no half model.
      const hash = await writeAtomically(flags.out, async (tmp) => {
        await saveRecogniser?.(tmp);
        return saveModelDir(tmp, model, card, renderCard);
      });
      log(`wrote ${flags.out} (hash ${hash}); validation macro-F1 ${result.val.macroF1.toFixed(3)}`);
      process.stdout.write(JSON.stringify({ out: flags.out, hash, metrics }, null, 2) + "\n");
    });
}

/**
 * Trains ensemble members in worker threads, `jobs` at a time (each worker runs TF.js on its own core), and
 * loads them back. The pretrained encoders are handed over as saved models; each worker reads the recordings
 * from the feature cache this process filled, in the same order, so the split's sample indices hold.
 */
async function trainMembersInWorkers(o: {
  members: number;
  jobs: number;
  log: (s: string) => void;
  job: (k: number, out: string, pretrained: MemberJob["pretrained"]) => MemberJob;
  pretrained: { modality: Modality; model: tf.LayersModel }[];
  epochLine: (e: EpochReport) => string;
}): Promise<TrainResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "fusiond-members-"));
  const workers = new Set<Worker>();
  const status = new Map<number, string>();
  const draw = (): void => {
    if (process.stderr.isTTY) process.stderr.write(`\r${[...status].map(([k, s]) => `member ${k + 1}: ${s}`).join(" | ")}\x1b[K`);
  };
  const say = (s: string): void => {
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    o.log(s);
    draw();
  };
  try {
    const pretrainedDirs: MemberJob["pretrained"] = [];
    for (const p of o.pretrained) {
      const d = join(dir, `pretrained-${p.modality}`);
      await p.model.save(new FsModelHandler(d));
      pretrainedDirs.push({ modality: p.modality, dir: d });
    }
    const runOne = async (k: number): Promise<TrainResult> => {
      let result: Omit<TrainResult, "model"> | undefined;
      status.set(k, "reading features");
      draw();
      await inWorker<MemberMessage>(o.job(k, join(dir, `member-${k + 1}`), pretrainedDirs), `ensemble member ${k + 1}`, workers, (m, finish) => {
        if (m.kind === "progress") {
          const p = m.progress;
          status.set(k, `epoch ${p.epoch}/${p.epochs} ${Math.round((100 * p.batch) / p.batches)}% loss ${p.loss.toFixed(4)}`);
          draw();
        } else if (m.kind === "epoch") say(`member ${k + 1} ${o.epochLine(m.epoch)}`);
        else if (m.kind === "done") {
          status.delete(k);
          say(`member ${k + 1} done: validation macro-F1 ${m.val.macroF1.toFixed(3)} (best epoch ${m.bestEpoch} of ${m.history.length})`);
          result = { history: m.history, bestEpoch: m.bestEpoch, val: m.val, samplesPerSecond: m.samplesPerSecond };
          finish();
        } else finish(new Error(`ensemble member ${k + 1} failed in its worker: ${m.message}`));
      });
      return { ...result!, model: await tf.loadLayersModel(new FsModelHandler(join(dir, `member-${k + 1}`))) };
    };
    const results: TrainResult[] = new Array<TrainResult>(o.members);
    const queue = Array.from({ length: o.members }, (_, k) => k);
    await Promise.all(
      Array.from({ length: Math.min(o.jobs, o.members) }, async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) results[k] = await runOne(k);
      }),
    );
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    return results;
  } finally {
    await Promise.all([...workers].map((w) => w.terminate()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const WORKER = new URL("./train-worker.js", import.meta.url);

/**
 * Runs one job in a worker thread. `onMessage` sees each message and calls `finish` (with an error, or
 * without when the job is done); a crash, or an exit before `finish`, rejects with `what` named.
 */
function inWorker<M>(job: MemberJob | FeaturesJob, what: string, workers: Set<Worker>, onMessage: (m: M, finish: (err?: Error) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: job });
    workers.add(worker);
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    worker.on("message", (m: M) => onMessage(m, finish));
    worker.on("error", (err) => finish(new Error(`${what}: its worker crashed: ${err.message}`)));
    worker.on("exit", (code) => {
      workers.delete(worker);
      finish(new Error(`${what}: its worker exited (code ${code}) before it finished`));
    });
  });
}

/**
 * Extracts the samples of every recording not yet in the feature cache, `jobs` worker threads at a time
 * (each a share of the files, round robin), so that loading them afterwards is a cache read. One file or
 * one job: nothing to do here, loading extracts it.
 */
async function extractInWorkers(sets: { files: readonly string[]; every: number }[], config: FeaturesJob["config"], jobs: number, log: (s: string) => void): Promise<void> {
  const todo = sets.flatMap((s) => uncachedFiles(s.files, s.every, config).map((file) => ({ file, every: s.every })));
  if (todo.length < 2 || jobs < 2) return;
  const n = Math.min(jobs, todo.length);
  const t0 = performance.now();
  log(`extracting the features of ${todo.length} recordings not in the cache, ${n} worker threads`);
  let done = 0;
  const workers = new Set<Worker>();
  try {
    await Promise.all(
      Array.from({ length: n }, async (_, w) => {
        const mine = todo.filter((_, i) => i % n === w);
        // A job has one sampling rate: a share that mixes rates runs one job per rate, in turn.
        for (const every of new Set(mine.map((t) => t.every))) {
          const job: FeaturesJob = { kind: "features", files: mine.filter((t) => t.every === every).map((t) => t.file), every, config };
          await inWorker<FeaturesMessage>(job, "feature extraction", workers, (m, finish) => {
            if (m.kind === "extracted") log(`[${++done}/${todo.length}] ${m.line}`);
            else if (m.kind === "done") finish();
            else finish(new Error(`feature extraction failed in a worker: ${m.message}`));
          });
        }
      }),
    );
  } finally {
    await Promise.all([...workers].map((w) => w.terminate()));
  }
  log(`extracted ${todo.length} recordings in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
