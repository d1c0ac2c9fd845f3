/**
 * A model with camera slots (input spec config.cameras) is evaluated on its cameras (issue 16): the harness aligns
 * them as the daemon does (pipeline/'s alignerConfigFrom: the first the reference, every other camera's nearest
 * frame within the tolerance, masked when missing), and in closed loop the simulator renders that set. A model
 * trained on the latest radar scan (config.radarScan), or chosen to be served on it (serving.radarScan), is aligned so.
 */
import { servedRadarScan, type InputSpec } from "../../fusion/index.ts";
import { alignerConfigFrom, type AlignerConfig } from "../../pipeline/index.ts";
import { alignerSchema } from "../../pipeline/daemon-config.ts";
import { withModelRadarScan } from "../../pipeline/model-alignment.ts";
import { FusiondError } from "../../schemas/index.ts";
import { parseCameraIds, type CameraSetSpec } from "../../sim/sensors/camera-set.ts";
import { EVAL_ALIGNER } from "./harness.ts";

/** The model's camera ids, or undefined for a single-camera model. */
export const modelCameras = (spec: InputSpec | undefined): readonly string[] | undefined => (spec?.config.cameras?.length ? spec.config.cameras : undefined);

/** The evaluation's alignment (EVAL_ALIGNER) with the model's cameras on `vehicle`'s topics where it has camera slots. */
export function evalAligner(spec: InputSpec | undefined, vehicle: string): AlignerConfig {
  const cameras = modelCameras(spec);
  // A model trained on the latest radar scan at or before the camera, or chosen to be served so, is evaluated so
  // (pipeline/model-alignment.ts).
  const radarScan = spec ? servedRadarScan(spec) : undefined;
  if (!cameras) return radarScan ? withModelRadarScan(EVAL_ALIGNER, radarScan) : EVAL_ALIGNER;
  return withModelRadarScan({ ...EVAL_ALIGNER, ...alignerConfigFrom(alignerSchema.parse({ cameras }), vehicle) }, radarScan);
}

/**
 * Closed loop: the simulator's camera set for the model — its cameras at the simulator's default 64×64 (what
 * `fusiond sim --cameras` records, and what models/multi-camera was trained on); undefined for a single-camera
 * model (the default camera). A camera the simulator does not have is an error naming the ones it has.
 */
export function simCamerasFor(spec: InputSpec | undefined): CameraSetSpec | undefined {
  const cameras = modelCameras(spec);
  if (!cameras) return undefined;
  const ids = parseCameraIds(cameras.join(","));
  if ("error" in ids) throw new FusiondError("bad_model", `the model's cameras (${cameras.join(",")}) are not all ones the simulator renders: ${ids.error}`, { cameras });
  return { ids, width: 64, height: 64 };
}

/** The vehicle of a topic vehicles/{v}/... (open loop: the recording's), or undefined. */
export function vehicleOfTopic(topic: string): string | undefined {
  const m = /^vehicles\/([^/]+)\//.exec(topic);
  return m?.[1];
}
