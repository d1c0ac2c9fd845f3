/**
 * Which shipped model the daemon loads when none is named (issue 16): the one whose camera slots are the cameras
 * the config aligns — four cameras (front, rear, left, right) take models/multi-camera, one camera (or none named)
 * models/default. Pure: the caller lists the shipped models (bin/daemon/shipped-models.ts reads their input specs)
 * and logs the choice and its reason. A model named in the config or on the command line is never replaced.
 */

/** A shipped model as the choice sees it: its directory, its camera slots (input-spec.json config.cameras), its modalities. */
export interface ShippedModel {
  dir: string;
  cameras: readonly string[] | undefined;
  modalities: readonly string[];
}

export interface ModelChoice {
  dir: string;
  /** Why this one, in a sentence for the log. */
  why: string;
  /** Set when no shipped model fuses every configured camera: what the daemon does instead, and what to do. */
  warning?: string;
}

export const DEFAULT_MODEL_DIR = "models/default";

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/**
 * The model for the configured cameras (aligner.cameras, ids): with two or more, the shipped model whose camera
 * slots are exactly those cameras (in any order; where several are, the one reading the most modalities, then by
 * directory name); with one or none, or when no shipped model has those slots, `defaultDir`.
 */
export function chooseModel(cameras: readonly string[] | undefined, shipped: readonly ShippedModel[], defaultDir = DEFAULT_MODEL_DIR): ModelChoice {
  if (!cameras || cameras.length <= 1) {
    return { dir: defaultDir, why: cameras?.length ? `one camera (${cameras[0]}): the default single-camera model` : "no cameras named: the default single-camera model (front)" };
  }
  const fits = shipped
    .filter((m) => m.cameras && sameSet(m.cameras, cameras))
    .sort((a, b) => b.modalities.length - a.modalities.length || a.dir.localeCompare(b.dir));
  const best = fits[0];
  if (best) return { dir: best.dir, why: `its camera slots [${best.cameras!.join(", ")}] are the configured cameras [${cameras.join(", ")}]` };
  return {
    dir: defaultDir,
    why: `no shipped model has camera slots [${cameras.join(", ")}]`,
    warning:
      `no shipped model has camera slots [${cameras.join(", ")}]: ${defaultDir} fuses the reference camera (${cameras[0]}) only; ` +
      `the others are aligned but not fused. Train one on these cameras (fusiond train --cameras ${cameras.join(",")}) and name it with --model, ` +
      `or configure the cameras of a shipped one (${shipped.filter((m) => m.cameras?.length).map((m) => `${m.dir}: ${m.cameras!.join(",")}`).join("; ") || "none has camera slots"})`,
  };
}

/**
 * A model named explicitly that has no camera slots while the config aligns several cameras: it fuses the reference
 * camera only. What to say (a warning; the daemon runs), else undefined. (A model with other slots than the
 * configured cameras is an error: pipeline/model-cameras.ts withModelCameras.)
 */
export function singleCameraModelWarning(dir: string, cameras: readonly string[] | undefined, modelCameras: readonly string[] | undefined, shipped: readonly ShippedModel[]): string | undefined {
  if (modelCameras?.length || !cameras || cameras.length <= 1) return undefined;
  const fit = chooseModel(cameras, shipped);
  return (
    `${dir} has no camera slots: it fuses the reference camera (${cameras[0]}) only, and ${cameras.slice(1).join(", ")} are aligned but not fused. ` +
    (fit.warning ? `No shipped model has these cameras' slots: train one (fusiond train --cameras ${cameras.join(",")}).` : `${fit.dir} has these slots: name it with --model ${fit.dir}, or leave --model out to have it chosen.`)
  );
}
