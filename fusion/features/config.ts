/**
 * Feature configuration and the input spec derived from it. The spec (names and per-sample shapes of
 * every model input) is saved with each model; loading a model whose spec differs from what the
 * feature code would produce for the stored config is an error at load time.
 */
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import { INTENT_FEATURES } from "./intent.ts";

/** Bump when the meaning of any feature changes (a model trained on the old meaning must not load). */
export const FEATURES_VERSION = 4;
/**
 * Older versions whose specs the current code still computes exactly: version 4 only added the opt-in stop
 * state (stopServed), so a version-3 model (whose config has no stopServed) keeps loading.
 */
const COMPATIBLE_FEATURES_VERSIONS: readonly number[] = [3];

export interface FeatureConfig {
  version: number;
  camera: { size: number; patch: number };
  radar: { maxReturns: number; laneHalfWidthM: number };
  voice: { sampleRate: number; maxSeconds: number; fftSize: number; windowSize: number; hop: number; mels: number; frames: number };
  /** Ages at or above this count as fully stale in the presence features, seconds. */
  maxAgeS: number;
  /** The same for voice, whose utterance stays relevant for seconds (the aligner's time-to-live). */
  voiceMaxAgeS: number;
  /**
   * Voice models also read the standing voice request (intent.ts: hold, lane request, speed offset), which
   * a recogniser saved with the model (voice-command/) feeds. Absent in models made before it: false.
   */
  intent?: boolean;
  /** Ego also carries the lane and the lane change being executed (EgoState lane_index, lane_change). Absent in older models: false. */
  egoManeuver?: boolean;
  /** GNSS also carries the map's advisory speed (a lower limit ahead anticipated). Absent in older models: false. */
  mapAhead?: boolean;
  /** Ego also carries its speed against the map's advisory speed (needs the GNSS map context). Absent in older models: false. */
  egoVsMap?: boolean;
  /**
   * With egoManeuver, keep the measured acceleration (left out otherwise: it echoes the previous decision).
   * Only for models trained on perturbed drives (fusiond sim --perturb), where it no longer gives the label away.
   */
  egoAccel?: boolean;
  /**
   * Ego also carries whether the upcoming stop line has been served (stop-line.ts: in its stop zone, stood at
   * it, lowest speed in the zone, and its distance on a 200-m scale), kept from the frames in order by the decision engine and the labelling loop;
   * needs the GNSS map context. Features version 4. Opt-in (`fusiond train --stop-state`): on validation it did not
   * help yet (docs/eval.md). Absent: false.
   */
  stopServed?: boolean;
  /**
   * Several cameras, by id (camera/{id}), one model slot each in this order: the `camera` input becomes
   * [cameras, patches, patch values] and `camera_mask` [cameras] says which slots hold a usable frame (a
   * missing, stale or undecodable camera is zeros with mask 0). Absent: the one camera of the frame's
   * reference slot, as in every model made before it.
   */
  cameras?: string[];
  /**
   * The radar scan the model's frames hold (issue 16): "latest", the latest scan stamped at or before the camera
   * stamp, each return moved to it along its radial velocity — frames never wait for the scan after the camera,
   * and which scan a frame holds does not depend on when the next one arrives. The daemon, evaluation and training
   * align so for a model that says it (pipeline/ AlignerConfig radarScan). Absent: the scan nearest the camera
   * stamp, waited for, as every model made before it.
   */
  radarScan?: "latest";
}

/** The simulator's camera set (sim/sensors/camera-set.ts CAMERA_MOUNTS): the default slots of a multi-camera model. */
export const DEFAULT_CAMERA_IDS: readonly string[] = ["front", "rear", "left", "right"];

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  version: FEATURES_VERSION,
  camera: { size: 32, patch: 8 },
  radar: { maxReturns: 24, laneHalfWidthM: 1.8 },
  voice: { sampleRate: 16000, maxSeconds: 2, fftSize: 512, windowSize: 400, hop: 160, mels: 32, frames: 32 },
  maxAgeS: 1,
  voiceMaxAgeS: 5,
  intent: true,
  egoManeuver: true,
  mapAhead: true,
  egoVsMap: true,
};

/** Per-return radar features and the radar summary, see radar.ts. */
export const RADAR_POINT_FEATURES = 8;
export const RADAR_SUMMARY_FEATURES = 8;
export const GNSS_FEATURES = 12;
/** Added to GNSS with mapAhead: the map's advisory speed. */
export const GNSS_AHEAD_FEATURES = 1;
export const EGO_FEATURES = 8;
/** Added to ego with egoManeuver: changing left, changing right. */
export const EGO_MANEUVER_FEATURES = 2;
/** Added to ego with egoVsMap: map context known, advisory − speed, speed / advisory. */
export const EGO_VS_MAP_FEATURES = 3;
/** Added to ego with stopServed: in the next stop line's zone, served, lowest speed in the zone, its distance to 200 m. */
export const STOP_STATE_FEATURES = 4;
/** Presence: one mask and one normalised age per modality, in MODALITIES order. */
export const PRESENCE_FEATURES = MODALITIES.length * 2;

/** Model input names. Each belongs to one modality except `presence`. */
export const INPUT_NAMES = ["camera", "camera_mask", "radar_points", "radar_point_mask", "radar_summary", "gnss", "ego", "voice", "intent", "presence"] as const;
export type InputName = (typeof INPUT_NAMES)[number];

export const INPUT_MODALITY: Record<InputName, Modality | null> = {
  camera: "camera",
  camera_mask: "camera",
  radar_points: "radar",
  radar_point_mask: "radar",
  radar_summary: "radar",
  gnss: "gnss",
  ego: "ego",
  voice: "voice",
  // Read by models that read voice (it comes from voice), but not gated by the voice slot's presence:
  // the request stands after the utterance has left the frame.
  intent: "voice",
  presence: null,
};

export interface TensorSpec {
  name: InputName;
  /** Per-sample shape (without the batch dimension). */
  shape: number[];
}

export interface InputSpec {
  featuresVersion: number;
  config: FeatureConfig;
  /** Modalities the model reads; the presence of the others is zeroed before the model sees it. */
  modalities: Modality[];
  inputs: TensorSpec[];
  /**
   * How the model is served where that differs from how it was trained (`config`), chosen after training on
   * validation and never by training itself (issue 16). `radarScan: "latest"`: frames hold the latest radar scan at
   * or before the camera, moved to its stamp, as for a model trained so — the daemon never waits for the scan after
   * the camera; the daemon and evaluation align so, training still as `config` says. `chosen` says on what evidence.
   */
  serving?: ServingChoice;
}

/** InputSpec.serving. */
export interface ServingChoice {
  radarScan?: "latest";
  chosen?: string;
}

/** The radar scan a model's frames hold when it is served and evaluated: its serving choice, else what it was trained on. */
export const servedRadarScan = (spec: Pick<InputSpec, "config" | "serving">): "latest" | undefined => spec.serving?.radarScan ?? spec.config.radarScan;

export function inputShapes(cfg: FeatureConfig): Record<InputName, number[]> {
  const p = cfg.camera.patch;
  const patches = (cfg.camera.size / p) ** 2;
  const slots = cfg.cameras?.length;
  return {
    camera: slots ? [slots, patches, p * p * 3] : [patches, p * p * 3],
    camera_mask: [slots ?? 1],
    radar_points: [cfg.radar.maxReturns, RADAR_POINT_FEATURES],
    radar_point_mask: [cfg.radar.maxReturns, 1],
    radar_summary: [RADAR_SUMMARY_FEATURES],
    gnss: [GNSS_FEATURES + (cfg.mapAhead === true ? GNSS_AHEAD_FEATURES : 0)],
    ego: [EGO_FEATURES + (cfg.egoManeuver === true ? EGO_MANEUVER_FEATURES : 0) + (cfg.egoVsMap === true ? EGO_VS_MAP_FEATURES : 0) + (cfg.stopServed === true ? STOP_STATE_FEATURES : 0)],
    voice: [cfg.voice.frames, cfg.voice.mels],
    intent: [INTENT_FEATURES],
    presence: [PRESENCE_FEATURES],
  };
}

/** The spec the current feature code produces for a config and a set of modalities. */
export function makeInputSpec(modalities: readonly Modality[], cfg: FeatureConfig = DEFAULT_FEATURE_CONFIG): InputSpec {
  if (cfg.camera.size % cfg.camera.patch !== 0) throw new Error(`camera size ${cfg.camera.size} is not a multiple of patch ${cfg.camera.patch}`);
  if (cfg.cameras !== undefined) {
    const ids = cfg.cameras;
    if (ids.length === 0 || new Set(ids).size !== ids.length || ids.some((id) => !/^[^/#+]+$/.test(id))) {
      throw new Error(`feature config cameras must be distinct camera ids such as front (no /, # or +), got [${ids.join(", ")}]`);
    }
  }
  const used = MODALITIES.filter((m) => modalities.includes(m));
  // Ego's speed-against-the-map features come from GNSS: a model that does not read GNSS does without them.
  if (cfg.egoVsMap === true && !used.includes("gnss")) cfg = { ...cfg, egoVsMap: false };
  // So is the stop state (the stop line's distance is the map's).
  if (cfg.stopServed === true && !used.includes("gnss")) cfg = { ...cfg, stopServed: false };
  const shapes = inputShapes(cfg);
  const inputs = INPUT_NAMES.filter((n) => (n !== "intent" || cfg.intent === true) && (n !== "camera_mask" || cfg.cameras !== undefined) && (INPUT_MODALITY[n] === null || used.includes(INPUT_MODALITY[n]!))).map((name) => ({
    name,
    shape: shapes[name],
  }));
  return { featuresVersion: FEATURES_VERSION, config: cfg, modalities: used, inputs };
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Differences between a stored spec and the one the current code makes for its config (empty: compatible). */
export function specMismatches(stored: InputSpec): string[] {
  const out: string[] = [];
  const serving = stored.serving as unknown;
  if (serving !== undefined) {
    const radar = (serving as { radarScan?: unknown } | null)?.radarScan;
    if (typeof serving !== "object" || serving === null || Array.isArray(serving)) out.push(`serving is ${JSON.stringify(serving)}, not an object such as {"radarScan": "latest"}`);
    else if (radar !== undefined && radar !== "latest") out.push(`serving.radarScan is ${JSON.stringify(radar)}: the only serving choice is "latest" (leave it out to serve as trained)`);
  }
  const compatible = stored.featuresVersion === FEATURES_VERSION || (COMPATIBLE_FEATURES_VERSIONS.includes(stored.featuresVersion) && stored.config.stopServed !== true);
  if (!compatible) out.push(`features version ${stored.featuresVersion} ≠ code's ${FEATURES_VERSION}`);
  let expected: InputSpec;
  try {
    expected = makeInputSpec(stored.modalities, stored.config);
  } catch (err) {
    return [...out, `config rejected: ${(err as Error).message}`];
  }
  const have = new Map(stored.inputs.map((i) => [i.name, i.shape.join("×")]));
  for (const e of expected.inputs) {
    const s = have.get(e.name);
    if (s === undefined) out.push(`input ${e.name} missing from the model's spec`);
    else if (s !== e.shape.join("×")) out.push(`input ${e.name}: model has ${s}, features make ${e.shape.join("×")}`);
    have.delete(e.name);
  }
  for (const name of have.keys()) out.push(`input ${name} in the model's spec is not produced for its modalities`);
  return out;
}
