/**
 * `fusiond train --data A.mcap... --strategy S --out models/NAME`: trains a fusion model from simulator
 * recordings. Reading (replay/), alignment (pipeline/'s FrameAligner, exactly the daemon's) and the map of
 * each scenario (sim/) are composed here; features, labels and training are fusion/'s pure code.
 * Features of each file are cached (v8-serialised, keyed by file size/mtime and the feature config) in
 * $TMPDIR/fusiond-features, so training several models on one dataset extracts them once.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import type { Command } from "commander";
import * as tf from "@tensorflow/tfjs";
import { MessageDecoder, MODALITIES, type DecodedMessage, type FusedFrame, type Modality } from "../../schemas/index.ts";
import { fileSource, McapRecording } from "../../replay/index.ts";
import { FrameAligner } from "../../pipeline/frame-aligner.ts";
import { alignerSchema } from "../../pipeline/daemon-config.ts";
import type { AlignerConfig } from "../../pipeline/index.ts";
import { alignerConfigFrom } from "../daemon/daemon.ts";
import { buildScenario } from "../../sim/scenario.ts";
import { scenarioSuite } from "../../sim/scenarios.ts";
import {
  ACTIONS, BACKEND_CHOICES, COMMAND_VOCAB, DEFAULT_FEATURE_CONFIG, ensembleOf, evaluate, flopsPerSample, indexTruths, labelFrames, loadModelDir, makeInputSpec,
  mulberry32, pretrain, VOICE_COMMAND_DIR, PRETRAIN_TASKS, renderCard, roadMapView, saveModelDir, selectBackend, splitByGroup, STRATEGIES, train,
  type BackendChoice, type ClassMetrics, type FeatureConfig, type InputSpec, type LabelledSample, type MapView, type ModelCard, type StrategyName,
} from "../../fusion/index.ts";
import { EXIT_USAGE } from "./types.ts";

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
  head: string;
  units: string;
  ensemble: string;
}

/**
 * Training aligns exactly as the daemon does by default (pipeline/daemon-config.ts defaults, per-topic order
 * as the graph sets it), with its deadlines falling on the recorded receive clock: the frames a model learns
 * from are the frames it will be given.
 */
const TRAIN_ALIGNER: AlignerConfig = { inOrderPerTopic: true, ...alignerConfigFrom(alignerSchema.parse({})) };

const mapCache = new Map<string, MapView | undefined>();
function mapForScenario(name: string): MapView | undefined {
  if (!mapCache.has(name)) {
    const spec = scenarioSuite().find((s) => s.name === name);
    mapCache.set(name, spec ? roadMapView(buildScenario(spec).map) : undefined);
  }
  return mapCache.get(name);
}

let codeHash: string | undefined;
/**
 * Hash of the code that turns a recording into samples (the feature extractors, labelling, the aligner): part
 * of the feature cache's key, so that a change to any of them can never be trained on stale features.
 */
function featureCodeHash(): string {
  if (codeHash) return codeHash;
  const h = createHash("sha256");
  const root = fileURLToPath(new URL("../../", import.meta.url));
  for (const dir of ["fusion/features", "fusion/train", "pipeline", "schemas"]) {
    for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith(".ts")).sort()) h.update(f).update(readFileSync(join(root, dir, f)));
  }
  return (codeHash = h.digest("hex").slice(0, 16));
}

/** Reads one recording, aligns it with the pipeline's aligner, joins truths, extracts features. */
async function samplesOfFile(file: string, every: number, useCache: boolean, log: (s: string) => void, config: FeatureConfig = DEFAULT_FEATURE_CONFIG): Promise<LabelledSample[]> {
  const st = statSync(file);
  const alignerKey = JSON.stringify(TRAIN_ALIGNER, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  const key = createHash("sha256").update(JSON.stringify([file, st.size, st.mtimeMs, every, config, alignerKey, featureCodeHash()])).digest("hex").slice(0, 16);
  const cacheDir = join(tmpdir(), "fusiond-features");
  const cached = join(cacheDir, `${basename(file)}.${key}.v9`);
  if (useCache && existsSync(cached)) return deserialize(readFileSync(cached)) as LabelledSample[];
  const decoder = new MessageDecoder();
  const aligner = new FrameAligner(TRAIN_ALIGNER);
  const frames: FusedFrame[] = [];
  const truths: DecodedMessage[] = [];
  let rejected = 0;
  let last = 0n;
  const rec = await McapRecording.open(await fileSource(file));
  try {
    for await (const m of rec.messages()) {
      const r = decoder.decode({ topic: m.topic, payload: m.bytes, receiveNs: m.receiveNs });
      if (!r.ok) {
        rejected++;
        continue;
      }
      last = m.receiveNs;
      // Deadlines that fall before this arrival fire first, as the pipeline's timers would.
      for (let due = aligner.nextDeadlineNs(); due !== undefined && due <= m.receiveNs; due = aligner.nextDeadlineNs()) frames.push(...aligner.expire(due, due));
      if (r.message.kind === "sim_truth") truths.push(r.message.message);
      else frames.push(...aligner.push(r.message, m.receiveNs));
    }
  } finally {
    await rec.close();
  }
  frames.push(...aligner.flush(last));
  const { samples, skipped } = labelFrames(frames, indexTruths(truths), (t) => ({ config, map: mapForScenario(String(t["scenario"] ?? "")) }), (t) => String(t["episode_id"] ?? file), every);
  log(`${relative(process.cwd(), file)}: ${frames.length} frames, ${samples.length} samples (every ${every}), ${skipped} without a label, ${rejected} rejected messages`);
  if (useCache) {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(`${cached}.${process.pid}.tmp`, serialize(samples));
    renameSync(`${cached}.${process.pid}.tmp`, cached); // atomic: parallel trainings may read the cache
  }
  return samples;
}

async function loadAll(files: string[], every: number, cache: boolean, log: (s: string) => void, config: FeatureConfig): Promise<LabelledSample[]> {
  const out: LabelledSample[] = [];
  for (const f of files) for (const s of await samplesOfFile(f, every, cache, log, config)) out.push(s);
  return out;
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

function progressBar(label: string): (p: { epoch: number; epochs: number; batch: number; batches: number; loss: number }) => void {
  let lastDraw = 0;
  return (p) => {
    const now = performance.now();
    if (p.batch !== p.batches && now - lastDraw < 200) return;
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
    .option("--strategy <s>", `fusion strategy: ${STRATEGIES.join(", ")}`, "intermediate")
    .requiredOption("--out <dir>", "model directory to write (e.g. models/default)")
    .option("--modalities <list>", "modalities the model reads", MODALITIES.join(","))
    .option("--seed <n>", "seed of initialisation, shuffles and dropout", "1")
    .option("--epochs <n>", "most epochs", "30")
    .option("--batch <n>", "batch size", "64")
    .option("--lr <x>", "Adam learning rate", "0.002")
    .option("--patience <n>", "early stopping: epochs without a better validation macro-F1", "5")
    .option("--dropout <p>", "modality dropout probability per modality and sample", "0.15")
    .option("--every <n>", "take every n-th frame of a recording", "2")
    .option("--pretrain <list>", "encoders to pretrain on their own task first (camera,voice), or none", "none")
    .option("--freeze <n>", "epochs the pretrained encoders stay frozen before fine-tuning", "3")
    .option("--max-minutes <m>", "stop training after this long, per ensemble member (best weights kept)", "18")
    .option("--backend <b>", `TF.js backend: ${BACKEND_CHOICES.join(", ")}`, "wasm")
    .option("--compare <dir>", "a baseline model directory to evaluate on the same test data (deltas in the card)")
    .option("--description <text>", "one line for the model card")
    .option("--no-cache", "do not read or write the feature cache")
    .option("--head <widths>", "hidden layer widths of the shared head, comma-separated (early, intermediate, attention)", "64")
    .option("--units <n>", "embedding width of each modality's encoder", "32")
    .option("--ensemble <n>", "train n members (seeds seed, seed+1, …) and ship their averaged probabilities as one model", "1")
    .option("--ego-accel", "read the car's measured acceleration too (only for data from fusiond sim --perturb: on the expert's own drives it gives the label away)")
    .action(async (flags: TrainFlags) => {
      const log = (s: string): void => void process.stderr.write(`fusiond train: ${s}\n`);
      const modalities = flags.modalities.split(",").map((m) => m.trim()) as Modality[];
      const badMods = modalities.filter((m) => !MODALITIES.includes(m));
      if (!STRATEGIES.includes(flags.strategy as StrategyName) || badMods.length || !BACKEND_CHOICES.includes(flags.backend as BackendChoice)) {
        log(`bad option: strategy ${flags.strategy} (one of ${STRATEGIES.join(", ")}), modalities ${badMods.join(",") || "ok"}, backend ${flags.backend}`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const head = flags.head.split(",").map((w) => Number(w.trim()));
      const units = Number(flags.units);
      const members = Number(flags.ensemble);
      if (!Number.isInteger(members) || members < 1 || members > 8) {
        log(`bad option: --ensemble ${flags.ensemble} (1 to 8 members)`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      if (head.some((w) => !Number.isInteger(w) || w < 1 || w > 4096) || !Number.isInteger(units) || units < 1 || units > 1024) {
        log(`bad option: --head ${flags.head} (positive integers, e.g. 128,64), --units ${flags.units} (a positive integer)`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const t0 = performance.now();
      const backend = await selectBackend(flags.backend as BackendChoice);
      log(`backend ${backend.chosen} (${backend.log.join("; ")})`);
      const every = Number(flags.every);
      // The spec's feature config (it drops cross-modal features whose other modality the model does not read).
      const spec = makeInputSpec(modalities, flags.egoAccel ? { ...DEFAULT_FEATURE_CONFIG, egoAccel: true } : DEFAULT_FEATURE_CONFIG);
      // An ensemble is bagged by phase: member k takes every n-th training frame starting at frame k, so that
      // together the members see every frame (all are loaded; each member's split picks its phase).
      const phased = members > 1 && every > 1;
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
        const r = await pretrain(samples, memberSplit(0), task, spec.config, { ...common, epochs: Math.min(4, common.epochs), modalityDropout: 0, onProgress: progressBar(`pretrain ${m}`) });
        log(`pretrained ${m} encoder (${m === "camera" ? "obstacle ahead" : "spoken command"}): validation accuracy ${r.val.accuracy.toFixed(3)}, macro-F1 ${r.val.macroF1.toFixed(3)}`);
        pretrainMetrics[`pretrain ${m}`] = { task: m === "camera" ? "obstacle ahead" : "command", accuracy: r.val.accuracy, macroF1: r.val.macroF1 };
        pretrained.push({ modality: m as Modality, model: r.model });
      }
      const trained = [];
      for (let k = 0; k < members; k++) {
        if (members > 1) log(`ensemble member ${k + 1} of ${members} (seed ${seed + k}${phased ? `, frames ${k % every}, ${(k % every) + every}, … of every recording` : ""})`);
        trained.push(
          await train(samples, memberSplit(k), {
            ...common,
            seed: seed + k,
            strategy: flags.strategy as StrategyName,
            spec,
            head,
            units,
            modalityDropout: Number(flags.dropout),
            pretrained,
            freezeEpochs: Number(flags.freeze),
            onProgress: progressBar(members > 1 ? `${flags.strategy} ${k + 1}/${members}` : flags.strategy),
            onEpoch: (e) => log(`epoch ${e.epoch}${e.frozen ? " (encoders frozen)" : ""}: loss ${e.loss.toFixed(4)}, validation macro-F1 ${e.val.macroF1.toFixed(3)}, accuracy ${e.val.accuracy.toFixed(3)}${e.best ? " *" : ""}`),
          }),
        );
      }
      const model = await ensembleOf(trained.map((r) => r.model));
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
          const b = conditionMetrics(base.model, test, base.spec);
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
          ...(members > 1 ? { "ensemble members": members, "member frames": phased ? `1 in ${every}, member k from frame k` : `1 in ${every}, all members alike`, "member validation macro-F1": trained.map((r) => r.val.macroF1.toFixed(3)).join(", "), "member epochs run": trained.map((r) => r.history.length).join(", ") } : {}),
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
      // A model that reads the standing voice request ships the recogniser that feeds it at inference: the
      // voice encoder pretrained on the spoken command (pretrained now if --pretrain did not include voice).
      if (spec.inputs.some((i) => i.name === "intent")) {
        let rec = pretrained.find((p) => p.modality === "voice");
        let recMetrics = pretrainMetrics["pretrain voice"];
        if (!rec) {
          const r = await pretrain(samples, memberSplit(0), PRETRAIN_TASKS.voice(COMMAND_VOCAB.length), spec.config, { ...common, epochs: Math.min(4, common.epochs), modalityDropout: 0, onProgress: progressBar("voice-command") });
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
        await saveModelDir(join(flags.out, VOICE_COMMAND_DIR), rec.model, recCard, renderCard);
      }
      const hash = await saveModelDir(flags.out, model, card, renderCard);
      log(`wrote ${flags.out} (hash ${hash}); validation macro-F1 ${result.val.macroF1.toFixed(3)}`);
      process.stdout.write(JSON.stringify({ out: flags.out, hash, metrics }, null, 2) + "\n");
    });
}
