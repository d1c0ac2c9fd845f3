/**
 * Camera features: decode (JPEG, PNG, raw rgb8/bgr8/rgba8/bgra8/mono8), box-filter resize to a square
 * S×S RGB image, normalise to roughly zero mean and unit range, and cut into P×P patches
 * (row-major patches, each patch row-major pixels, RGB interleaved): shape [(S/P)², P·P·3].
 * Patches are emitted here, not in the model, so the encoder is a plain matMul (trainable on wasm).
 */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { DecodedMessage } from "../../schemas/index.ts";
import type { FeatureConfig } from "./config.ts";
import { decodeJpegRgb } from "./jpeg-decode.ts";

/** Decoded image, RGB8 interleaved. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type DecodeOutcome = { ok: true; image: RgbImage } | { ok: false; reason: string };

const bytesOf = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? v : undefined);

function fromRgba(width: number, height: number, rgba: Uint8Array, bgr = false): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[i * 3] = rgba[i * 4 + (bgr ? 2 : 0)]!;
    data[i * 3 + 1] = rgba[i * 4 + 1]!;
    data[i * 3 + 2] = rgba[i * 4 + (bgr ? 0 : 2)]!;
  }
  return { width, height, data };
}

/** Decodes a foxglove.CompressedImage (jpeg/png) or foxglove.RawImage message. Never throws. */
export function decodeCameraMessage(msg: DecodedMessage): DecodeOutcome {
  const data = bytesOf(msg["data"]);
  if (!data || data.length === 0) return { ok: false, reason: "no image data" };
  try {
    if (typeof msg["encoding"] === "string") return decodeRaw(msg, data);
    const format = String(msg["format"] ?? "").toLowerCase().replace(/^image\//, "");
    if (format === "jpeg" || format === "jpg") {
      // Baseline JPEGs (every camera frame of ours) through our decoder: jpeg-js's bytes, ~4× faster
      // (jpeg-decode.ts); anything else (progressive, CMYK, damaged) through jpeg-js, which decides.
      const fast = decodeJpegRgb(data);
      if (fast) return { ok: true, image: fast };
      // Straight to RGB: the same bytes as RGBA with every fourth dropped, without the extra pass.
      const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
      return { ok: true, image: { width: img.width, height: img.height, data: img.data } };
    }
    if (format === "png") {
      const img = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return { ok: true, image: fromRgba(img.width, img.height, new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength)) };
    }
    return { ok: false, reason: `unsupported image format "${format}"` };
  } catch (err) {
    return { ok: false, reason: `image decode failed: ${(err as Error).message}` };
  }
}

function decodeRaw(msg: DecodedMessage, data: Uint8Array): DecodeOutcome {
  const width = Number(msg["width"] ?? 0);
  const height = Number(msg["height"] ?? 0);
  const encoding = String(msg["encoding"]);
  const channels: Record<string, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };
  const c = channels[encoding];
  if (c === undefined) return { ok: false, reason: `unsupported raw encoding "${encoding}"` };
  const step = Number(msg["step"] ?? 0) || width * c;
  // A row is at least its pixels (step ≥ width × channels): else a 40 KB message could claim 20000×20000
  // pixels and allocate and fill 1.2 GB (fuzzed, issue 22).
  if (width <= 0 || height <= 0 || step < width * c || data.length < step * (height - 1) + width * c) {
    return { ok: false, reason: `raw image ${width}×${height} ${encoding} step ${step} needs more than ${data.length} bytes` };
  }
  const out = new Uint8Array(width * height * 3);
  const bgr = encoding.startsWith("bgr");
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = y * step + x * c;
      const d = (y * width + x) * 3;
      if (c === 1) {
        out[d] = out[d + 1] = out[d + 2] = data[s]!;
      } else {
        out[d] = data[s + (bgr ? 2 : 0)]!;
        out[d + 1] = data[s + 1]!;
        out[d + 2] = data[s + (bgr ? 0 : 2)]!;
      }
    }
  }
  return { ok: true, image: { width, height, data: out } };
}

/** Box-filter (area) resize to size×size, RGB float 0..255. Each output pixel averages its source rectangle. */
export function resizeArea(img: RgbImage, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let oy = 0; oy < size; oy++) {
    const y0 = Math.floor((oy * img.height) / size);
    const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * img.height) / size));
    for (let ox = 0; ox < size; ox++) {
      const x0 = Math.floor((ox * img.width) / size);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * img.width) / size));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        let s = (y * img.width + x0) * 3;
        for (let x = x0; x < x1; x++, s += 3) {
          r += img.data[s]!;
          g += img.data[s + 1]!;
          b += img.data[s + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const d = (oy * size + ox) * 3;
      out[d] = r / n;
      out[d + 1] = g / n;
      out[d + 2] = b / n;
    }
  }
  return out;
}

/** Resized S×S×3 (0..255) → normalised patches [(S/P)², P·P·3]: (v/255 − 0.5) / 0.25. */
export function toPatches(pixels: Float32Array, size: number, patch: number, out = new Float32Array(size * size * 3)): Float32Array {
  const per = size / patch;
  let o = 0;
  for (let py = 0; py < per; py++) {
    for (let px = 0; px < per; px++) {
      for (let y = 0; y < patch; y++) {
        let s = ((py * patch + y) * size + px * patch) * 3;
        for (let k = 0; k < patch * 3; k++, s++) out[o++] = (pixels[s]! / 255 - 0.5) / 0.25;
      }
    }
  }
  return out;
}

export interface CameraFeatures {
  present: boolean;
  patches: Float32Array;
  problem?: string;
}

/** Camera slot → patches; an undecodable image counts as missing (with the reason), never as zeros with mask 1. */
export function cameraFeatures(msg: DecodedMessage | undefined, cfg: FeatureConfig): CameraFeatures {
  const { size, patch } = cfg.camera;
  const patches = new Float32Array(size * size * 3);
  if (!msg) return { present: false, patches };
  const decoded = decodeCameraMessage(msg);
  if (!decoded.ok) return { present: false, patches, problem: decoded.reason };
  toPatches(resizeArea(decoded.image, size), size, patch, patches);
  return { present: true, patches };
}
