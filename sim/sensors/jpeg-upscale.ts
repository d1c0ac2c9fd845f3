/**
 * A real-size camera JPEG from a small rendering, composed in the DCT domain: each pixel of a W/8 × H/8
 * rendering becomes one 8×8 luma block of the W×H frame — its value the block's DC, the local gradient
 * (from its neighbours) the first horizontal and vertical AC terms, so blocks shade into each other instead
 * of showing as tiles — plus sensor texture: a 1/f-spectrum noise block, drawn from a table per block, in the
 * higher frequencies. Chroma is 4:2:0 as real cameras send it (each 16×16 macroblock's mean colour, DC
 * only). Baseline, standard Huffman tables, quantisation tables of the given quality.
 *
 * Why not render at full size and encode: rendering 1280×720 and a float DCT per block (sim/sensors/jpeg.ts,
 * jpeg-js's algorithm) take ~25 ms a frame here; 4 cameras at 20 Hz would need two cores. sharp (mozjpeg)
 * encodes asynchronously on the thread pool and its bytes are not promised to be the same across versions
 * and machines, and the simulator's recordings must be. This costs no DCT at all: a 1280×720 frame is
 * 14,400 luma blocks of a few Huffman codes each (see bench/cameras.bench.ts for the measured rate), and
 * the bytes depend only on the rendering, the quality and the seed.
 *
 * The decoder's view: a 1/8 reduced decode (fusion/features/jpeg-decode.ts) gives back the rendering's
 * luma exactly (up to quantisation), so a model sees what the small renderer drew.
 */
import { Rng } from "../rng.ts";
import {
  AC_CHR_NRCODES,
  AC_CHR_VALUES,
  AC_LUM_NRCODES,
  AC_LUM_VALUES,
  DC_CHR_NRCODES,
  DC_CHR_VALUES,
  DC_LUM_NRCODES,
  DC_LUM_VALUES,
  UV_QT,
  UVAC,
  UVDC,
  Y_QT,
  YAC,
  YDC,
  ZIGZAG,
  type Huffman,
} from "./jpeg.ts";

/** Distinct texture blocks; each block of a frame draws one. */
const TEXTURES = 512;
/** F(1,0) of an 8-pixel ramp of slope 1 per pixel (JPEG's DCT normalisation): −Σ 2(x−3.5)cos((2x+1)π/16)·√2. */
const RAMP_TO_AC1 = -18.2216;

export interface UpscaleOptions {
  quality?: number;
  /** Seed of the texture table. */
  seed?: number;
  /** Standard deviation of the texture's lowest frequencies, grey levels (default 10). */
  textureSigma?: number;
}

export class UpscaleJpegEncoder {
  private readonly yTable = new Uint8Array(64);
  private readonly uvTable = new Uint8Array(64);
  /**
   * Texture blocks, Huffman-coded ahead: block t's coefficients from zigzag position 3 on (and its EOB) as
   * 24-bit chunks, one variant per position of the last non-zero coefficient before them (0, 1 or 2), since
   * that sets the first one's run. Variant v of block t: chunks [start[i], start[i + 1]) with i = 3t + v, the
   * last chunk `lastBits[i]` long.
   */
  private readonly tailChunks: Uint32Array;
  private readonly tailStart: Int32Array;
  private readonly tailLastBits: Uint8Array;
  private luma = new Float64Array(0);
  private out = new Uint8Array(65_536);
  private o = 0;
  private acc = 0;
  private nbits = 0;
  private pick = 1;
  private header: { key: string; bytes: Uint8Array } | undefined;

  constructor(o: UpscaleOptions = {}) {
    const q = Math.min(100, Math.max(1, o.quality ?? 85));
    const sf = q < 50 ? Math.floor(5000 / q) : Math.floor(200 - q * 2);
    for (let i = 0; i < 64; i++) {
      this.yTable[ZIGZAG[i]!] = Math.min(255, Math.max(1, Math.floor((Y_QT[i]! * sf + 50) / 100)));
      this.uvTable[ZIGZAG[i]!] = Math.min(255, Math.max(1, Math.floor((UV_QT[i]! * sf + 50) / 100)));
    }
    const rng = new Rng(o.seed ?? 1);
    const sigma = o.textureSigma ?? 6;
    const chunks: number[] = [];
    this.tailStart = new Int32Array(TEXTURES * 3 + 1);
    this.tailLastBits = new Uint8Array(TEXTURES * 3);
    const block = new Int32Array(64);
    for (let t = 0; t < TEXTURES; t++) {
      block.fill(0);
      for (let i = 1; i < 64; i++) {
        const zz = ZIGZAG[i]!;
        if (zz < 3) continue; // positions 1 and 2 carry the gradient
        const c = (rng.normal() * sigma) / (1 + (i & 7) + (i >> 3));
        block[zz] = round(c / this.yTable[zz]!);
      }
      for (let last = 0; last < 3; last++) {
        const i = t * 3 + last;
        this.tailStart[i] = chunks.length;
        this.tailLastBits[i] = tailBits(block, last, chunks);
      }
    }
    this.tailStart[TEXTURES * 3] = chunks.length;
    this.tailChunks = Uint32Array.from(chunks);
  }

  /**
   * Encodes the `lw`×`lh` RGBA rendering as a `width`×`height` JPEG (width ≤ 8·lw, height ≤ 8·lh). `frameSeed`
   * picks the texture blocks of this frame (same seed, same bytes). Returns a new array.
   */
  encode(rgba: Uint8Array, lw: number, lh: number, width: number, height: number, frameSeed: number): Uint8Array {
    if (width > lw * 8 || height > lh * 8 || width < 1 || height < 1) throw new Error(`a ${lw}×${lh} rendering cannot make a ${width}×${height} frame`);
    this.o = 0;
    this.acc = 0;
    this.nbits = 0;
    this.pick = (frameSeed >>> 0) || 1;
    this.headers(width, height);
    const luma = this.lumaOf(rgba, lw, lh);
    const mcuW = Math.ceil(width / 16);
    const mcuH = Math.ceil(height / 16);
    const bw = Math.ceil(width / 8);
    const bh = Math.ceil(height / 8);
    let dcY = 0;
    let dcU = 0;
    let dcV = 0;
    for (let my = 0; my < mcuH; my++) {
      for (let mx = 0; mx < mcuW; mx++) {
        this.reserve(2048);
        for (let k = 0; k < 4; k++) {
          // Blocks past the frame's last block (odd block counts) repeat the edge, as encoders pad.
          const bx = Math.min(mx * 2 + (k & 1), bw - 1);
          const by = Math.min(my * 2 + (k >> 1), bh - 1);
          dcY = this.lumaBlock(luma, lw, lh, Math.min(bx, lw - 1), Math.min(by, lh - 1), dcY);
        }
        let cb = 0;
        let cr = 0;
        for (let k = 0; k < 4; k++) {
          const x = Math.min(mx * 2 + (k & 1), lw - 1);
          const y = Math.min(my * 2 + (k >> 1), lh - 1);
          const p = (y * lw + x) * 4;
          const r = rgba[p]!;
          const g = rgba[p + 1]!;
          const b = rgba[p + 2]!;
          cb += -0.168736 * r - 0.331264 * g + 0.5 * b;
          cr += 0.5 * r - 0.418688 * g - 0.081312 * b;
        }
        dcU = this.dcOnly((cb / 4) * 8, this.uvTable[0]!, dcU, UVDC, UVAC);
        dcV = this.dcOnly((cr / 4) * 8, this.uvTable[0]!, dcV, UVDC, UVAC);
      }
    }
    // Pad the last byte with ones (as every encoder does), then EOI.
    if (this.nbits > 0) this.bits((1 << (8 - this.nbits)) - 1, 8 - this.nbits);
    this.reserve(2);
    this.out[this.o++] = 0xff;
    this.out[this.o++] = 0xd9;
    return this.out.slice(0, this.o);
  }

  /** Luma of the rendering, Y − 128, row-major (kept between frames). */
  private lumaOf(rgba: Uint8Array, lw: number, lh: number): Float64Array {
    if (this.luma.length !== lw * lh) this.luma = new Float64Array(lw * lh);
    const luma = this.luma;
    for (let i = 0, p = 0; i < lw * lh; i++, p += 4) luma[i] = 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]! - 128;
    return luma;
  }

  /** One luma block: DC and the two gradient terms coded here, the texture's pre-coded tail appended. */
  private lumaBlock(luma: Float64Array, lw: number, lh: number, x: number, y: number, dc: number): number {
    const q = this.yTable;
    const at = y * lw + x;
    const value = round((luma[at]! * 8) / q[0]!);
    // Slopes per full-size pixel from the neighbours (one rendering pixel = 8 pixels).
    const gx = (luma[x + 1 < lw ? at + 1 : at]! - luma[x > 0 ? at - 1 : at]!) / 16;
    const gy = (luma[y + 1 < lh ? at + lw : at]! - luma[y > 0 ? at - lw : at]!) / 16;
    const a1 = round((RAMP_TO_AC1 * gx) / q[1]!);
    const a2 = round((RAMP_TO_AC1 * gy) / q[2]!);
    this.dcDiff(value - dc, YDC);
    let last = 0;
    if (a1 !== 0) {
      this.coefficient(a1, YAC, 0);
      last = 1;
    }
    if (a2 !== 0) {
      this.coefficient(a2, YAC, 1 - last);
      last = 2;
    }
    const i = this.nextTexture() * 3 + last;
    const end = this.tailStart[i + 1]! - 1;
    const chunks = this.tailChunks;
    for (let c = this.tailStart[i]!; c < end; c++) this.bits(chunks[c]!, 24);
    this.bits(chunks[end]!, this.tailLastBits[i]!);
    return value;
  }

  private dcOnly(value: number, q: number, dc: number, hdc: Huffman, hac: Huffman): number {
    const v = round(value / q);
    this.dcDiff(v - dc, hdc);
    this.bits(hac.code[0]!, hac.len[0]!);
    return v;
  }

  private dcDiff(diff: number, hdc: Huffman): void {
    if (diff === 0) this.bits(hdc.code[0]!, hdc.len[0]!);
    else this.coefficient(diff, hdc, 0);
  }

  private coefficient(v: number, h: Huffman, run: number): void {
    const a = v < 0 ? -v : v;
    const cat = 32 - Math.clz32(a);
    const sym = (run << 4) + cat;
    const len = h.len[sym]!;
    const bits = v < 0 ? v + (1 << cat) - 1 : v;
    // One append for the code and its magnitude when they fit (nearly always): half the calls.
    if (len + cat <= 24) this.bits((h.code[sym]! << cat) | bits, len + cat);
    else {
      this.bits(h.code[sym]!, len);
      this.bits(bits, cat);
    }
  }

  /** xorshift32 over the frame seed: which texture block comes next. */
  private nextTexture(): number {
    let x = this.pick;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.pick = x >>> 0;
    return this.pick % TEXTURES;
  }

  /** Appends `len` (≤ 24) bits MSB first, stuffing a zero after each 0xFF. */
  private bits(value: number, len: number): void {
    this.acc = (this.acc << len) | value;
    this.nbits += len;
    while (this.nbits >= 8) {
      this.nbits -= 8;
      const byte = (this.acc >>> this.nbits) & 0xff;
      this.out[this.o++] = byte;
      if (byte === 0xff) this.out[this.o++] = 0;
    }
    this.acc &= (1 << this.nbits) - 1;
  }

  private reserve(n: number): void {
    if (this.o + n <= this.out.length) return;
    const bigger = new Uint8Array(Math.max(this.out.length * 2, this.o + n));
    bigger.set(this.out.subarray(0, this.o));
    this.out = bigger;
  }

  /** SOI, JFIF APP0, DQT, SOF0 (Y 2×2, Cb and Cr 1×1: 4:2:0), DHT, SOS. */
  private headers(width: number, height: number): void {
    const key = `${width}x${height}`;
    if (this.header?.key !== key) {
      const b: number[] = [0xff, 0xd8];
      b.push(0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0);
      b.push(0xff, 0xdb, 0, 132, 0, ...this.yTable, 1, ...this.uvTable);
      b.push(0xff, 0xc0, 0, 17, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1);
      b.push(0xff, 0xc4, 0x01, 0xa2);
      b.push(0, ...DC_LUM_NRCODES.slice(1), ...DC_LUM_VALUES);
      b.push(0x10, ...AC_LUM_NRCODES.slice(1), ...AC_LUM_VALUES);
      b.push(1, ...DC_CHR_NRCODES.slice(1), ...DC_CHR_VALUES);
      b.push(0x11, ...AC_CHR_NRCODES.slice(1), ...AC_CHR_VALUES);
      b.push(0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0);
      this.header = { key, bytes: Uint8Array.from(b) };
    }
    this.reserve(this.header.bytes.length);
    this.out.set(this.header.bytes, 0);
    this.o = this.header.bytes.length;
  }
}

/**
 * Huffman-codes a block's AC coefficients from zigzag position 3 on, after a last non-zero at `last`, with
 * the EOB where one is due, into 24-bit chunks (appended to `out`); returns the last chunk's bit count (1..24).
 */
function tailBits(block: Int32Array, last: number, out: number[]): number {
  let acc = 0;
  let n = 0;
  const put = (value: number, len: number): void => {
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | ((value >>> b) & 1);
      if (++n === 24) {
        out.push(acc);
        acc = 0;
        n = 0;
      }
    }
  };
  let end = 63;
  while (end > 2 && block[end] === 0) end--;
  let prev = last;
  for (let i = 3; i <= end; i++) {
    const v = block[i]!;
    if (v === 0) continue;
    let run = i - prev - 1;
    for (; run >= 16; run -= 16) put(YAC.code[0xf0]!, YAC.len[0xf0]!);
    const a = v < 0 ? -v : v;
    const cat = 32 - Math.clz32(a);
    put(YAC.code[(run << 4) + cat]!, YAC.len[(run << 4) + cat]!);
    put(v < 0 ? v + (1 << cat) - 1 : v, cat);
    prev = i;
  }
  if (prev !== 63) put(YAC.code[0]!, YAC.len[0]!);
  if (n === 0) return 24; // ended on a chunk boundary: the last chunk is whole
  out.push(acc);
  return n;
}

function round(v: number): number {
  return v > 0 ? Math.floor(v + 0.5) : -Math.floor(-v + 0.5);
}
