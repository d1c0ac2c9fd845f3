/**
 * A camera frame's encoding as a value: what a rendering needs to become its JPEG, and the pure function that
 * does it. The episode renders (the world and the camera's random draws are there) and, in live mode, leaves
 * the encoding to a worker thread (sim/camera-encode-pool.ts), whose output is the same bytes, since it runs
 * this function on the same inputs: the JPEG depends only on the job.
 */
import { encodeJpeg } from "./camera.ts";
import { UpscaleJpegEncoder } from "./jpeg-upscale.ts";

export type CameraEncodeJob =
  /** A W/8 × H/8 rendering composed into a W×H JPEG in the DCT domain (jpeg-upscale.ts). */
  | { kind: "upscale"; rgba: Uint8Array; lw: number; lh: number; width: number; height: number; frameSeed: number; quality: number; textureSeed: number }
  /** A full-size rendering encoded by our jpeg-js port (camera.ts encodeJpeg). */
  | { kind: "jpeg"; rgba: Uint8Array; width: number; height: number; quality: number };

/** Upscaling encoders by quality and texture seed (building one draws its texture table); a few at most. */
const upscalers = new Map<string, UpscaleJpegEncoder>();
const MAX_UPSCALERS = 4;

/** The upscaling encoder of a quality and texture seed, kept for the next frame. */
export function upscaler(quality: number, textureSeed: number): UpscaleJpegEncoder {
  const key = `${quality}/${textureSeed >>> 0}`;
  let enc = upscalers.get(key);
  if (!enc) {
    if (upscalers.size >= MAX_UPSCALERS) upscalers.delete(upscalers.keys().next().value!);
    upscalers.set(key, (enc = new UpscaleJpegEncoder({ quality, seed: textureSeed })));
  }
  return enc;
}

/** The JPEG of one job: a new array; the same job gives the same bytes on any thread. */
export function encodeCameraJob(job: CameraEncodeJob): Uint8Array {
  if (job.kind === "jpeg") return encodeJpeg(job.rgba, job.width, job.height, job.quality);
  return upscaler(job.quality, job.textureSeed).encode(job.rgba, job.lw, job.lh, job.width, job.height, job.frameSeed);
}
