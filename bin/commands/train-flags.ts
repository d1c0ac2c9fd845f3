/**
 * `fusiond train`'s flags: the checks commander's option parsers cannot make, and the flags as the options of a
 * training run (train/run.ts).
 */
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import {
  DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, makeInputSpec, STRATEGIES, TRAINING_BACKEND_CHOICES, type BackendChoice, type FeatureConfig, type StrategyName,
} from "../../fusion/index.ts";
import type { TrainRunOptions } from "../../train/run.ts";
import { usage } from "../cli-errors.ts";
import { freshRecordings } from "../../eval/run/fresh-guard.ts";
import { FRESH_RESERVED } from "../../eval/run/scenarios.ts";

export interface TrainFlags {
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
  /** --stop-state: read the stop-line state too (fusion/features/stop-line.ts). */
  stopState?: boolean;
  /** --radar-scan: "nearest" (default) or "latest" (pipeline/model-alignment.ts). */
  radarScan?: string;
  cameras?: string;
  head: string;
  units: string;
  ensemble: string;
  jobs?: string;
  quiet?: boolean;
}

type Checked = { modalities: Modality[]; head: number[]; units: number; members: number; jobs: number };

/** The checks commander's option parsers cannot make; the flags as numbers. */
export function checkFlags(flags: TrainFlags): Checked {
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

/** --cameras (distinct ids), --ego-accel, --stop-state and --radar-scan as the feature config. */
export function checkCameras(flags: TrainFlags): FeatureConfig {
  // The spec's feature config (it drops cross-modal features whose other modality the model does not read).
  const cameras = flags.cameras?.split(",").map((c) => c.trim()).filter((c) => c.length > 0);
  if (cameras !== undefined && (cameras.length === 0 || new Set(cameras).size !== cameras.length || cameras.some((c) => !/^[^/#+]+$/.test(c)))) {
    usage(`--cameras takes distinct camera ids separated by commas, e.g. ${DEFAULT_CAMERA_IDS.join(",")}, not "${flags.cameras}"`);
  }
  if (flags.radarScan !== undefined && flags.radarScan !== "nearest" && flags.radarScan !== "latest") usage(`--radar-scan is nearest or latest, not "${flags.radarScan}"`);
  return {
    ...DEFAULT_FEATURE_CONFIG,
    ...(flags.egoAccel ? { egoAccel: true } : {}),
    ...(flags.stopState ? { stopServed: true } : {}),
    ...(cameras ? { cameras } : {}),
    ...(flags.radarScan === "latest" ? { radarScan: "latest" as const } : {}),
  };
}

/** The flags as a training run's options (all but its callbacks and start time). */
export function runOptions(flags: TrainFlags, c: Checked, baseConfig: FeatureConfig, chosenBackend: string): Omit<TrainRunOptions, "t0" | "log" | "progress" | "epochLine"> {
  const { modalities, head, units, members, jobs } = c;
  return {
    data: flags.data,
    ...(flags.valData ? { valData: flags.valData } : {}),
    ...(flags.testData ? { testData: flags.testData } : {}),
    strategy: flags.strategy as StrategyName,
    modalities,
    spec: makeInputSpec(modalities, baseConfig),
    backend: { asked: flags.backend as BackendChoice, chosen: chosenBackend },
    seed: Number(flags.seed),
    epochs: Number(flags.epochs),
    batchSize: Number(flags.batch),
    learningRate: Number(flags.lr),
    patience: Number(flags.patience),
    dropout: Number(flags.dropout),
    every: Number(flags.every),
    pretrain: flags.pretrain === "none" ? [] : flags.pretrain.split(","),
    freeze: Number(flags.freeze),
    maxMinutes: Number(flags.maxMinutes),
    ...(flags.compare !== undefined ? { compare: flags.compare } : {}),
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    cache: flags.cache,
    head,
    units,
    members,
    jobs,
    extractJobs: flags.jobs === undefined ? availableParallelism() : jobs,
    name: basename(flags.out),
    command: `fusiond ${process.argv.slice(2).join(" ")}`,
  };
}

/** Fresh-seed drives are kept for figures nobody tuned on: training or validating on one is a usage error. */
export async function refuseFreshData(flags: Pick<TrainFlags, "data" | "valData">): Promise<void> {
  const fresh = await freshRecordings([...flags.data, ...(flags.valData ?? [])]);
  if (fresh.length) usage(`${fresh.slice(0, 3).join(", ")}${fresh.length > 3 ? ` and ${fresh.length - 3} more` : ""}: fresh-seed drives (seeds ${FRESH_RESERVED.from}–${FRESH_RESERVED.to}) are kept for figures nobody tuned on (docs/eval.md, "Protocol"); train and validate on other seeds`);
}
