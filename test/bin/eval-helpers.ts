/** Fixtures for the eval tests: a tiny untrained model directory, and a short recorded drive in memory. */
import type { RoadMap } from "../../domain/road-map.ts";
import { SCENARIO_MAPS_RECORD, scenarioMapsRecord } from "../../sim/scenario-maps.ts";
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeInputSpec, renderCard, saveModelDir, strategyByName, type ModelCard, type StrategyName } from "../../fusion/index.ts";
import { MemorySink } from "../../replay/io.ts";
import { McapRecorder } from "../../replay/recorder.ts";
import { MessageDecoder, type Modality } from "../../schemas/index.ts";
import { datasetMessages, type DatasetOptions } from "../../sim/dataset.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import type { EvaluateOptions } from "../../eval/run/evaluate.ts";
import { saveRecogniserFor } from "../fusion/recogniser.ts";

/** Saves an untrained (seeded) model of a strategy over some modalities; returns its directory. */
export async function tinyModelDir(name: string, modalities: Modality[], strategy: StrategyName = "late", seed = 3, parent?: string): Promise<string> {
  const dir = join(parent ?? mkdtempSync(join(tmpdir(), "fusiond-eval-model-")), name);
  // Whatever backend an earlier test left selected (wasm initialises asynchronously) must be ready before
  // layers are built: building on a registered but uninitialised wasm backend throws.
  await tf.ready();
  const spec = makeInputSpec(modalities);
  const model = strategyByName(strategy).build(spec, { seed, units: 8 });
  const card: ModelCard = { name, strategy, description: "untrained test model", command: "test", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: spec };
  await saveRecogniserFor(dir, spec);
  await saveModelDir(dir, model, card, renderCard);
  model.dispose();
  return dir;
}

/** A short drive of fixed scenarios, recorded to MCAP bytes exactly as `fusiond sim --out` writes them. */
export async function recordDrive(scenarios: ScenarioSpec[], durationS: number, options: DatasetOptions = {}): Promise<Uint8Array> {
  const codec = new MessageDecoder().codec;
  const sink = new MemorySink("drive.mcap");
  const rec = await McapRecorder.create({ open: () => sink, compression: "none" });
  // The episodes' road maps, as the dataset writer stores them (sim/scenario-maps.ts): a shortened suite scenario's map is not the suite's.
  const maps = new Map<string, RoadMap>();
  for (const m of datasetMessages(1, durationS, { ...options, scenarios, onEpisode: (spec, map) => void maps.set(spec.name, map) })) {
    rec.addMessage({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message), receiveNs: m.receiveNs, stampNs: m.stampNs });
  }
  rec.addMetadata(SCENARIO_MAPS_RECORD, scenarioMapsRecord(maps));
  await rec.close();
  return sink.bytes();
}

/** The settings every in-process evaluate() test shares (cpu, 200 bootstrap resamples, two episodes at once). */
export const TEST_EVAL_SETTINGS = {
  ablation: false,
  baselines: [],
  backend: "cpu",
  maskUnused: true,
  bootstrap: { iterations: 200, level: 0.95, seed: 1 },
  parallel: 2,
  transport: "in-process",
  command: "test",
  version: "0",
} satisfies Partial<EvaluateOptions>;
