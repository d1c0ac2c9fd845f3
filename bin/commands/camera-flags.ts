/**
 * `--cameras LIST --camera-size WxH` of `fusiond sim` and `fusiond demo`: the simulator's camera set.
 * Neither flag (or exactly `--cameras front --camera-size 64x64`): the single 64×64 front camera, whose
 * frames, recordings and the models trained on them stay exactly as they were.
 */
import { DEFAULT_CAMERA } from "../../sim/sensors/camera.ts";
import { DEFAULT_CAMERA_HZ, parseCameraHz, parseCameraIds, parseCameraSize, type CameraSetSpec } from "../../sim/sensors/camera-set.ts";

export const CAMERAS_HELP = "cameras to simulate, a comma-separated subset of front,rear,left,right, each on camera/{id} (default: front)";
export const CAMERA_HZ_HELP = "camera frames per second, 1..100 (default 20; frames are taken on the 10 ms physics ticks: 30 Hz is 40, 30, 30 ms apart)";
export const CAMERA_SIZE_HELP = "camera frame size WIDTHxHEIGHT, e.g. 1280x720 (default 64x64; large frames are rendered at 1/8 and upscaled with texture)";

export function cameraSetFromFlags(cameras: string | undefined, size: string | undefined, hzText?: string): { set: CameraSetSpec | undefined } | { error: string } {
  const hz = hzText === undefined ? DEFAULT_CAMERA_HZ : parseCameraHz(hzText);
  if (typeof hz !== "number") return hz;
  if (hz !== DEFAULT_CAMERA_HZ) {
    const set = cameraSetFromFlags(cameras ?? "front", size ?? `${DEFAULT_CAMERA.width}x${DEFAULT_CAMERA.height}`);
    return "error" in set ? set : { set: { ...(set.set ?? { ids: ["front"], width: DEFAULT_CAMERA.width, height: DEFAULT_CAMERA.height }), hz } };
  }
  if (cameras === undefined && size === undefined) return { set: undefined };
  const ids = parseCameraIds(cameras ?? "front");
  if ("error" in ids) return ids;
  const dims = parseCameraSize(size ?? `${DEFAULT_CAMERA.width}x${DEFAULT_CAMERA.height}`);
  if ("error" in dims) return dims;
  if (ids.length === 1 && ids[0] === "front" && dims.width === DEFAULT_CAMERA.width && dims.height === DEFAULT_CAMERA.height) return { set: undefined };
  return { set: { ids, ...dims } };
}

/**
 * `fusiond demo`: the simulator renders the daemon's camera set — the model's where it has camera slots and
 * --cameras is not given (withModelCameras put them in aligner.cameras), else --cameras (or the default camera).
 */
export function simCameraSet(cameras: string | undefined, size: string | undefined, daemonCameras: readonly string[] | undefined, hz?: string): ReturnType<typeof cameraSetFromFlags> {
  const ids = cameras ?? daemonCameras?.join(",");
  const set = cameraSetFromFlags(ids, size, hz);
  if ("error" in set && cameras === undefined && ids !== undefined) return { error: `the model's cameras (${ids}) are not all ones the simulator renders: ${set.error}` };
  return set;
}
