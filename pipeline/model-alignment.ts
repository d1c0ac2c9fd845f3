/**
 * The radar alignment a model was trained on (issue 16): a model whose feature config says radarScan "latest"
 * learned from frames holding the latest radar scan at or before the camera stamp, moved to it — so it is served
 * so too: by the daemon (unless its config names `aligner.radarScan`), by evaluation and by training's own
 * aligner. Pure: callers pass the model's value (fusion/'s FeatureConfig.radarScan).
 */
import type { DaemonConfig } from "./daemon-config.ts";
import { DEFAULT_ALIGNER_CONFIG, type AlignerConfig } from "./frame-aligner.ts";

export type ModelRadarScan = "latest" | undefined;

const withRadar = (list: readonly ("gnss" | "ego" | "radar")[]): ("gnss" | "ego" | "radar")[] => (list.includes("radar") ? [...list] : [...list, "radar"]);

/** An aligner config with the model's radar scan: "latest", extrapolated to the camera stamp. The config itself otherwise. */
export function withModelRadarScan(aligner: AlignerConfig, radarScan: ModelRadarScan): AlignerConfig {
  if (radarScan !== "latest") return aligner;
  return { ...aligner, radarScan: "latest", extrapolate: withRadar(aligner.extrapolate ?? DEFAULT_ALIGNER_CONFIG.extrapolate) };
}

/**
 * The daemon config with the model's radar scan (fusion/'s servedRadarScan: its serving choice, else what it was
 * trained on) where the config names none (`aligner.radarScan`): "latest",
 * and radar added to `extrapolate` unless the config names that list too. `conflict` says what differs when the
 * config names "nearest" for a model trained on the latest scan (the config wins; the daemon warns).
 */
export function daemonModelRadarScan(config: DaemonConfig, radarScan: ModelRadarScan, modelDir = config.model.dir, source: "trained" | "chosen to be served" = "trained"): { config: DaemonConfig; conflict?: string } {
  if (radarScan !== "latest") return { config };
  const named = config.aligner.radarScan;
  if (named === "latest") return { config };
  if (named === "nearest") {
    const conflict =
      source === "trained"
        ? `aligner.radarScan is "nearest" but the model ${modelDir} was trained on the latest scan at or before the camera (input-spec.json config.radarScan "latest"): its frames will differ from those it learned from; remove aligner.radarScan to take the model's`
        : `aligner.radarScan is "nearest": the model ${modelDir} was chosen to be served on the latest scan at or before the camera (input-spec.json serving.radarScan "latest"), and frames will now wait for the scan after the camera; remove aligner.radarScan to take the model's`;
    return { config, conflict };
  }
  const extrapolate = config.aligner.extrapolate ?? withRadar(DEFAULT_ALIGNER_CONFIG.extrapolate);
  return { config: { ...config, aligner: { ...config.aligner, radarScan: "latest", extrapolate } } };
}
