/**
 * Camera frame → pixels at the size the model needs, or a typed rejection. Never throws.
 *
 * - JPEG: the frame header is read first (image-header.ts); a frame over the pixel budget is rejected before
 *   any decoding. Baseline/extended JPEGs go through our decoder (jpeg-decode.ts), and a large one is decoded
 *   in the DCT domain at the largest power-of-two reduction (1/2, 1/4, 1/8) that still leaves at least twice
 *   the model input on each side (`shrinkFactor`): a 1920×1080 frame for a 32×32 input is decoded as
 *   240×135 and never reconstructed at full size. Twice, not once: the box filter that follows then averages
 *   at least 2×2 decoded pixels per model pixel, and frames up to 126 px a side (the simulator's 64×64) are
 *   decoded at full size exactly as before, so their features are unchanged to the bit.
 * - The slow decoders — jpeg-js for what ours does not take (progressive, arithmetic, damaged frames it
 *   patches up) and pngjs — are given only frames up to `slowMaxPixels`; bigger ones are rejected with the
 *   reason, which says what to send instead.
 * - A reduced frame is resized by exact area (fractional edge weights) over the windows of the full-size
 *   frame, so its features are those of the full frame to within the DCT-domain reduction's rounding.
 * - Raw images (rgb8, bgr8, rgba8, bgra8, mono8) are not converted: the resize reads them in place through
 *   a `PixelView`. Their data must be exactly `step × height` bytes.
 *
 * Determinism: every path is integer or IEEE-double arithmetic in JavaScript (no native code, no threads),
 * so the same bytes give the same pixels on every machine, live and in replay.
 */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { CompressedImageMessage, Encodable, RawImageMessage } from "../../schemas/index.ts";
import { readJpegHeader, readPngHeader } from "./image-header.ts";
import { decodeJpegRgb, decodeJpegRgbScaled, decodeJpegRgbTransient, type ScaleDenominator } from "./jpeg-decode.ts";

/** Decoded image, RGB8 interleaved. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Pixels as they lie in memory: sample (x, y) channel c at `data[y * step + x * channels + offset[c]]`.
 * An RgbImage is the view { step: width·3, channels: 3, offsets 0, 1, 2 }; mono8 has offsets 0, 0, 0.
 */
export interface PixelView {
  width: number;
  height: number;
  data: Uint8Array;
  step: number;
  channels: number;
  r: number;
  g: number;
  b: number;
}

/** Why a camera frame was not used; metrics count by code. */
export type CameraRejectCode =
  | "no_data"
  | "unsupported_format"
  | "unsupported_encoding"
  | "bad_raw_size"
  | "too_large"
  | "unsupported_jpeg"
  | "truncated"
  | "corrupt";

export const CAMERA_REJECT_CODES: readonly CameraRejectCode[] = [
  "no_data",
  "unsupported_format",
  "unsupported_encoding",
  "bad_raw_size",
  "too_large",
  "unsupported_jpeg",
  "truncated",
  "corrupt",
];

export interface CameraRejection {
  code: CameraRejectCode;
  reason: string;
}

export interface CameraDecodeLimits {
  /** Largest frame accepted, width × height from its header, checked before any decoding. */
  maxPixels: number;
  /** Largest frame given to the slow decoders (jpeg-js, pngjs), pixels. */
  slowMaxPixels: number;
  /**
   * Largest JPEG decoded at full size (no reduction possible: a side too short for the model input, e.g.
   * 100×16000), pixels. Bounds the coefficient store (12 bytes a pixel for colour) of such a decode.
   */
  fullMaxPixels: number;
}

/**
 * 16 Mpx: a 4096×4096 sensor (vehicle cameras are 1–8 Mpx); at 1/8 its decode holds 0.25 Mpx of planes.
 * 320×240 for the slow decoders: jpeg-js takes ~8 ms there (~35 ms at 640×480, ~130 ms at 1080p).
 * 4 Mpx at full size: ~48 MiB of coefficients at most.
 */
export const DEFAULT_CAMERA_LIMITS: CameraDecodeLimits = { maxPixels: 16 * 1024 * 1024, slowMaxPixels: 320 * 240, fullMaxPixels: 4 * 1024 * 1024 };

/**
 * Pixels, and the reduction they were decoded at: with `scale` > 1, pixel (x, y) stands for the square
 * [x·scale, (x+1)·scale) × [y·scale, (y+1)·scale) of the `sourceWidth`×`sourceHeight` frame (clipped at its edges).
 */
export type PixelsOutcome =
  | { ok: true; pixels: PixelView; scale: ScaleDenominator; sourceWidth: number; sourceHeight: number }
  | ({ ok: false } & CameraRejection);

/**
 * The DCT-domain reduction for a width×height frame and a size×size model input: the largest of 8, 4, 2
 * that leaves ceil(side / s) ≥ 2·size on both sides, else 1 (full size).
 */
export function shrinkFactor(width: number, height: number, size: number): ScaleDenominator {
  for (const s of [8, 4, 2] as const) if (Math.ceil(width / s) >= 2 * size && Math.ceil(height / s) >= 2 * size) return s;
  return 1;
}

export function rgbView(img: RgbImage): PixelView {
  return { width: img.width, height: img.height, data: img.data, step: img.width * 3, channels: 3, r: 0, g: 1, b: 2 };
}

const reject = (code: CameraRejectCode, reason: string): PixelsOutcome => ({ ok: false, code, reason });
const rgbOk = (img: RgbImage, scale: ScaleDenominator = 1, sourceWidth = img.width, sourceHeight = img.height): PixelsOutcome => ({
  ok: true,
  pixels: rgbView(img),
  scale,
  sourceWidth,
  sourceHeight,
});
const bytesOf = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? v : undefined);

/**
 * A foxglove.CompressedImage (jpeg/png) or foxglove.RawImage as pixels for a `size`×`size` model input
 * (size 0: always full size). Never throws.
 */
/**
 * A camera message as the features read it: a foxglove.CompressedImage or foxglove.RawImage, any field possibly
 * absent (read as its proto3 default).
 */
export type CameraImage = Encodable<CompressedImageMessage> | Encodable<RawImageMessage>;

/**
 * `transient`: our JPEG decoder's pixels may lie in its own buffer, valid until the next decode on this thread
 * (for a caller that reads them at once and keeps nothing of them).
 */
export function cameraPixels(msg: CameraImage, size: number, limits: CameraDecodeLimits = DEFAULT_CAMERA_LIMITS, transient = false): PixelsOutcome {
  const data = bytesOf(msg.data);
  if (!data || data.length === 0) return reject("no_data", "no image data");
  try {
    if ("encoding" in msg && typeof msg.encoding === "string") return rawPixels(msg, data, limits);
    const format = String(("format" in msg ? msg.format : undefined) ?? "").toLowerCase().replace(/^image\//, "");
    if (format === "jpeg" || format === "jpg") return jpegPixels(data, size, limits, transient);
    if (format === "png") return pngPixels(data, limits);
    return reject("unsupported_format", `unsupported image format "${format}" (send jpeg, png or a RawImage)`);
  } catch (err) {
    // The slow decoders throw on damaged input; nothing of ours is expected to.
    return reject("corrupt", `image decode failed: ${(err as Error).message}`);
  }
}

function jpegPixels(data: Uint8Array, size: number, limits: CameraDecodeLimits, transient: boolean): PixelsOutcome {
  const head = readJpegHeader(data);
  if (!head.ok) return reject(head.reason.startsWith("truncated") ? "truncated" : "corrupt", `JPEG: ${head.reason}`);
  const h = head.header;
  const pixels = h.width * h.height;
  if (pixels > limits.maxPixels) {
    return reject("too_large", `JPEG ${h.width}×${h.height} (${mpx(pixels)}) is over the ${mpx(limits.maxPixels)} budget of a camera frame`);
  }
  const ours = (h.process === "baseline" || h.process === "extended") && h.precision === 8 && (h.components === 1 || h.components === 3);
  if (ours) {
    const scale = size > 0 ? shrinkFactor(h.width, h.height, size) : 1;
    if (scale === 1 && pixels > limits.fullMaxPixels) {
      return reject("too_large", `JPEG ${h.width}×${h.height} cannot be reduced for a ${size}×${size} input and is over the ${mpx(limits.fullMaxPixels)} of a full-size decode`);
    }
    const img = transient ? decodeJpegRgbTransient(data, scale) : scale === 1 ? decodeJpegRgb(data) : decodeJpegRgbScaled(data, scale);
    if (img) return rgbOk(img, scale, h.width, h.height);
  }
  if (pixels <= limits.slowMaxPixels) {
    // What ours leaves to jpeg-js (see jpeg-decode.ts), small enough for it: it decides, as before.
    try {
      const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
      return rgbOk({ width: img.width, height: img.height, data: img.data });
    } catch (err) {
      return reject(h.endsWithEoi ? "corrupt" : "truncated", `image decode failed: ${(err as Error).message}`);
    }
  }
  if (!ours) {
    const what = `${h.process} JPEG (${h.precision}-bit, ${h.components} components)`;
    return reject("unsupported_jpeg", `${what} ${h.width}×${h.height} is over the ${limits.slowMaxPixels}-pixel limit of the slow decoder; have the camera send baseline JPEG`);
  }
  return h.endsWithEoi
    ? reject("corrupt", `JPEG ${h.width}×${h.height}: damaged entropy-coded data or markers`)
    : reject("truncated", `JPEG ${h.width}×${h.height}: data ends before the frame does (no EOI marker)`);
}

function pngPixels(data: Uint8Array, limits: CameraDecodeLimits): PixelsOutcome {
  const head = readPngHeader(data);
  if (!head.ok) return reject("corrupt", `PNG: ${head.reason}`);
  const { width, height } = head.header;
  const pixels = width * height;
  if (pixels > limits.maxPixels) return reject("too_large", `PNG ${width}×${height} (${mpx(pixels)}) is over the ${mpx(limits.maxPixels)} budget of a camera frame`);
  if (pixels > limits.slowMaxPixels) {
    return reject("too_large", `PNG ${width}×${height} is over the ${limits.slowMaxPixels}-pixel limit of the PNG decoder; send JPEG or a RawImage`);
  }
  const img = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const rgba = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const view = { width: img.width, height: img.height, data: rgba, step: img.width * 4, channels: 4, r: 0, g: 1, b: 2 };
  return { ok: true, scale: 1, pixels: view, sourceWidth: img.width, sourceHeight: img.height };
}

const RAW_LAYOUT: Record<string, { channels: number; r: number; g: number; b: number }> = {
  rgb8: { channels: 3, r: 0, g: 1, b: 2 },
  bgr8: { channels: 3, r: 2, g: 1, b: 0 },
  rgba8: { channels: 4, r: 0, g: 1, b: 2 },
  bgra8: { channels: 4, r: 2, g: 1, b: 0 },
  mono8: { channels: 1, r: 0, g: 0, b: 0 },
};

function rawPixels(msg: Encodable<RawImageMessage>, data: Uint8Array, limits: CameraDecodeLimits): PixelsOutcome {
  const width = Number(msg.width ?? 0);
  const height = Number(msg.height ?? 0);
  const encoding = String(msg.encoding);
  const layout = RAW_LAYOUT[encoding];
  if (!layout) return reject("unsupported_encoding", `unsupported raw encoding "${encoding}" (rgb8, bgr8, rgba8, bgra8 or mono8)`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return reject("bad_raw_size", `raw image is ${width}×${height}`);
  if (width * height > limits.maxPixels) {
    return reject("too_large", `raw image ${width}×${height} (${mpx(width * height)}) is over the ${mpx(limits.maxPixels)} budget of a camera frame`);
  }
  const step = Number(msg.step ?? 0) || width * layout.channels;
  if (step < width * layout.channels || data.length !== step * height) {
    return reject("bad_raw_size", `raw image ${width}×${height} ${encoding} step ${step} needs ${step * height} bytes, has ${data.length}`);
  }
  return { ok: true, scale: 1, pixels: { width, height, data, step, ...layout }, sourceWidth: width, sourceHeight: height };
}

const mpx = (n: number): string => `${(n / 1e6).toFixed(1)} Mpx`;

/** Pixels → RGB8 (a copy); for callers that want an image rather than features. */
export function toRgbImage(v: PixelView): RgbImage {
  if (v.channels === 3 && v.r === 0 && v.g === 1 && v.b === 2 && v.step === v.width * 3 && v.data.length === v.width * v.height * 3) {
    return { width: v.width, height: v.height, data: v.data };
  }
  const out = new Uint8Array(v.width * v.height * 3);
  for (let y = 0; y < v.height; y++) {
    for (let x = 0; x < v.width; x++) {
      const s = y * v.step + x * v.channels;
      const d = (y * v.width + x) * 3;
      out[d] = v.data[s + v.r]!;
      out[d + 1] = v.data[s + v.g]!;
      out[d + 2] = v.data[s + v.b]!;
    }
  }
  return { width: v.width, height: v.height, data: out };
}
