/**
 * The camera set from the model (issue 16): a model with camera slots (its input spec's config.cameras) names
 * the cameras it fuses, so the daemon aligns exactly those (the first the reference) and accepts their topics,
 * unless the config names its own — which must then be the same cameras (any order: the config's first is the
 * reference), or the start fails saying what to change. Cameras the config names (aligner.cameras) are accepted
 * without listing them again in `sensors`. Pure: the daemon passes the loaded model's list.
 */
import { DEFAULT_SENSOR_IDS, FusiondError, SensorAllowList, type TopicRegistry } from "../schemas/index.ts";
import type { DaemonConfig } from "./daemon-config.ts";
import type { AlignerConfig } from "./frame-aligner.ts";

const CAMERA_KINDS = ["camera", "camera_raw"];
const isCameraId = (kindId: string): boolean => CAMERA_KINDS.includes(kindId.slice(0, kindId.indexOf("/")));

/**
 * The config with the model's cameras in `aligner.cameras` and, where the config names no `sensors`, their
 * camera/{id} and camera_raw/{id} in the accepted sensors (in place of the default's front camera) — the same for
 * the cameras `aligner.cameras` names when the model has no camera slots. The config itself when neither names
 * cameras. Throws FusiondError `bad_config` when the config names other cameras than the model's.
 */
export function withModelCameras(config: DaemonConfig, modelCameras: readonly string[] | undefined, registry: TopicRegistry, modelDir = config.model.dir): DaemonConfig {
  const model = [...(modelCameras ?? [])];
  const named = config.aligner.cameras;
  if (!model.length && !named) return config;
  const where = `${modelDir}/input-spec.json config.cameras`;
  if (model.length && named && (named.length !== model.length || named.some((id) => !model.includes(id)))) {
    throw new FusiondError(
      "bad_config",
      `aligner.cameras [${named.join(", ")}] is not the model's camera set [${model.join(", ")}] (${where}): remove aligner.cameras to take the model's, or set it to [${model.join(", ")}] (any order; the first is the reference)`,
      { configCameras: named, modelCameras: model },
    );
  }
  const cameras = named ?? model;
  const given = config.sensors;
  if (given) {
    const missing = model.filter((id) => !given.includes(`camera/${id}`) && !given.includes(`camera_raw/${id}`));
    if (missing.length) {
      throw new FusiondError(
        "bad_config",
        `sensors does not accept the model's camera${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (${where}): add ${missing.map((id) => `camera/${id}`).join(", ")} to sensors, or remove sensors to take the model's cameras`,
        { missing, modelCameras: model },
      );
    }
    return named ? config : { ...config, aligner: { ...config.aligner, cameras } };
  }
  const base = SensorAllowList.idsIn(registry, config.topics) ?? DEFAULT_SENSOR_IDS;
  const sensors = [...base.filter((s) => !isCameraId(s)), ...cameras.flatMap((id) => CAMERA_KINDS.map((k) => `${k}/${id}`))];
  return { ...config, sensors, aligner: { ...config.aligner, cameras } };
}

/**
 * The camera topics whose frames the model reads: every aligned camera for a model with camera slots, else the
 * reference camera (every camera topic when none is set: each triggers its own frames). The daemon works out
 * features on arrival only for these.
 */
export function modelReadsCamera(aligner: Pick<AlignerConfig, "cameras" | "referenceTopic">, modelCameras: readonly string[] | undefined): (topic: string) => boolean {
  if (modelCameras?.length && aligner.cameras?.length) {
    const topics = new Set(aligner.cameras);
    return (topic) => topics.has(topic);
  }
  const reference = aligner.referenceTopic ?? aligner.cameras?.[0];
  return reference === undefined ? () => true : (topic) => topic === reference;
}

/** A reloaded model (SIGHUP) whose camera slots are not the cameras aligned since the start: what is wrong, else undefined. */
export function camerasNotAligned(aligned: readonly string[] | undefined, modelCameras: readonly string[] | undefined): string | undefined {
  if (!modelCameras?.length) return undefined;
  const have = aligned ?? [];
  if (have.length === modelCameras.length && modelCameras.every((id) => have.includes(id))) return undefined;
  return `the model's camera slots [${modelCameras.join(", ")}] are not the cameras aligned since the start [${have.join(", ")}]: restart the daemon to take them`;
}
