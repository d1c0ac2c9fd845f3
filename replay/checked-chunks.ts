/**
 * Chunk reads for @mcap/core's indexed reader with the chunk checked here: each chunk is decompressed and its
 * CRC checked with Node's native zlib.crc32, and handed on as an uncompressed chunk with CRC 0 (MCAP's "not
 * computed"), so the library neither decompresses it again nor runs its JavaScript CRC32 over it (@foxglove/crc:
 * ~11% of the open loop's CPU time without a model, bench/README.md #17). The check is the library's own —
 * a chunk whose CRC is 0 in the file is not checked, any other must match — and so is the error's wording.
 */
import { crc32 } from "node:zlib";
import type { McapTypes } from "@mcap/core";
import type { ByteSource } from "./io.ts";

/** MCAP's Chunk opcode. */
const CHUNK = 0x06;

/** Where each chunk lies: chunk start offset → chunk length (the summary's chunk indexes). */
export type ChunkSpans = ReadonlyMap<bigint, bigint>;

/**
 * `source` with the reads of whole chunks (`spans`, filled once the summary is read) answered by checked,
 * decompressed chunks. Every other read passes through unchanged.
 */
export function checkedChunks(source: ByteSource, spans: () => ChunkSpans, decompress: McapTypes.DecompressHandlers): McapTypes.IReadable {
  return {
    size: () => source.size(),
    read: async (offset, length) => {
      const bytes = await source.read(offset, length);
      return spans().get(offset) === length ? inflateChunk(bytes, decompress) : bytes;
    },
  };
}

/** A Chunk record (opcode first) → the same chunk uncompressed, CRC checked and set to 0. */
export function inflateChunk(record: Uint8Array, decompress: McapTypes.DecompressHandlers): Uint8Array {
  const dv = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (record.byteLength < 1 + 8 + 8 + 8 + 8 + 4 + 4 || dv.getUint8(0) !== CHUNK) return record; // the library says what is wrong
  let at = 1 + 8;
  const startTime = dv.getBigUint64(at, true);
  const endTime = dv.getBigUint64(at + 8, true);
  const uncompressedSize = dv.getBigUint64(at + 16, true);
  const uncompressedCrc = dv.getUint32(at + 24, true);
  at += 28;
  const nameLength = dv.getUint32(at, true);
  at += 4;
  if (at + nameLength + 8 > record.byteLength) return record;
  const compression = Buffer.from(record.buffer, record.byteOffset + at, nameLength).toString("utf8");
  at += nameLength;
  const recordsLength = dv.getBigUint64(at, true);
  at += 8;
  if (BigInt(at) + recordsLength > BigInt(record.byteLength)) return record;
  let records = record.subarray(at, at + Number(recordsLength));
  if (compression !== "" && records.byteLength > 0) {
    const handler = decompress[compression];
    if (!handler) throw new Error(`Unsupported compression ${compression}`);
    records = handler(records, uncompressedSize);
  }
  if (uncompressedCrc !== 0) {
    const actual = crc32(records);
    if (actual !== uncompressedCrc) throw new Error(`Incorrect chunk CRC ${actual} (expected ${uncompressedCrc})`);
  }
  // opcode, record length, start, end, uncompressed size, CRC 0, compression "", records length, records
  const head = 1 + 8 + 8 + 8 + 8 + 4 + 4 + 8;
  const out = new Uint8Array(head + records.byteLength);
  const o = new DataView(out.buffer);
  o.setUint8(0, CHUNK);
  o.setBigUint64(1, BigInt(out.byteLength - 9), true);
  o.setBigUint64(9, startTime, true);
  o.setBigUint64(17, endTime, true);
  o.setBigUint64(25, BigInt(records.byteLength), true);
  o.setUint32(33, 0, true);
  o.setUint32(37, 0, true);
  o.setBigUint64(41, BigInt(records.byteLength), true);
  out.set(records, head);
  return out;
}
