/**
 * A vehicle's camera set at real size: front, rear, left and right cameras (any subset, in any order), each
 * published on camera/{id}. Frames up to 128×128 are rendered at full size and encoded by our jpeg-js port,
 * like the default camera; bigger ones are rendered at 1/8 of their size and composed into a full-size JPEG
 * in the DCT domain (jpeg-upscale.ts says why), so that 4 × 1280×720 at 20 Hz costs a few ms of CPU per
 * camera frame rather than ~25 ms. Raw output (rgb8) upscales the small rendering by pixel replication.
 *
 * The mounts: the front camera looks ahead (the default camera's view), the rear one looks back along the
 * road, and the side cameras are views with the optical axis shifted well off the image (a camera turned
 * toward that side, drawn by the same road renderer). Deterministic: the frames depend only on the world,
 * the spec and the episode's seed.
 */
import type { CompressedImageMessage, Encodable, RawImageMessage, Timestamp } from "../../schemas/messages.ts";
import { Rng } from "../rng.ts";
import type { World } from "../world/types.ts";
import { CameraRenderer, DEFAULT_CAMERA, toRgb, type CameraConfig } from "./camera.ts";
import { encodeCameraJob, type CameraEncodeJob } from "./camera-encode.ts";

export const CAMERA_MOUNTS = ["front", "rear", "left", "right"] as const;
export type CameraMount = (typeof CAMERA_MOUNTS)[number];

export interface CameraSetSpec {
  ids: readonly CameraMount[];
  width: number;
  height: number;
  /**
   * Frames per second (default 20). The world moves in 10 ms ticks: a frame is taken at the first tick at or
   * after each 1/hz instant and stamped with that tick (30 Hz: 40, 30, 30 ms apart), so that every frame shows
   * the world at its stamp. 1..100.
   */
  hz?: number;
}

export const DEFAULT_CAMERA_HZ = 20;

/** Parses a camera rate in Hz (1..100: at most one frame per 10 ms physics tick). */
export function parseCameraHz(text: string): number | { error: string } {
  const hz = Number(text);
  if (!(Number.isInteger(hz) && hz >= 1 && hz <= 100)) return { error: `--camera-hz is a whole number of frames per second, 1..100 (one per 10 ms physics tick at most), not "${text}"` };
  return hz;
}

/** Frames up to this size are rendered at full size; bigger ones at 1/8 and upscaled in the DCT domain. */
const SMALL_PIXELS = 128 * 128;
export const MIN_SIDE = 16;
export const MAX_SIDE = 4096;

/** Parses "1280x720" (or 1280×720); an error message says what is wrong. */
export function parseCameraSize(text: string): { width: number; height: number } | { error: string } {
  const m = /^(\d+)[x×](\d+)$/.exec(text.trim());
  const width = m ? Number(m[1]) : NaN;
  const height = m ? Number(m[2]) : NaN;
  if (!(width >= MIN_SIDE && width <= MAX_SIDE && height >= MIN_SIDE && height <= MAX_SIDE)) {
    return { error: `--camera-size is WIDTHxHEIGHT, each ${MIN_SIDE}..${MAX_SIDE} px (e.g. 1280x720), not "${text}"` };
  }
  return { width, height };
}

/** Parses "front,rear,left,right"; an error message lists the known mounts. */
export function parseCameraIds(text: string): CameraMount[] | { error: string } {
  const ids = text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const bad = ids.filter((id) => !(CAMERA_MOUNTS as readonly string[]).includes(id));
  if (ids.length === 0 || bad.length) return { error: `--cameras takes a comma-separated subset of ${CAMERA_MOUNTS.join(",")}${bad.length ? ` (unknown: ${bad.join(",")})` : ""}` };
  if (new Set(ids).size !== ids.length) return { error: `--cameras names a camera twice: ${text}` };
  return ids as CameraMount[];
}

/** The renderer's view for a mount at a rendering size (the default camera's field of view). */
export function mountConfig(id: CameraMount, width: number, height: number): CameraConfig {
  if (id === "front" && width === DEFAULT_CAMERA.width && height === DEFAULT_CAMERA.height) return DEFAULT_CAMERA;
  const base: CameraConfig = { ...DEFAULT_CAMERA, width, height, focalPx: (DEFAULT_CAMERA.focalPx * width) / DEFAULT_CAMERA.width, horizonRow: Math.round(height * 0.4) };
  if (id === "rear") return { ...base, facing: "backward" };
  if (id === "left") return { ...base, centerCol: width * 1.4 };
  if (id === "right") return { ...base, centerCol: -width * 0.4 };
  return base;
}

interface Camera {
  id: CameraMount;
  topic: string;
  frameId: string;
  renderer: CameraRenderer;
  rng: Rng;
}

export type CameraFrame =
  | { topic: string; type: "foxglove.RawImage"; message: Encodable<RawImageMessage> }
  | { topic: string; type: "foxglove.CompressedImage"; message: Encodable<CompressedImageMessage>; encode?: CameraEncodeJob };

export class CameraSet {
  private readonly cameras: Camera[];
  /** The texture table's seed of the DCT-domain upscaling (big JPEG frames); undefined: frames encoded at full size. */
  private readonly textureSeed: number | undefined;
  /** Rendering size: the frame's, or 1/8 of it (rounded up). */
  private readonly rw: number;
  private readonly rh: number;

  constructor(
    readonly spec: CameraSetSpec,
    vehicle: string,
    private readonly format: "jpeg" | "raw",
    private readonly quality: number,
    fork: (label: string) => Rng,
  ) {
    const small = spec.width * spec.height <= SMALL_PIXELS;
    this.rw = small ? spec.width : Math.ceil(spec.width / 8);
    this.rh = small ? spec.height : Math.ceil(spec.height / 8);
    this.textureSeed = small || format !== "jpeg" ? undefined : fork("texture").u32();
    this.cameras = spec.ids.map((id) => ({
      id,
      topic: format === "jpeg" ? `vehicles/${vehicle}/sensors/camera/${id}` : `vehicles/${vehicle}/sensors/camera_raw/${id}`,
      frameId: `camera_${id}`,
      renderer: new CameraRenderer(mountConfig(id, this.rw, this.rh), fork(`${id}-noise`)),
      rng: fork(id),
    }));
  }

  /**
   * Renders and encodes a few throwaway frames so that the first real ones are not slowed by the JIT
   * (~0.3 s for the first set of 4 × 1280×720, then ~10 ms): live mode calls it before its clock starts.
   * Changes no output: every render overwrites all its pixels, and these frames use their own random draws.
   */
  warmUp(w: World, sets = 6): void {
    for (const job of this.warmUpJobs(w, sets)) if (job.kind === "upscale") encodeCameraJob(job);
  }

  /**
   * The encode jobs of `sets` throwaway frames per camera (rendered with their own random draws, as `warmUp`
   * does): live mode hands them to its encoding worker before its clock starts. Changes no output.
   */
  warmUpJobs(w: World, sets = 6): CameraEncodeJob[] {
    const jobs: CameraEncodeJob[] = [];
    for (let i = 0; i < sets; i++) {
      for (const c of this.cameras) {
        const rgba = c.renderer.render(w, new Rng(i + 1));
        if (this.format === "jpeg") jobs.push(this.job(rgba.slice(), i + 1));
      }
    }
    return jobs;
  }

  /**
   * Every camera's frame of this instant, in the spec's order. With `defer`, JPEG frames come with their
   * `encode` job and an empty `data`: the caller encodes them (encodeCameraJob, on any thread) and fills it in.
   * The random draws are the same either way, so the bytes are.
   */
  sample(w: World, timestamp: Encodable<Timestamp>, defer = false): CameraFrame[] {
    const { width, height } = this.spec;
    return this.cameras.map((c) => {
      const rgba = c.renderer.render(w, c.rng);
      if (this.format === "raw") {
        const data = this.rw === width && this.rh === height ? toRgb(rgba) : replicate(rgba, this.rw, width, height);
        return { topic: c.topic, type: "foxglove.RawImage", message: { timestamp, frame_id: c.frameId, width, height, encoding: "rgb8", step: width * 3, data } };
      }
      const frameSeed = this.textureSeed === undefined ? 0 : c.rng.u32();
      // The renderer draws into one buffer per camera: a deferred job takes a copy (rw × rh × 4 bytes).
      const job = this.job(defer ? rgba.slice() : rgba, frameSeed);
      const message = { timestamp, frame_id: c.frameId, data: defer ? new Uint8Array(0) : encodeCameraJob(job), format: "jpeg" };
      return { topic: c.topic, type: "foxglove.CompressedImage", message, ...(defer ? { encode: job } : {}) };
    });
  }

  private job(rgba: Uint8Array, frameSeed: number): CameraEncodeJob {
    const { width, height } = this.spec;
    return this.textureSeed === undefined
      ? { kind: "jpeg", rgba, width, height, quality: this.quality }
      : { kind: "upscale", rgba, lw: this.rw, lh: this.rh, width, height, frameSeed, quality: this.quality, textureSeed: this.textureSeed };
  }
}

/** The rendering (rw wide, RGBA) blown up 8× by pixel replication, as rgb8 rows of width × height. */
function replicate(rgba: Uint8Array, rw: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = (y >> 3) * rw;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      const p = (src + (x >> 3)) * 4;
      out[o] = rgba[p]!;
      out[o + 1] = rgba[p + 1]!;
      out[o + 2] = rgba[p + 2]!;
    }
  }
  return out;
}
