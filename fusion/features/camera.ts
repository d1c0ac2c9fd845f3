/**
 * Camera features: decode (JPEG, PNG, raw rgb8/bgr8/rgba8/bgra8/mono8), box-filter resize to a square
 * S×S RGB image, normalise to roughly zero mean and unit range, and cut into P×P patches
 * (row-major patches, each patch row-major pixels, RGB interleaved): shape [(S/P)², P·P·3].
 * Patches are emitted here, not in the model, so the encoder is a plain matMul (trainable on wasm).
 */
import {
  cameraPixels,
  DEFAULT_CAMERA_LIMITS,
  rgbView,
  toRgbImage,
  type CameraDecodeLimits,
  type CameraImage,
  type CameraRejection,
  type PixelView,
  type RgbImage,
} from "./camera-decode.ts";
import type { FeatureConfig } from "./config.ts";

export type { RgbImage } from "./camera-decode.ts";

export type DecodeOutcome = { ok: true; image: RgbImage } | ({ ok: false } & CameraRejection);

/** Decodes a foxglove.CompressedImage (jpeg/png) or foxglove.RawImage message at full size. Never throws. */
export function decodeCameraMessage(msg: CameraImage, limits: CameraDecodeLimits = DEFAULT_CAMERA_LIMITS): DecodeOutcome {
  const r = cameraPixels(msg, 0, limits);
  return r.ok ? { ok: true, image: toRgbImage(r.pixels) } : r;
}

/**
 * Box-filter (area) resize to size×size, RGB float 0..255. Each output pixel averages its source rectangle
 * (integer sums in raster order, then one division: the same floats whatever the source layout).
 */
export function resizeArea(src: RgbImage | PixelView, size: number): Float32Array {
  const img = "step" in src ? src : rgbView(src);
  const { data, step, channels: c, r: ro, g: go, b: bo } = img;
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
        let s = y * step + x0 * c;
        for (let x = x0; x < x1; x++, s += c) {
          r += data[s + ro]!;
          g += data[s + go]!;
          b += data[s + bo]!;
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

/** Per output index: the first source index, how many, and each one's weight (overlap length). */
interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  /** Weights of output o at offset o·stride. */
  weights: Float64Array;
  stride: number;
}

/**
 * Windows [o·full/size, (o+1)·full/size) of a `full`-pixel axis over a reduced axis of n pixels, pixel i
 * standing for [i·scale, min((i+1)·scale, full)).
 */
function axisWeights(n: number, full: number, scale: number, size: number): AxisWeights {
  const stride = Math.ceil(full / size / scale) + 2;
  const start = new Int32Array(size);
  const count = new Int32Array(size);
  const weights = new Float64Array(size * stride);
  for (let o = 0; o < size; o++) {
    const a = (o * full) / size;
    const b = ((o + 1) * full) / size;
    const i0 = Math.min(n - 1, Math.floor(a / scale));
    const i1 = Math.min(n, Math.ceil(b / scale));
    start[o] = i0;
    count[o] = i1 - i0;
    for (let i = i0; i < i1; i++) weights[o * stride + i - i0] = Math.max(0, Math.min(b, (i + 1) * scale, full) - Math.max(a, i * scale));
  }
  return { start, count, weights, stride };
}

/**
 * Area resize of a frame decoded at 1/scale (camera-decode.ts) to size×size, RGB float 0..255: each output
 * pixel averages the window of the full-size frame that resizeArea would average there, reduced pixels
 * weighted by their overlap with it. So features of a reduced decode track those of a full one.
 */
export function resizeAreaReduced(img: PixelView, size: number, sourceWidth: number, sourceHeight: number, scale: number): Float32Array {
  const { data, step, channels: c, r: ro, g: go, b: bo } = img;
  const xs = axisWeights(img.width, sourceWidth, scale, size);
  const ys = axisWeights(img.height, sourceHeight, scale, size);
  const out = new Float32Array(size * size * 3);
  for (let oy = 0; oy < size; oy++) {
    const y0 = ys.start[oy]!;
    const ny = ys.count[oy]!;
    for (let ox = 0; ox < size; ox++) {
      const x0 = xs.start[ox]!;
      const nx = xs.count[ox]!;
      let r = 0;
      let g = 0;
      let b = 0;
      let total = 0;
      for (let j = 0; j < ny; j++) {
        const wy = ys.weights[oy * ys.stride + j]!;
        let rr = 0;
        let gg = 0;
        let bb = 0;
        let wsum = 0;
        let s = (y0 + j) * step + x0 * c;
        for (let i = 0; i < nx; i++, s += c) {
          const wx = xs.weights[ox * xs.stride + i]!;
          rr += wx * data[s + ro]!;
          gg += wx * data[s + go]!;
          bb += wx * data[s + bo]!;
          wsum += wx;
        }
        r += wy * rr;
        g += wy * gg;
        b += wy * bb;
        total += wy * wsum;
      }
      const d = (oy * size + ox) * 3;
      out[d] = r / total;
      out[d + 1] = g / total;
      out[d + 2] = b / total;
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

/**
 * resizeArea then toPatches in one pass, for a frame whose sides are whole multiples of `size` (the
 * simulator's 64×64 for a 32×32 input): each output pixel the same integer sums over its k×k block, the
 * same float32 mean (the Float32Array store resizeArea makes), the same normalisation, without the
 * intermediate image or resizeArea's per-pixel window arithmetic. The caller checks wholeMultiple().
 */
function patchesOfWholeMultiple(img: PixelView, size: number, patch: number, out: Float32Array): void {
  const { data, step, channels: c, r: ro, g: go, b: bo } = img;
  const kx = img.width / size;
  const ky = img.height / size;
  const n = kx * ky;
  const per = size / patch;
  let o = 0;
  if (kx === 2 && ky === 2 && c === 3 && ro === 0 && go === 1 && bo === 2) {
    // Packed RGB at twice the input (the simulator's JPEG): the same sums, in the same order, unrolled.
    for (let py = 0; py < per; py++) {
      for (let px = 0; px < per; px++) {
        for (let y = py * patch; y < (py + 1) * patch; y++) {
          let s = 2 * y * step + 6 * px * patch;
          for (let x = 0; x < patch; x++, s += 6) {
            const t = s + step;
            out[o++] = (Math.fround((data[s]! + data[s + 3]! + data[t]! + data[t + 3]!) / 4) / 255 - 0.5) / 0.25;
            out[o++] = (Math.fround((data[s + 1]! + data[s + 4]! + data[t + 1]! + data[t + 4]!) / 4) / 255 - 0.5) / 0.25;
            out[o++] = (Math.fround((data[s + 2]! + data[s + 5]! + data[t + 2]! + data[t + 5]!) / 4) / 255 - 0.5) / 0.25;
          }
        }
      }
    }
    return;
  }
  for (let py = 0; py < per; py++) {
    for (let px = 0; px < per; px++) {
      for (let y = py * patch; y < (py + 1) * patch; y++) {
        for (let x = px * patch; x < (px + 1) * patch; x++) {
          let r = 0;
          let g = 0;
          let b = 0;
          for (let sy = y * ky; sy < (y + 1) * ky; sy++) {
            let s = sy * step + x * kx * c;
            for (let i = 0; i < kx; i++, s += c) {
              r += data[s + ro]!;
              g += data[s + go]!;
              b += data[s + bo]!;
            }
          }
          out[o++] = (Math.fround(r / n) / 255 - 0.5) / 0.25;
          out[o++] = (Math.fround(g / n) / 255 - 0.5) / 0.25;
          out[o++] = (Math.fround(b / n) / 255 - 0.5) / 0.25;
        }
      }
    }
  }
}

/** Whether patchesOfWholeMultiple applies: sides whole multiples of size, size a whole number of patches. */
const wholeMultiple = (img: PixelView, size: number, patch: number): boolean =>
  size > 0 && img.width >= size && img.height >= size && img.width % size === 0 && img.height % size === 0 && size % patch === 0;

export interface CameraFeatures {
  present: boolean;
  patches: Float32Array;
  /** Why a frame in the slot was not usable (the rejection's reason). */
  problem?: string;
  rejection?: CameraRejection;
}

/**
 * Camera slot → patches; an unusable frame counts as missing (with the typed rejection), never as zeros
 * with mask 1. Large JPEGs are decoded at a reduced size (camera-decode.ts); frames up to 126 px a side
 * take the full-size path they always took. Synchronous and deterministic: replay and training call this,
 * the daemon may call it through the worker pool (camera-pool.ts) for the same result.
 */
export function cameraFeatures(msg: CameraImage | undefined, cfg: FeatureConfig, limits: CameraDecodeLimits = DEFAULT_CAMERA_LIMITS): CameraFeatures {
  const { size, patch } = cfg.camera;
  const patches = new Float32Array(size * size * 3);
  if (!msg) return { present: false, patches };
  // Transient: the decoded pixels are read here and not kept (the patches are a new array).
  const decoded = cameraPixels(msg, size, limits, true);
  if (!decoded.ok) return { present: false, patches, problem: decoded.reason, rejection: { code: decoded.code, reason: decoded.reason } };
  const { pixels, scale, sourceWidth, sourceHeight } = decoded;
  if (scale === 1 && wholeMultiple(pixels, size, patch)) {
    patchesOfWholeMultiple(pixels, size, patch, patches);
    return { present: true, patches };
  }
  const resized = scale === 1 ? resizeArea(pixels, size) : resizeAreaReduced(pixels, size, sourceWidth, sourceHeight, scale);
  toPatches(resized, size, patch, patches);
  return { present: true, patches };
}
