/**
 * Image headers read before any decoding: a JPEG's frame header (SOFn: size, components, coding process)
 * and a PNG's IHDR. The camera path checks the size against its pixel budget here, so that no decoder is
 * ever given a 50-megapixel frame, and names the coding process of a JPEG it cannot take (progressive,
 * arithmetic, lossless) in the rejection. Reads only marker lengths: O(number of segments), no allocation.
 */

/** How a JPEG's frame is coded (its SOF marker). */
export type JpegProcess = "baseline" | "extended" | "progressive" | "lossless" | "arithmetic" | "hierarchical";

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  precision: number;
  process: JpegProcess;
  /** The file ends with EOI (0xFFD9); false suggests a truncated frame. */
  endsWithEoi: boolean;
}

export type HeaderResult<T> = { ok: true; header: T } | { ok: false; reason: string };

const SOF_PROCESS: Record<number, JpegProcess> = {
  0xc0: "baseline",
  0xc1: "extended",
  0xc2: "progressive",
  0xc3: "lossless",
  0xc5: "hierarchical",
  0xc6: "hierarchical",
  0xc7: "hierarchical",
  0xc9: "arithmetic",
  0xca: "arithmetic",
  0xcb: "arithmetic",
  0xcd: "arithmetic",
  0xce: "arithmetic",
  0xcf: "arithmetic",
};

/** The first frame header of a JPEG, walking the marker segments that precede it. */
export function readJpegHeader(data: Uint8Array): HeaderResult<JpegHeader> {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return { ok: false, reason: "not a JPEG (no SOI marker)" };
  const endsWithEoi = data[data.length - 2] === 0xff && data[data.length - 1] === 0xd9;
  let offset = 2;
  while (offset + 4 <= data.length) {
    if (data[offset] !== 0xff) return { ok: false, reason: `no marker at byte ${offset} before the frame header` };
    const marker = data[offset + 1]!;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    const length = (data[offset + 2]! << 8) | data[offset + 3]!;
    if (marker === 0xda || marker === 0xd9) return { ok: false, reason: "no frame header (SOF) before the scan" };
    const process = SOF_PROCESS[marker];
    if (process !== undefined) {
      if (length < 8 || offset + 2 + length > data.length) return { ok: false, reason: "truncated frame header (SOF)" };
      const p = offset + 4;
      const header: JpegHeader = {
        precision: data[p]!,
        height: (data[p + 1]! << 8) | data[p + 2]!,
        width: (data[p + 3]! << 8) | data[p + 4]!,
        components: data[p + 5]!,
        process,
        endsWithEoi,
      };
      if (header.width === 0 || header.height === 0) return { ok: false, reason: `frame header gives a ${header.width}×${header.height} image` };
      return { ok: true, header };
    }
    if (length < 2) return { ok: false, reason: `bad segment length ${length} at byte ${offset}` };
    offset += 2 + length;
  }
  return { ok: false, reason: "truncated before the frame header (SOF)" };
}

export interface PngHeader {
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG's size from its IHDR chunk (always the first). */
export function readPngHeader(data: Uint8Array): HeaderResult<PngHeader> {
  if (data.length < 24 || PNG_SIGNATURE.some((b, i) => data[i] !== b)) return { ok: false, reason: "not a PNG (bad signature)" };
  if (data[12] !== 0x49 || data[13] !== 0x48 || data[14] !== 0x44 || data[15] !== 0x52) return { ok: false, reason: "PNG without IHDR first" };
  const u32 = (o: number): number => ((data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!) >>> 0;
  const width = u32(16);
  const height = u32(20);
  if (width === 0 || height === 0) return { ok: false, reason: `IHDR gives a ${width}×${height} image` };
  return { ok: true, header: { width, height } };
}
