/**
 * ROS 1 bag (format 2.0) record framing: `u32 header_len, header, u32 data_len, data`, the header a list of
 * `u32 len, name=value` fields with `op` saying what the record is. @foxglove/rosbag reads bags through
 * their index; it exports no record parser for a scan of an unindexed or truncated bag (what `rosbag
 * reindex` does), so this small one is ours.
 */
import { FusiondError } from "../../schemas/index.ts";
import type { ByteSource } from "../io.ts";

export const BAG_MAGIC = "#ROSBAG V2.0\n";
export const OP = { MSG_DATA: 0x02, BAG_HEADER: 0x03, INDEX_DATA: 0x04, CHUNK: 0x05, CHUNK_INFO: 0x06, CONNECTION: 0x07 } as const;

export type HeaderFields = Map<string, Uint8Array>;

/** Parses a record header (or a connection record's data, which has the same layout). Throws on a bad field. */
export function parseFields(buf: Uint8Array): HeaderFields {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fields: HeaderFields = new Map();
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new Error("header field length runs past the header");
    const len = view.getUint32(at, true);
    at += 4;
    if (at + len > buf.length) throw new Error(`header field of ${len} bytes runs past the header`);
    const field = buf.subarray(at, at + len);
    const eq = field.indexOf(0x3d);
    if (eq < 0) throw new Error("header field without '='");
    fields.set(latin1(field.subarray(0, eq)), field.subarray(eq + 1));
    at += len;
  }
  return fields;
}

export const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
export const utf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
export const u32 = (b: Uint8Array | undefined): number => (b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : NaN);
export const u64 = (b: Uint8Array | undefined): number =>
  b && b.length >= 8 ? Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)) : NaN;
/** A ROS 1 time field (u32 sec, u32 nsec) as ns. */
export const timeNs = (b: Uint8Array | undefined): bigint => {
  if (!b || b.length < 8) return 0n;
  const v = new DataView(b.buffer, b.byteOffset, 8);
  return BigInt(v.getUint32(0, true)) * 1_000_000_000n + BigInt(v.getUint32(4, true));
};

/** One framed record: its header fields and data, and where it starts. */
export interface BagRecord {
  op: number;
  fields: HeaderFields;
  data: Uint8Array;
  offset: number;
  /** Offset just past the record. */
  end: number;
}

/** Frames records in a buffer that holds whole records only (a decompressed chunk). Throws on a cut record. */
export function* recordsIn(buf: Uint8Array, baseOffset: number): Generator<BagRecord> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new Error(`record header length cut at chunk byte ${at}`);
    const hlen = view.getUint32(at, true);
    if (at + 8 + hlen > buf.length) throw new Error(`record header of ${hlen} bytes runs past the chunk at chunk byte ${at}`);
    const fields = parseFields(buf.subarray(at + 4, at + 4 + hlen));
    const dlen = view.getUint32(at + 4 + hlen, true);
    const start = at + 8 + hlen;
    if (start + dlen > buf.length) throw new Error(`record data of ${dlen} bytes runs past the chunk at chunk byte ${at}`);
    yield { op: fields.get("op")?.[0] ?? -1, fields, data: buf.subarray(start, start + dlen), offset: baseOffset, end: start + dlen };
    at = start + dlen;
  }
}

/**
 * Reads a source front to back through a window, so records of any size can be fetched by offset. With a
 * source that can `readInto`, the window's buffer is reused: what `get` returned is valid only until the
 * next `get` (a fresh buffer per block made the garbage collector a fifth of a conversion's CPU).
 */
export class BlockReader {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private spare: Uint8Array | undefined;
  constructor(
    private readonly source: ByteSource,
    readonly size: number,
    private readonly block = 8 * 1024 * 1024,
  ) {}

  /** `length` bytes at `offset`; the caller checks that they are inside the file. */
  async get(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.start || offset + length > this.start + this.buf.length) {
      const n = Math.min(this.size - offset, Math.max(length, this.block));
      if (this.source.readInto) {
        // Keep what is still wanted of the old window? No: records are read front to back, and a record that
        // straddles the window's end is fetched whole from its start.
        if (!this.spare || this.spare.length < n) this.spare = new Uint8Array(Math.max(n, this.block));
        const got = await this.source.readInto(BigInt(offset), this.spare.subarray(0, n));
        this.buf = this.spare.subarray(0, got);
      } else {
        this.buf = await this.source.read(BigInt(offset), BigInt(n));
      }
      this.start = offset;
    }
    return this.buf.subarray(offset - this.start, offset - this.start + length);
  }
}

/** Is this the start of a ROS 1 bag? */
export function isBagMagic(head: Uint8Array): boolean {
  return head.length >= BAG_MAGIC.length && latin1(head.subarray(0, BAG_MAGIC.length)) === BAG_MAGIC;
}

/** A FusiondError naming file, byte offset and (where known) topic, as the MCAP reader words its errors. */
export function bagError(code: string, file: string, offset: number, detail: string, topic?: string, hint?: string): FusiondError {
  const where = offset >= 0 ? ` at byte offset ${offset}` : "";
  return new FusiondError(code, `${file}: ${detail}${where}${topic ? ` (topic ${topic})` : ""}${hint ? `; ${hint}` : ""}`, { file, offset, ...(topic ? { topic } : {}) });
}
