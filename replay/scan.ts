/**
 * A sequential MCAP scanner that knows where it is: it frames top-level records itself (opcode + length,
 * the part of the format that says where a record ends) and lets @mcap/core's McapStreamReader parse,
 * decompress and CRC-check each one. Knowing each record's byte offset is what lets a truncated or
 * corrupt file be reported by file and offset, and lets `recover` skip a bad chunk and go on.
 */
import { McapRecordBuilder, McapStreamReader, MCAP_MAGIC, Opcode, type McapTypes } from "@mcap/core";
import { FusiondError } from "../schemas/index.ts";
import { decompressHandlers } from "./compression.ts";
import type { ByteSource } from "./io.ts";

/** A record and the byte offset of the top-level record it came from (the chunk, for messages in a chunk). */
export interface ScannedRecord {
  record: McapTypes.TypedMcapRecord;
  offset: number;
}

/** Something wrong in a file, by offset: what recovery skipped, or what a strict read stops at. */
export interface ScanProblem {
  code: "not_mcap" | "mcap_truncated" | "mcap_corrupt";
  offset: number;
  detail: string;
}

export interface ScanOptions {
  /** Salvage: report problems to `onProblem` and go on past them, instead of throwing at the first. */
  salvage?: boolean;
  onProblem?: (problem: ScanProblem) => void;
  /** Bytes read per I/O (default 8 MiB). */
  blockBytes?: number;
}

const RECORD_HEADER = 9;
const MAGIC = Uint8Array.from(MCAP_MAGIC);
const OPCODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Opcode)
    .filter(([k, v]) => typeof v === "number" && k !== "MIN" && k !== "MAX")
    // CHUNK_INDEX → ChunkIndex: the record names of the MCAP spec.
    .map(([k, v]) => [v as number, k.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase())]),
);

/** The FusiondError for a problem, naming the file and the byte offset. */
export function scanError(file: string, p: ScanProblem): FusiondError {
  const hint = p.code === "not_mcap" ? "" : ` (try: fusiond recover ${file} --out FIXED.mcap)`;
  return new FusiondError(p.code, `${file}: ${p.detail} at byte offset ${p.offset}${hint}`, { file, offset: p.offset });
}

/** Reads a source sequentially through a window, so records of any size can be fetched by offset. */
class Window {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  constructor(
    private readonly source: ByteSource,
    readonly size: number,
    private readonly block: number,
  ) {}
  async get(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.start || offset + length > this.start + this.buf.length) {
      const n = Math.min(this.size - offset, Math.max(length, this.block));
      this.buf = await this.source.read(BigInt(offset), BigInt(n));
      this.start = offset;
    }
    return this.buf.subarray(offset - this.start, offset - this.start + length);
  }
}

/** Parses records one top-level record at a time; survives a bad record by starting a new reader. */
class RecordParser {
  private reader = this.fresh();
  private readonly schemas = new Map<number, McapTypes.Schema>();
  private readonly channels = new Map<number, McapTypes.Channel>();

  private fresh(): McapStreamReader {
    return new McapStreamReader({ noMagicPrefix: true, includeChunks: true, decompressHandlers, validateCrcs: true });
  }

  /** All records in `bytes` (one top-level record); throws on a bad one, after which the parser is reset. */
  parse(bytes: Uint8Array): McapTypes.TypedMcapRecord[] {
    const out: McapTypes.TypedMcapRecord[] = [];
    try {
      this.reader.append(bytes);
      for (let r; (r = this.reader.nextRecord()); ) out.push(r);
    } catch (err) {
      this.reset();
      throw err;
    }
    // Remember schemas/channels only once the whole record parsed (a bad chunk contributes nothing).
    for (const r of out) {
      if (r.type === "Schema") this.schemas.set(r.id, r);
      else if (r.type === "Channel") this.channels.set(r.id, r);
    }
    return out;
  }

  /** Throws unless `bytes` parse whole; leaves this parser's state as it was. */
  probe(bytes: Uint8Array): void {
    const reader = this.primed();
    reader.append(bytes);
    while (reader.nextRecord());
  }

  private reset(): void {
    this.reader = this.primed();
  }

  /** A new reader that already knows the schemas and channels seen so far. */
  private primed(): McapStreamReader {
    const reader = this.fresh();
    const b = new McapRecordBuilder();
    for (const s of this.schemas.values()) b.writeSchema(s);
    for (const c of this.channels.values()) b.writeChannel(c);
    reader.append(b.buffer);
    while (reader.nextRecord());
    return reader;
  }
}

/**
 * Every record of the file in file order, messages of a chunk after the chunk record.
 * Strict (default): throws a FusiondError (`not_mcap`, `mcap_truncated`, `mcap_corrupt`) naming the file
 * and offset at the first problem, after yielding everything before it. Salvage: reports each problem
 * and continues with the next record it can frame (or the next chunk it finds).
 */
export async function* scanRecords(source: ByteSource, options: ScanOptions = {}): AsyncGenerator<ScannedRecord> {
  const size = Number(await source.size());
  const win = new Window(source, size, options.blockBytes ?? 8 * 1024 * 1024);
  const problem = (p: ScanProblem): void => {
    if (!options.salvage) throw scanError(source.name, p);
    options.onProblem?.(p);
  };
  if (size < MAGIC.length || !equal(await win.get(0, MAGIC.length), MAGIC)) {
    // Nothing can be salvaged from a file that does not start as MCAP.
    throw scanError(source.name, { code: "not_mcap", offset: 0, detail: size === 0 ? "empty file, not MCAP" : "no MCAP magic; not an MCAP file" });
  }
  const parser = new RecordParser();
  let offset = MAGIC.length;
  for (;;) {
    if (offset === size) {
      problem({ code: "mcap_truncated", offset, detail: "file ends without a footer (not closed)" });
      return;
    }
    if (size - offset < RECORD_HEADER) {
      problem({ code: "mcap_truncated", offset, detail: `file ends inside a record header (${size - offset} bytes left)` });
      return;
    }
    const head = await win.get(offset, RECORD_HEADER);
    const opcode = head[0]!;
    const length = new DataView(head.buffer, head.byteOffset, RECORD_HEADER).getBigUint64(1, true);
    const name = OPCODE_NAMES[opcode] ?? `opcode 0x${opcode.toString(16).padStart(2, "0")}`;
    const valid = (opcode >= Opcode.MIN && opcode <= Opcode.MAX) || opcode >= 0x80;
    if (!valid) {
      problem({ code: "mcap_corrupt", offset, detail: `invalid record ${name}` });
      const next = await findChunk(win, offset + 1, parser);
      if (next === undefined) return;
      offset = next;
      continue;
    }
    const end = offset + RECORD_HEADER + Number(length);
    if (end > size) {
      problem({ code: "mcap_truncated", offset, detail: `${name} record of ${length} bytes runs past the end of the file (${size} bytes)` });
      // A bogus length may hide good chunks after it; look for them.
      const next = await findChunk(win, offset + 1, parser);
      if (next === undefined) return;
      offset = next;
      continue;
    }
    if (opcode === Opcode.FOOTER) {
      // Parsed here: McapStreamReader holds the footer back until it has seen the closing magic.
      const body = await win.get(offset + RECORD_HEADER, Math.min(20, Number(length)));
      if (body.length === 20) {
        const dv = new DataView(body.buffer, body.byteOffset, 20);
        const footer: McapTypes.TypedMcapRecords["Footer"] = {
          type: "Footer",
          summaryStart: dv.getBigUint64(0, true),
          summaryOffsetStart: dv.getBigUint64(8, true),
          summaryCrc: dv.getUint32(16, true),
        };
        yield { record: footer, offset };
      } else {
        problem({ code: "mcap_corrupt", offset, detail: `Footer record of ${length} bytes is too short` });
      }
      if (size - end < MAGIC.length || !equal(await win.get(end, MAGIC.length), MAGIC)) {
        problem({ code: "mcap_corrupt", offset: end, detail: "no closing magic after the footer" });
      }
      return;
    }
    let records: McapTypes.TypedMcapRecord[];
    try {
      records = parser.parse(await win.get(offset, end - offset));
    } catch (err) {
      problem({ code: "mcap_corrupt", offset, detail: `bad ${name} record: ${(err as Error).message.replace(/ \[library=.*\]$/, "")}` });
      offset = end;
      continue;
    }
    for (const record of records) yield { record, offset };
    offset = end;
  }
}

/** The offset of the next chunk record at or after `from` that parses whole (for resynchronising). */
async function findChunk(win: Window, from: number, parser: RecordParser): Promise<number | undefined> {
  const step = 1024 * 1024;
  for (let at = from; at + RECORD_HEADER <= win.size; ) {
    const n = Math.min(step + RECORD_HEADER, win.size - at);
    const block = await win.get(at, n);
    for (let i = block.indexOf(Opcode.CHUNK); i >= 0 && i + RECORD_HEADER <= block.length; i = block.indexOf(Opcode.CHUNK, i + 1)) {
      const length = new DataView(block.buffer, block.byteOffset + i, RECORD_HEADER).getBigUint64(1, true);
      const end = at + i + RECORD_HEADER + Number(length);
      if (length < 40n || end > win.size) continue;
      try {
        // Parse on a throwaway copy of the parser state: a false match must not pollute it.
        parser.probe(await win.get(at + i, end - at - i));
        return at + i;
      } catch {
        // not a chunk after all
      }
    }
    at += step;
  }
  return undefined;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
