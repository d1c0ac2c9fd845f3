/**
 * The decision side of an evaluation: a model directory loaded on the chosen backend, and a decide(frame)
 * that is the daemon's DecisionEngine (features → model → supervisor) with two evaluation knobs:
 *  - masking: modalities removed from every frame before the decision (present=false, slot removed), for
 *    the ablation and for models that do not read a sensor (a camera-only model drives a car without
 *    radar: the supervisor's radar TTC rule must not help it);
 *  - the road map of the scenario the frame belongs to (training used the same per-scenario map).
 * Runners micro-batch (maxBatch 32 by default): open loop keeps a batch of frames in flight, so the model runs
 * batched (DecisionEngine.decide decides them exactly as one at a time).
 */
import {
  DEFAULT_SUPERVISOR,
  DecisionEngine,
  roadMapView,
  type BackendChoice,
  type DrivingDecision,
  type InputSpec,
  type MapView,
  type ModelRunner,
  type SupervisorConfig,
} from "../../fusion/index.ts";
import type { ModelInfo } from "../score/report.ts";
import { MODALITIES, type FusedFrame, type Modality } from "../../schemas/index.ts";
import { scenarioMaps } from "../../sim/scenario-maps.ts";
import { ensureBackend, loadWarmRunner } from "../../fusion/inference/decider.ts";
import { CLASSIC_MODEL_ID, ClassicRunner } from "../../fusion/classic/runner.ts";
import { classicHash, RECOGNISER_MODEL } from "./builtins.ts";
import { EXPERT_MODEL_ID, loadExpert } from "./expert.ts";

export interface EvalModel {
  info: ModelInfo;
  runner: ModelRunner;
  spec: InputSpec;
  close(): void;
  /** A runner for one more stream of frames (an episode, a recording), for runners that keep state across frames. */
  stream?: () => ModelRunner;
}

/**
 * `classic` (issue #20's non-learned baseline, fusion/classic/): the rules on the daemon's own inputs; it hears
 * voice commands through the default model's recogniser, as the daemon would.
 */
async function loadClassic(backend: BackendChoice): Promise<EvalModel> {
  const voice = await loadEvalModel(RECOGNISER_MODEL, backend);
  const classic = new ClassicRunner(voice.runner.commands);
  return {
    // The row's hash covers the rules and the recogniser (eval/run/builtins.ts); decisions carry the rules' own.
    info: { id: CLASSIC_MODEL_ID, hash: classicHash(), dir: CLASSIC_MODEL_ID, strategy: "classic", modalities: [...classic.spec.modalities], backend: classic.backend },
    runner: classic,
    spec: classic.spec,
    close: () => voice.close(),
    stream: () => classic.fresh(),
  };
}

/**
 * Loads a model directory for evaluation (backend chosen once per process, as the daemon does); its runner
 * runs up to `maxBatch` waiting calls as one batch (open loop's `batch` should not exceed it). The built-in
 * rows are named instead: `classic` and `expert` (eval/run/builtins.ts).
 */
export async function loadEvalModel(dir: string, backend: BackendChoice = "auto", maxBatch = 32): Promise<EvalModel> {
  if (dir === CLASSIC_MODEL_ID) return loadClassic(backend);
  if (dir === EXPERT_MODEL_ID) return loadExpert();
  const sel = await ensureBackend(backend, dir);
  const { loaded, runner } = await loadWarmRunner(dir, sel, { now: () => performance.now(), maxBatch, maxQueue: Math.max(64, 2 * maxBatch) });
  return {
    info: {
      id: loaded.id,
      hash: loaded.hash,
      dir,
      strategy: loaded.card.strategy || "unknown",
      modalities: [...loaded.spec.modalities],
      backend: sel.chosen,
    },
    runner,
    spec: loaded.spec,
    close: () => runner.close(),
  };
}

/** A model that is not a TF.js directory (tests: a FakeModelRunner). */
export function evalModelOf(runner: ModelRunner, dir = runner.modelId): EvalModel {
  return {
    info: { id: runner.modelId, hash: runner.modelHash, dir, strategy: "test", modalities: [...runner.spec.modalities], backend: runner.backend },
    runner,
    spec: runner.spec,
    close: () => runner.close(),
  };
}

/**
 * Scenario name → the map view of its road map, for one recording (its metadata records): the map the
 * recording stores (sim/scenario-maps.ts), else the suite scenario's; what `fusiond train` gives the features.
 */
export const recordingMaps = (metadata: ReadonlyMap<string, ReadonlyMap<string, string>> | undefined, file: string): ((name: string) => MapView | undefined) =>
  scenarioMaps(metadata, file, roadMapView);

/** The frame without the given modalities: present=false, slot and age removed. */
export function maskFrame(frame: FusedFrame, masked: readonly Modality[]): FusedFrame {
  if (!masked.length) return frame;
  const slots = { ...frame.slots };
  const ageNs = { ...frame.ageNs };
  const present = { ...frame.present };
  for (const m of masked) {
    delete slots[m];
    delete ageNs[m];
    present[m] = false;
  }
  return { ...frame, slots, ageNs, present };
}

/** The modalities a model does not read (masked unless the evaluation keeps every sensor). */
export const unusedModalities = (spec: InputSpec): Modality[] => MODALITIES.filter((m) => !spec.modalities.includes(m));

export interface DecideSettings {
  /** Removed from every frame before the decision. */
  mask: readonly Modality[];
  /** Default: the daemon's. The ablation sets `critical: []` so the model itself answers without the sensor. */
  supervisor?: SupervisorConfig;
  /** The pipeline's clock, ns (virtual on replay). */
  nowNs: () => bigint;
  /** The map of the scenario a frame stamp belongs to. */
  mapAt: (stampNs: bigint) => MapView | undefined;
}

export type DecideFn = (frame: FusedFrame) => Promise<DrivingDecision>;

/** decide(frame) for the pipeline: one DecisionEngine per map, all on the model's runner. */
export function makeDecide(model: EvalModel, s: DecideSettings): DecideFn {
  const engines = new Map<MapView | undefined, DecisionEngine>();
  return (frame) => {
    const map = s.mapAt(frame.stampNs);
    let engine = engines.get(map);
    if (!engine) {
      engine = new DecisionEngine({ primary: model.stream?.() ?? model.runner, supervisor: s.supervisor ?? DEFAULT_SUPERVISOR, nowNs: s.nowNs, ...(map ? { map } : {}) });
      engines.set(map, engine);
    }
    return engine.decide(maskFrame(frame, s.mask));
  };
}

/** Sensor status of a frame as the decision saw it: ok, stale (older than the supervisor's limit) or missing. */
export function sensorStatus(frame: FusedFrame, masked: readonly Modality[], staleAfterS = DEFAULT_SUPERVISOR.staleAfterS): Record<string, "ok" | "stale" | "missing"> {
  const out: Record<string, "ok" | "stale" | "missing"> = {};
  for (const m of MODALITIES) {
    if (masked.includes(m) || !frame.present[m]) out[m] = "missing";
    else out[m] = m !== "voice" && Number(frame.ageNs[m] ?? 0n) / 1e9 > staleAfterS ? "stale" : "ok";
  }
  // Several cameras: each other camera's slot too ("camera rear"), missing when masked or absent from the frame.
  for (const [topic, slot] of Object.entries(frame.cameras ?? {})) {
    const age = slot ? Math.abs(Number(slot.ageNs)) / 1e9 : 0;
    out[`camera ${topic.slice(topic.lastIndexOf("/") + 1)}`] = masked.includes("camera") || !slot ? "missing" : age > staleAfterS ? "stale" : "ok";
  }
  return out;
}
