/**
 * ROS 1 bags: read through their index with @foxglove/rosbag (messages in record-time order), or — when the
 * bag has no usable index (a recorder that was killed leaves `index_pos` 0; a cut file loses its index) —
 * recovered by a forward scan of the records, as `rosbag reindex` does. Chunks may be uncompressed or lz4
 * (@foxglove/wasm-lz4, as Foxglove Studio reads them); bz2 chunks through seek-bzip.
 */
import { Bag } from "@foxglove/rosbag";
import lz4Decompress from "@foxglove/wasm-lz4";
import { FusiondError } from "../../schemas/index.ts";
import type { ByteSource } from "../io.ts";
import { bagError, BAG_MAGIC, BlockReader, isBagMagic, latin1, OP, parseFields, recordsIn, timeNs, u32, u64, utf8, type BagRecord } from "./bag1-records.ts";
import { normaliseRosType, type RosConnection, type RosProblem, type RosReader, type RosRecord } from "./types.ts";
import Bunzip from "seek-bzip";

/** bzip2 → bytes with seek-bzip (pure JavaScript, the decoder decompress-tarbz2 and others rely on). */
function bz2Decompress(data: Uint8Array, size: number): Uint8Array {
  const out = Buffer.alloc(size);
  const n = Bunzip.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength), out);
  if (n.length !== size) throw new Error(`${n.length} bytes, the chunk header says ${size}`);
  return n;
}

function decompressChunk(file: string, compression: string, data: Uint8Array, size: number, offset: number): Uint8Array {
  switch (compression) {
    case "none":
      return data;
    case "lz4":
      try {
        return lz4Decompress(data, size);
      } catch (err) {
        throw bagError("bag_corrupt", file, offset, `lz4 chunk does not decompress (${(err as Error).message})`);
      }
    case "bz2":
      try {
        return bz2Decompress(data, size);
      } catch (err) {
        throw bagError("bag_corrupt", file, offset, `bz2 chunk does not decompress (${(err as Error).message})`);
      }
    default:
      throw bagError("bag_corrupt", file, offset, `chunk compression "${compression}" is not a ROS 1 compression (none, lz4, bz2)`);
  }
}

export interface Ros1Options {
  /** Throw at the first problem (a cut record) instead of recovering what precedes it. */
  strict?: boolean;
  /** Read with the forward scan even when the bag has an index. */
  scan?: boolean;
}

export class Ros1BagReader implements RosReader {
  readonly format = "ros1" as const;
  readonly problems: RosProblem[] = [];
  position = 0;
  private readonly connections = new Map<number, RosConnection>();
  /** Chunk position → the topics in it, from the index (to name them when a chunk cannot be read). */
  private readonly chunkTopics = new Map<number, string>();

  private constructor(
    private readonly source: ByteSource,
    readonly size: number,
    private readonly indexPos: number,
    private readonly options: Ros1Options,
  ) {}

  get file(): string {
    return this.source.name;
  }

  static async open(source: ByteSource, options: Ros1Options = {}): Promise<Ros1BagReader> {
    await lz4Decompress.isLoaded;
    const size = Number(await source.size());
    const head = await source.read(0n, BigInt(Math.min(size, 4096)));
    if (!isBagMagic(head)) {
      throw bagError("not_bag", source.name, 0, `no ROS 1 bag magic ("${BAG_MAGIC.trim()}"); not a ROS 1 bag (format 2.0)`);
    }
    let indexPos = 0;
    try {
      const rec = [...recordsInPrefix(head.subarray(BAG_MAGIC.length))][0];
      if (rec?.op === OP.BAG_HEADER) indexPos = u64(rec.fields.get("index_pos"));
    } catch {
      // a bag header we cannot read: the scan says where
    }
    return new Ros1BagReader(source, size, indexPos, options);
  }

  async close(): Promise<void> {
    await this.source.close();
  }

  async *records(): AsyncGenerator<RosRecord> {
    if (!this.options.scan && this.indexPos > 0 && this.indexPos < this.size) {
      const bag = await this.openIndexed();
      if (bag && chunksInTimeOrder(bag)) {
        // The index says file order is time order (rosbag record writes so): a sequential read of the
        // records gives the same messages without @foxglove/rosbag's per-message copy (a third of the CPU
        // of a conversion went to that copy and its garbage).
        yield* this.scan(true);
        return;
      }
      if (bag) {
        yield* this.indexed(bag);
        return;
      }
    } else if (!this.options.scan) {
      this.problems.push({
        code: "bag_unindexed",
        offset: 13,
        detail: this.indexPos === 0 ? "the bag has no index (it was not closed); recovered by a forward scan" : `the index (at byte ${this.indexPos}) is past the end of the file (${this.size} bytes): the file was cut; recovered by a forward scan`,
      });
    }
    yield* this.scan();
  }

  private async openIndexed(): Promise<Bag | undefined> {
    const source = this.source;
    const reader = {
      read: async (offset: number, length: number): Promise<Uint8Array> => {
        const bytes = await source.read(BigInt(offset), BigInt(length));
        if (offset + length > this.position) this.position = offset + length;
        return bytes;
      },
      size: (): number => this.size,
    };
    const file = this.file;
    const bag = new Bag(reader, {
      parse: false,
      decompress: {
        lz4: (buffer: Uint8Array, size: number) => decompressChunk(file, "lz4", buffer, size, -1),
        bz2: (buffer: Uint8Array, size: number) => decompressChunk(file, "bz2", buffer, size, -1),
      },
    });
    try {
      await bag.open();
    } catch (err) {
      this.problems.push({ code: "bag_unindexed", offset: this.indexPos, detail: `the index does not read (${(err as Error).message}); recovered by a forward scan` });
      return undefined;
    }
    for (const info of bag.chunkInfos) {
      const topics = [...new Set(info.connections.map((c) => bag.connections.get(c.conn)?.topic ?? `#${c.conn}`))].sort();
      this.chunkTopics.set(info.chunkPosition, topics.join(", "));
    }
    for (const c of bag.connections.values()) {
      this.connections.set(c.conn, {
        id: c.conn,
        topic: c.topic,
        type: normaliseRosType(c.type ?? ""),
        definition: c.messageDefinition ?? "",
        encoding: "ros1",
        schemaEncoding: "ros1msg",
        messageEncoding: "ros1",
        offset: c.offset ?? -1,
      });
    }
    return bag;
  }

  private async *indexed(bag: Bag): AsyncGenerator<RosRecord> {
    try {
      // From time 0: without a start the iterator begins at the first chunk's start time, and skips the
      // messages of any later chunk that are earlier than that (a bag whose chunks are out of time order).
      for await (const m of bag.messageIterator({ start: { sec: 0, nsec: 0 } })) {
        const connection = this.connections.get(m.connectionId)!;
        yield { connection, receiveNs: BigInt(m.timestamp.sec) * 1_000_000_000n + BigInt(m.timestamp.nsec), data: m.data, offset: -1 };
      }
    } catch (err) {
      // The library does not say where: a strict scan finds the offset (and the topic, where one is known).
      throw await this.locate(err);
    }
    this.position = this.size;
  }

  private async locate(err: unknown): Promise<unknown> {
    try {
      for await (const _ of this.scan(true)) void _;
    } catch (located) {
      return located;
    }
    return err instanceof FusiondError ? err : bagError("bag_corrupt", this.file, -1, (err as Error).message);
  }

  /** Reads every record front to back; chunks are decompressed and their connections and messages yielded. */
  private async *scan(strict = this.options.strict ?? false): AsyncGenerator<RosRecord> {
    const file = this.file;
    const win = new BlockReader(this.source, this.size);
    const connections = new Map<number, RosConnection>();
    const problem = (offset: number, detail: string): void => {
      if (strict) throw bagError("bag_truncated", file, offset, detail);
      this.problems.push({ code: "bag_truncated", offset, detail: `${detail}; what precedes it was recovered` });
    };
    const connect = (rec: BagRecord, offset: number): void => {
      const conn = u32(rec.fields.get("conn"));
      if (connections.has(conn)) return;
      const data = parseFields(rec.data);
      const topic = utf8(rec.fields.get("topic") ?? data.get("topic") ?? new Uint8Array());
      connections.set(conn, {
        id: conn,
        topic,
        type: normaliseRosType(latin1(data.get("type") ?? new Uint8Array())),
        definition: utf8(data.get("message_definition") ?? new Uint8Array()),
        encoding: "ros1",
        schemaEncoding: "ros1msg",
        messageEncoding: "ros1",
        offset,
      });
    };
    const message = (rec: BagRecord, offset: number): RosRecord | undefined => {
      const connection = connections.get(u32(rec.fields.get("conn")));
      if (!connection) {
        if (strict) throw bagError("bag_corrupt", file, offset, `message on connection ${u32(rec.fields.get("conn"))}, which no connection record declared before it`);
        return undefined;
      }
      return { connection, receiveNs: timeNs(rec.fields.get("time")), data: rec.data, offset };
    };
    let at = BAG_MAGIC.length;
    while (at < this.size) {
      this.position = at;
      if (at + 8 > this.size) {
        problem(at, `the file ends inside a record header (${this.size - at} bytes left)`);
        break;
      }
      const hlen = u32(await win.get(at, 4));
      if (at + 8 + hlen > this.size) {
        problem(at, `a record header of ${hlen} bytes runs past the end of the file (${this.size} bytes)`);
        break;
      }
      const dlen = u32(await win.get(at + 4 + hlen, 4));
      const end = at + 8 + hlen + dlen;
      if (end > this.size) {
        let op = -1;
        try {
          op = parseFields(await win.get(at + 4, hlen)).get("op")?.[0] ?? -1;
        } catch {
          // the header does not parse either: a record of unknown kind
        }
        problem(at, `a ${op === OP.CHUNK ? "chunk" : "record"} of ${8 + hlen + dlen} bytes runs past the end of the file (${this.size} bytes)`);
        break;
      }
      // The whole record in one window: the window's buffer is reused by the next get.
      const whole = await win.get(at, 8 + hlen + dlen);
      let fields;
      try {
        fields = parseFields(whole.subarray(4, 4 + hlen));
      } catch (err) {
        throw bagError("bag_corrupt", file, at, `bad record header: ${(err as Error).message}`);
      }
      const body = whole.subarray(8 + hlen);
      const op = fields.get("op")?.[0] ?? -1;
      if (op === OP.CHUNK) {
        const compression = latin1(fields.get("compression") ?? new Uint8Array());
        let raw: Uint8Array;
        try {
          raw = decompressChunk(file, compression, body, u32(fields.get("size")), at);
        } catch (err) {
          const topics = this.chunkTopics.get(at);
          if (topics && err instanceof FusiondError) throw new FusiondError(err.code, err.message.replace(` at byte offset ${at}`, ` at byte offset ${at} (topics ${topics})`), { ...err.context, topics });
          throw err;
        }
        let inner;
        try {
          inner = [...recordsIn(raw, at)];
        } catch (err) {
          throw bagError("bag_corrupt", file, at, `chunk does not frame: ${(err as Error).message}`);
        }
        for (const rec of inner) {
          if (rec.op === OP.CONNECTION) connect(rec, at);
          else if (rec.op === OP.MSG_DATA) {
            const m = message(rec, at);
            if (m) yield m;
          }
        }
      } else if (op === OP.CONNECTION) {
        connect({ op, fields, data: body, offset: at, end }, at);
      } else if (op === OP.MSG_DATA) {
        const m = message({ op, fields, data: body, offset: at, end }, at);
        if (m) yield m;
      }
      at = end;
    }
    this.position = this.size;
  }
}

/** Do the bag's chunks follow each other in time, without overlap (so file order is receive-time order, chunk by chunk)? */
function chunksInTimeOrder(bag: Bag): boolean {
  const ns = (t: { sec: number; nsec: number }): number => t.sec * 1e9 + t.nsec;
  for (let i = 1; i < bag.chunkInfos.length; i++) {
    if (ns(bag.chunkInfos[i]!.startTime) < ns(bag.chunkInfos[i - 1]!.endTime)) return false;
  }
  return true;
}

/** Frames the whole records at the start of a buffer (the bag header record). */
function* recordsInPrefix(buf: Uint8Array): Generator<BagRecord> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4) return;
  const hlen = view.getUint32(0, true);
  if (8 + hlen > buf.length) return;
  const fields = parseFields(buf.subarray(4, 4 + hlen));
  yield { op: fields.get("op")?.[0] ?? -1, fields, data: new Uint8Array(), offset: BAG_MAGIC.length, end: 0 };
}
