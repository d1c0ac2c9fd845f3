/**
 * A baseline JPEG encoder for the camera model: byte for byte the output of jpeg-js's encoder (its
 * algorithm — the Adobe AS3 encoder: 4:4:4, float AAN DCT, the standard Huffman tables, its quirks such as
 * the final fill byte — with the same float operations in the same order), at several times its speed.
 *
 * Why our own: the simulator encodes a 64×64 frame 20 times per simulated second, and jpeg-js spent most of
 * that in per-bit output into a JS array, per-coefficient [code, length] array lookups and a Buffer copy
 * (about a quarter of dataset mode's time). This version works in typed arrays with a 32-bit bit
 * accumulator and a reused output buffer. jpeg-js remains the reference: a test compares the bytes.
 */

export const ZIGZAG = Int32Array.from([
  0, 1, 5, 6, 14, 15, 27, 28, 2, 4, 7, 13, 16, 26, 29, 42, 3, 8, 12, 17, 25, 30, 41, 43, 9, 11, 18, 24, 31, 40, 44, 53, 10, 19, 23, 32, 39, 45, 52, 54, 20, 22, 33, 38,
  46, 51, 55, 60, 21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63,
]);
export const DC_LUM_NRCODES = [0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
export const DC_LUM_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
export const AC_LUM_NRCODES = [0, 0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
// prettier-ignore
export const AC_LUM_VALUES = [
  0x01,0x02,0x03,0x00,0x04,0x11,0x05,0x12,0x21,0x31,0x41,0x06,0x13,0x51,0x61,0x07,0x22,0x71,0x14,0x32,0x81,0x91,0xa1,0x08,
  0x23,0x42,0xb1,0xc1,0x15,0x52,0xd1,0xf0,0x24,0x33,0x62,0x72,0x82,0x09,0x0a,0x16,0x17,0x18,0x19,0x1a,0x25,0x26,0x27,0x28,
  0x29,0x2a,0x34,0x35,0x36,0x37,0x38,0x39,0x3a,0x43,0x44,0x45,0x46,0x47,0x48,0x49,0x4a,0x53,0x54,0x55,0x56,0x57,0x58,0x59,
  0x5a,0x63,0x64,0x65,0x66,0x67,0x68,0x69,0x6a,0x73,0x74,0x75,0x76,0x77,0x78,0x79,0x7a,0x83,0x84,0x85,0x86,0x87,0x88,0x89,
  0x8a,0x92,0x93,0x94,0x95,0x96,0x97,0x98,0x99,0x9a,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,0xa9,0xaa,0xb2,0xb3,0xb4,0xb5,0xb6,
  0xb7,0xb8,0xb9,0xba,0xc2,0xc3,0xc4,0xc5,0xc6,0xc7,0xc8,0xc9,0xca,0xd2,0xd3,0xd4,0xd5,0xd6,0xd7,0xd8,0xd9,0xda,0xe1,0xe2,
  0xe3,0xe4,0xe5,0xe6,0xe7,0xe8,0xe9,0xea,0xf1,0xf2,0xf3,0xf4,0xf5,0xf6,0xf7,0xf8,0xf9,0xfa,
];
export const DC_CHR_NRCODES = [0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
export const DC_CHR_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
export const AC_CHR_NRCODES = [0, 0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
// prettier-ignore
export const AC_CHR_VALUES = [
  0x00,0x01,0x02,0x03,0x11,0x04,0x05,0x21,0x31,0x06,0x12,0x41,0x51,0x07,0x61,0x71,0x13,0x22,0x32,0x81,0x08,0x14,0x42,0x91,
  0xa1,0xb1,0xc1,0x09,0x23,0x33,0x52,0xf0,0x15,0x62,0x72,0xd1,0x0a,0x16,0x24,0x34,0xe1,0x25,0xf1,0x17,0x18,0x19,0x1a,0x26,
  0x27,0x28,0x29,0x2a,0x35,0x36,0x37,0x38,0x39,0x3a,0x43,0x44,0x45,0x46,0x47,0x48,0x49,0x4a,0x53,0x54,0x55,0x56,0x57,0x58,
  0x59,0x5a,0x63,0x64,0x65,0x66,0x67,0x68,0x69,0x6a,0x73,0x74,0x75,0x76,0x77,0x78,0x79,0x7a,0x82,0x83,0x84,0x85,0x86,0x87,
  0x88,0x89,0x8a,0x92,0x93,0x94,0x95,0x96,0x97,0x98,0x99,0x9a,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,0xa9,0xaa,0xb2,0xb3,0xb4,
  0xb5,0xb6,0xb7,0xb8,0xb9,0xba,0xc2,0xc3,0xc4,0xc5,0xc6,0xc7,0xc8,0xc9,0xca,0xd2,0xd3,0xd4,0xd5,0xd6,0xd7,0xd8,0xd9,0xda,
  0xe2,0xe3,0xe4,0xe5,0xe6,0xe7,0xe8,0xe9,0xea,0xf2,0xf3,0xf4,0xf5,0xf6,0xf7,0xf8,0xf9,0xfa,
];
// prettier-ignore
export const Y_QT = [16,11,10,16,24,40,51,61,12,12,14,19,26,58,60,55,14,13,16,24,40,57,69,56,14,17,22,29,51,87,80,62,
  18,22,37,56,68,109,103,77,24,35,55,64,81,104,113,92,49,64,78,87,103,121,120,101,72,92,95,98,112,100,103,99];
// prettier-ignore
export const UV_QT = [17,18,24,47,99,99,99,99,18,21,26,66,99,99,99,99,24,26,56,99,99,99,99,99,47,66,99,99,99,99,99,99,
  99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99,99];
const AASF = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

/** Huffman table: code and length per symbol. */
export interface Huffman {
  code: Uint16Array;
  len: Uint8Array;
}

function huffman(nrcodes: number[], values: number[]): Huffman {
  const code = new Uint16Array(256);
  const len = new Uint8Array(256);
  let value = 0;
  let pos = 0;
  for (let k = 1; k <= 16; k++) {
    for (let j = 1; j <= nrcodes[k]!; j++) {
      code[values[pos]!] = value;
      len[values[pos]!] = k;
      pos++;
      value++;
    }
    value *= 2;
  }
  return { code, len };
}

export const YDC = huffman(DC_LUM_NRCODES, DC_LUM_VALUES);
export const UVDC = huffman(DC_CHR_NRCODES, DC_CHR_VALUES);
export const YAC = huffman(AC_LUM_NRCODES, AC_LUM_VALUES);
export const UVAC = huffman(AC_CHR_NRCODES, AC_CHR_VALUES);

export class JpegEncoder {
  private readonly yTable = new Uint8Array(64);
  private readonly uvTable = new Uint8Array(64);
  private readonly fdtblY = new Float64Array(64);
  private readonly fdtblUV = new Float64Array(64);
  private readonly ydu = new Float64Array(64);
  private readonly udu = new Float64Array(64);
  private readonly vdu = new Float64Array(64);
  private readonly du = new Int32Array(64);
  private out = new Uint8Array(16_384);
  private header: { width: number; height: number; bytes: Uint8Array } | undefined;
  private o = 0;
  private acc = 0;
  private nbits = 0;

  constructor(readonly quality = 50) {
    let q = quality;
    if (q <= 0) q = 1;
    if (q > 100) q = 100;
    const sf = q < 50 ? Math.floor(5000 / q) : Math.floor(200 - q * 2);
    for (let i = 0; i < 64; i++) {
      this.yTable[ZIGZAG[i]!] = Math.min(255, Math.max(1, Math.floor((Y_QT[i]! * sf + 50) / 100)));
      this.uvTable[ZIGZAG[i]!] = Math.min(255, Math.max(1, Math.floor((UV_QT[i]! * sf + 50) / 100)));
    }
    let k = 0;
    for (let row = 0; row < 8; row++) {
      for (let col = 0; col < 8; col++) {
        this.fdtblY[k] = 1.0 / (this.yTable[ZIGZAG[k]!]! * AASF[row]! * AASF[col]! * 8.0);
        this.fdtblUV[k] = 1.0 / (this.uvTable[ZIGZAG[k]!]! * AASF[row]! * AASF[col]! * 8.0);
        k++;
      }
    }
  }

  /** Encodes RGBA pixels (alpha ignored); returns a new array holding the JPEG file. */
  encode(rgba: Uint8Array, width: number, height: number): Uint8Array {
    this.o = 0;
    this.acc = 0;
    this.nbits = 0;
    this.headers(width, height);
    let dcy = 0;
    let dcu = 0;
    let dcv = 0;
    const { ydu, udu, vdu } = this;
    for (let y = 0; y < height; y += 8) {
      for (let x = 0; x < width; x += 8) {
        const inside = x + 8 <= width && y + 8 <= height;
        let flatY = true;
        let flatU = true;
        let flatV = true;
        for (let pos = 0; pos < 64; pos++) {
          let p: number;
          if (inside) p = ((y + (pos >> 3)) * width + x + (pos & 7)) * 4;
          else {
            // Edge blocks repeat the last row / column.
            const row = Math.min(y + (pos >> 3), height - 1);
            const col = Math.min(x + (pos & 7), width - 1);
            p = (row * width + col) * 4;
          }
          const r = rgba[p]!;
          const g = rgba[p + 1]!;
          const b = rgba[p + 2]!;
          // jpeg-js's fixed-point RGB → YCbCr (its lookup table, multiplied out: the same integers).
          ydu[pos] = ((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16) - 128;
          udu[pos] = ((-11059 * r - 21709 * g + 32768 * b + 0x807fff) >> 16) - 128;
          vdu[pos] = ((32768 * r + 0x807fff - 27439 * g - 5329 * b) >> 16) - 128;
          if (pos > 0) {
            flatY &&= ydu[pos] === ydu[0];
            flatU &&= udu[pos] === udu[0];
            flatV &&= vdu[pos] === vdu[0];
          }
        }
        this.reserve(1600);
        dcy = this.block(ydu, flatY, this.fdtblY, dcy, YDC, YAC);
        dcu = this.block(udu, flatU, this.fdtblUV, dcu, UVDC, UVAC);
        dcv = this.block(vdu, flatV, this.fdtblUV, dcv, UVDC, UVAC);
      }
    }
    // jpeg-js always fills the last byte with ones, a whole 0xFF (stuffed) when already aligned.
    const fill = 8 - this.nbits;
    this.bits((1 << fill) - 1, fill);
    this.reserve(2);
    this.out[this.o++] = 0xff;
    this.out[this.o++] = 0xd9;
    return this.out.slice(0, this.o);
  }

  private reserve(n: number): void {
    if (this.o + n <= this.out.length) return;
    const bigger = new Uint8Array(Math.max(this.out.length * 2, this.o + n));
    bigger.set(this.out.subarray(0, this.o));
    this.out = bigger;
  }

  /** Appends `len` bits (MSB first), stuffing a zero after every 0xFF byte. len ≤ 16. */
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

  /** Appends a coefficient's magnitude bits after its category: jpeg-js's bitcode table, computed. */
  private coefficient(v: number, h: Huffman, run: number): void {
    const a = v < 0 ? -v : v;
    const cat = 32 - Math.clz32(a);
    const sym = (run << 4) + cat;
    this.bits(h.code[sym]!, h.len[sym]!);
    this.bits(v < 0 ? v + (1 << cat) - 1 : v, cat);
  }

  /**
   * Codes one 8×8 block. A uniform block (sky, fog) skips the DCT: with 64 equal integers every float step of
   * the DCT is exact, leaving 64 × value at DC and zeros elsewhere — what the full transform gives.
   */
  private block(data: Float64Array, uniform: boolean, fdtbl: Float64Array, dc: number, hdc: Huffman, hac: Huffman): number {
    const du = this.du;
    if (uniform) {
      du.fill(0);
      const v = data[0]! * 64 * fdtbl[0]!;
      du[0] = v > 0.0 ? (v + 0.5) | 0 : (v - 0.5) | 0;
    } else this.fdct(data, fdtbl);
    const diff = du[0]! - dc;
    if (diff === 0) this.bits(hdc.code[0]!, hdc.len[0]!);
    else this.coefficient(diff, hdc, 0);
    let end = 63;
    while (end > 0 && du[end] === 0) end--;
    if (end === 0) {
      this.bits(hac.code[0]!, hac.len[0]!);
      return du[0]!;
    }
    let i = 1;
    while (i <= end) {
      const start = i;
      while (du[i] === 0 && i <= end) i++;
      let zeros = i - start;
      if (zeros >= 16) {
        for (let m = zeros >> 4; m > 0; m--) this.bits(hac.code[0xf0]!, hac.len[0xf0]!);
        zeros &= 0xf;
      }
      this.coefficient(du[i]!, hac, zeros);
      i++;
    }
    if (end !== 63) this.bits(hac.code[0]!, hac.len[0]!);
    return du[0]!;
  }

  /** jpeg-js's fDCTQuant: the same float operations in the same order, so the same coefficients (into `du`, zigzagged). */
  private fdct(data: Float64Array, fdtbl: Float64Array): void {
    for (let off = 0; off < 64; off += 8) {
      const d0 = data[off]!;
      const d1 = data[off + 1]!;
      const d2 = data[off + 2]!;
      const d3 = data[off + 3]!;
      const d4 = data[off + 4]!;
      const d5 = data[off + 5]!;
      const d6 = data[off + 6]!;
      const d7 = data[off + 7]!;
      const tmp0 = d0 + d7;
      const tmp7 = d0 - d7;
      const tmp1 = d1 + d6;
      const tmp6 = d1 - d6;
      const tmp2 = d2 + d5;
      const tmp5 = d2 - d5;
      const tmp3 = d3 + d4;
      const tmp4 = d3 - d4;
      let tmp10 = tmp0 + tmp3;
      const tmp13 = tmp0 - tmp3;
      let tmp11 = tmp1 + tmp2;
      let tmp12 = tmp1 - tmp2;
      data[off] = tmp10 + tmp11;
      data[off + 4] = tmp10 - tmp11;
      const z1 = (tmp12 + tmp13) * 0.707106781;
      data[off + 2] = tmp13 + z1;
      data[off + 6] = tmp13 - z1;
      tmp10 = tmp4 + tmp5;
      tmp11 = tmp5 + tmp6;
      tmp12 = tmp6 + tmp7;
      const z5 = (tmp10 - tmp12) * 0.382683433;
      const z2 = 0.5411961 * tmp10 + z5;
      const z4 = 1.306562965 * tmp12 + z5;
      const z3 = tmp11 * 0.707106781;
      const z11 = tmp7 + z3;
      const z13 = tmp7 - z3;
      data[off + 5] = z13 + z2;
      data[off + 3] = z13 - z2;
      data[off + 1] = z11 + z4;
      data[off + 7] = z11 - z4;
    }
    for (let off = 0; off < 8; off++) {
      const d0 = data[off]!;
      const d1 = data[off + 8]!;
      const d2 = data[off + 16]!;
      const d3 = data[off + 24]!;
      const d4 = data[off + 32]!;
      const d5 = data[off + 40]!;
      const d6 = data[off + 48]!;
      const d7 = data[off + 56]!;
      const tmp0 = d0 + d7;
      const tmp7 = d0 - d7;
      const tmp1 = d1 + d6;
      const tmp6 = d1 - d6;
      const tmp2 = d2 + d5;
      const tmp5 = d2 - d5;
      const tmp3 = d3 + d4;
      const tmp4 = d3 - d4;
      let tmp10 = tmp0 + tmp3;
      const tmp13 = tmp0 - tmp3;
      let tmp11 = tmp1 + tmp2;
      let tmp12 = tmp1 - tmp2;
      data[off] = tmp10 + tmp11;
      data[off + 32] = tmp10 - tmp11;
      const z1 = (tmp12 + tmp13) * 0.707106781;
      data[off + 16] = tmp13 + z1;
      data[off + 48] = tmp13 - z1;
      tmp10 = tmp4 + tmp5;
      tmp11 = tmp5 + tmp6;
      tmp12 = tmp6 + tmp7;
      const z5 = (tmp10 - tmp12) * 0.382683433;
      const z2 = 0.5411961 * tmp10 + z5;
      const z4 = 1.306562965 * tmp12 + z5;
      const z3 = tmp11 * 0.707106781;
      const z11 = tmp7 + z3;
      const z13 = tmp7 - z3;
      data[off + 40] = z13 + z2;
      data[off + 24] = z13 - z2;
      data[off + 8] = z11 + z4;
      data[off + 56] = z11 - z4;
    }
    const du = this.du;
    for (let i = 0; i < 64; i++) {
      const v = data[i]! * fdtbl[i]!;
      du[ZIGZAG[i]!] = v > 0.0 ? (v + 0.5) | 0 : (v - 0.5) | 0;
    }
  }

  /** SOI, JFIF APP0, DQT, SOF0, DHT, SOS: what jpeg-js writes when given no comments and no EXIF. */
  private headers(width: number, height: number): void {
    const h = this.header?.width === width && this.header.height === height ? this.header : (this.header = { width, height, bytes: this.headerBytes(width, height) });
    this.reserve(h.bytes.length);
    this.out.set(h.bytes, 0);
    this.o = h.bytes.length;
  }

  private headerBytes(width: number, height: number): Uint8Array {
    const b: number[] = [0xff, 0xd8];
    b.push(0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0);
    b.push(0xff, 0xdb, 0, 132, 0, ...this.yTable, 1, ...this.uvTable);
    b.push(0xff, 0xc0, 0, 17, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1);
    b.push(0xff, 0xc4, 0x01, 0xa2);
    b.push(0, ...DC_LUM_NRCODES.slice(1), ...DC_LUM_VALUES);
    b.push(0x10, ...AC_LUM_NRCODES.slice(1), ...AC_LUM_VALUES);
    b.push(1, ...DC_CHR_NRCODES.slice(1), ...DC_CHR_VALUES);
    b.push(0x11, ...AC_CHR_NRCODES.slice(1), ...AC_CHR_VALUES);
    b.push(0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0);
    return Uint8Array.from(b);
  }
}
