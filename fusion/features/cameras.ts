/**
 * Several cameras → the model's camera slots (FeatureConfig.cameras): each named camera's frame of the fused
 * frame (the reference slot or FusedFrame.cameras) through the one camera feature extractor, stacked in the
 * config's order, with a mask of the slots that hold a usable frame. A camera that is missing, stale or not
 * decodable is zeros with mask 0 in its own slot only; the others are unaffected.
 */
import type { CameraMessage, FrameSlot, FusedFrame } from "../../schemas/index.ts";
import { cameraFeatures, type CameraFeatures } from "./camera.ts";
import type { FeatureConfig } from "./config.ts";

export interface CameraSlotFeatures {
  /** At least one slot holds a usable frame. */
  present: boolean;
  /** [slots × patches × patch values], slot-major in the config's order; zeros in masked slots. */
  patches: Float32Array;
  /** [slots]: 1 where the slot holds a usable frame. */
  mask: Float32Array;
  /** Age of the freshest usable slot (nearest the frame stamp), ns; undefined when none is usable. */
  ageNs: bigint | undefined;
  /** Why a camera's frame was not usable, e.g. "camera rear: image decode failed: …". */
  problems: string[];
}

/** Whether a camera topic (camera/{id}, or camera_raw/{id} for raw frames) is the camera `id`. */
export const isCameraTopic = (topic: string, id: string): boolean => topic.endsWith(`/camera/${id}`) || topic.endsWith(`/camera_raw/${id}`);

/** The frame's slot of camera `id`: the reference camera's or another camera's; undefined when missing or stale. */
export function cameraSlot(frame: FusedFrame, id: string): FrameSlot<CameraMessage> | undefined {
  const ref = frame.present.camera ? frame.slots.camera : undefined;
  if (ref && isCameraTopic(ref.topic, id)) return ref;
  for (const slot of Object.values(frame.cameras ?? {})) if (slot && isCameraTopic(slot.topic, id)) return slot;
  return undefined;
}

/**
 * The camera slots of `frame` for `ids`. `given(message)` may supply a message's features computed already
 * (the daemon's worker pool, in this config); undefined computes them here, with the same result.
 */
export function cameraSlotFeatures(
  frame: FusedFrame,
  ids: readonly string[],
  cfg: FeatureConfig,
  given: (message: CameraMessage) => CameraFeatures | undefined = () => undefined,
): CameraSlotFeatures {
  const per = cfg.camera.size * cfg.camera.size * 3;
  const patches = new Float32Array(ids.length * per);
  const mask = new Float32Array(ids.length);
  const problems: string[] = [];
  let ageNs: bigint | undefined;
  ids.forEach((id, i) => {
    const slot = cameraSlot(frame, id);
    if (!slot) return;
    const f = given(slot.message) ?? cameraFeatures(slot.message, cfg);
    if (!f.present) {
      if (f.problem) problems.push(`camera ${id}: ${f.problem}`);
      return;
    }
    patches.set(f.patches, i * per);
    mask[i] = 1;
    const age = slot.ageNs < 0n ? -slot.ageNs : slot.ageNs; // another camera's frame may be after the reference
    if (ageNs === undefined || age < ageNs) ageNs = age;
  });
  return { present: mask.some((v) => v === 1), patches, mask, ageNs, problems };
}
