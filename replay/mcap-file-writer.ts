/**
 * A synchronous MCAP file writer: it turns records into bytes and hands them to `emit`, without I/O.
 *
 * Why not @mcap/core's McapWriter: its chunks close only when they reach a byte size (there is no public
 * "close the chunk now"), so a slow topic would keep messages in memory — and lose them on a crash — for
 * as long as it takes to fill a chunk; and every call is async and must be awaited before the next, which
 * would put the disk on the ingest path. This writer reuses @mcap/core's record and chunk builders, so
 * every byte layout is the library's; only the sequencing, the index bookkeeping and `flushChunk()` are ours.
 */
import { crc32 } from "node:zlib";
import { McapChunkBuilder, McapRecordBuilder, Opcode, type McapTypes } from "@mcap/core";
import type { ChunkCompressor } from "./compression.ts";

export interface FileWriterOptions {
  /** Receives the file's bytes in order; each array is owned by the receiver. */
  emit: (bytes: Uint8Array) => void;
  compress?: ChunkCompressor;
  /** Header `library` field, e.g. "fusiond/0.1.0". */
  library: string;
  /** Header `profile` field ("" for protobuf, which MCAP defines as a message encoding, not a profile). */
  profile?: string;
  /** Called by end() around the last records (replay/signature.ts signs the file there). */
  onEnd?: WriterEndHook;
}

/** end()'s hook: `beforeDataEnd` may add metadata records after the last chunk; `ended` runs after the last emit. */
export interface WriterEndHook {
  beforeDataEnd(writer: McapFileWriter): void;
  ended(): void;
}

/** Statistics of one chunk as written, for progress lines and `info`. */
export interface ChunkStats {
  messages: number;
  uncompressedBytes: number;
  compressedBytes: number;
  startNs: bigint;
  endNs: bigint;
}

export class McapFileWriter {
  private readonly records = new McapRecordBuilder();
  private readonly chunk = new McapChunkBuilder({ useMessageIndex: true });
  private readonly schemas: McapTypes.Schema[] = [];
  private readonly channels: McapTypes.Channel[] = [];
  private readonly pendingSchemas = new Set<number>();
  private readonly pendingChannels = new Set<number>();
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private readonly metadataIndexes: McapTypes.MetadataIndex[] = [];
  private readonly channelCounts = new Map<number, bigint>();
  private dataCrc = 0;
  private pos = 0n;
  private messageCount = 0n;
  private startNs = 0n;
  private endNs = 0n;
  private metadataCount = 0;
  private chunkCount = 0;
  private ended = false;

  constructor(private readonly options: FileWriterOptions) {
    this.records.writeMagic();
    this.records.writeHeader({ profile: options.profile ?? "", library: options.library });
    this.out(true);
  }

  /** Bytes emitted so far (the file's length if every emit reached the disk). */
  get position(): bigint {
    return this.pos;
  }
  /** Uncompressed bytes in the open chunk. */
  get openChunkBytes(): number {
    return this.chunk.byteLength;
  }
  get openChunkMessages(): number {
    return this.chunk.numMessages;
  }
  /** log_time of the first message in the open chunk (meaningful when openChunkMessages > 0). */
  get openChunkStartNs(): bigint {
    return this.chunk.messageStartTime;
  }
  get messages(): bigint {
    return this.messageCount;
  }
  get chunks(): number {
    return this.chunkCount;
  }
  /** log_time span of the messages written, ns (0 when none). */
  get durationNs(): bigint {
    return this.messageCount === 0n ? 0n : this.endNs - this.startNs;
  }

  addSchema(name: string, encoding: string, data: Uint8Array): number {
    const id = this.schemas.length + 1; // schema id 0 means "no schema"
    this.schemas.push({ id, name, encoding, data });
    this.pendingSchemas.add(id);
    return id;
  }

  addChannel(topic: string, schemaId: number, messageEncoding: string, metadata = new Map<string, string>()): number {
    const id = this.channels.length;
    this.channels.push({ id, schemaId, topic, messageEncoding, metadata });
    this.pendingChannels.add(id);
    return id;
  }

  /** Adds a message to the open chunk; the caller decides when to `flushChunk()`. */
  addMessage(message: McapTypes.Message): void {
    // Schema and channel go into the chunk that first uses them, so every chunk can be read (and
    // recovered) with what came before it.
    if (this.pendingChannels.has(message.channelId)) {
      const channel = this.channels[message.channelId]!;
      if (this.pendingSchemas.delete(channel.schemaId)) this.chunk.addSchema(this.schemas[channel.schemaId - 1]!);
      this.chunk.addChannel(channel);
      this.pendingChannels.delete(message.channelId);
    }
    this.chunk.addMessage(message);
    if (this.messageCount === 0n || message.logTime < this.startNs) this.startNs = message.logTime;
    if (this.messageCount === 0n || message.logTime > this.endNs) this.endNs = message.logTime;
    this.messageCount++;
    this.channelCounts.set(message.channelId, (this.channelCounts.get(message.channelId) ?? 0n) + 1n);
  }

  /** Closes the open chunk (if it has messages): compresses it and emits it with its message indexes. */
  flushChunk(): ChunkStats | undefined {
    if (this.chunk.numMessages === 0) return undefined;
    const data = this.chunk.buffer;
    const uncompressedCrc = crc32(data);
    const { compression, compressedData } = this.options.compress?.(data) ?? { compression: "", compressedData: data };
    const chunk: McapTypes.Chunk = {
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      uncompressedSize: BigInt(data.length),
      uncompressedCrc,
      compression,
      records: compressedData,
    };
    const chunkStartOffset = this.pos;
    const chunkLength = this.records.writeChunk(chunk);
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of this.chunk.indices) {
      if (index.records.length === 0) continue;
      messageIndexOffsets.set(index.channelId, chunkStartOffset + chunkLength + messageIndexLength);
      messageIndexLength += this.records.writeMessageIndex(index);
    }
    this.chunkIndexes.push({
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression,
      compressedSize: BigInt(compressedData.length),
      uncompressedSize: chunk.uncompressedSize,
    });
    const stats: ChunkStats = {
      messages: this.chunk.numMessages,
      uncompressedBytes: data.length,
      compressedBytes: compressedData.length,
      startNs: chunk.messageStartTime,
      endNs: chunk.messageEndTime,
    };
    this.chunkCount++;
    this.chunk.reset();
    this.out(true);
    return stats;
  }

  /** A metadata record (outside chunks; the open chunk is closed first so file order follows call order). */
  addMetadata(name: string, metadata: Map<string, string>): void {
    this.flushChunk();
    const offset = this.pos;
    const length = this.records.writeMetadata({ name, metadata });
    this.metadataIndexes.push({ offset, length, name });
    this.metadataCount++;
    this.out(true);
  }

  /** Closes the open chunk and writes DataEnd, the summary (schemas, channels, statistics, indexes) and the footer. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flushChunk();
    this.options.onEnd?.beforeDataEnd(this);
    this.records.writeDataEnd({ dataSectionCrc: this.dataCrc });
    this.out(false);

    const summaryStart = this.pos;
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (groupOpcode: number, write: () => bigint): void => {
      const groupStart = summaryStart + BigInt(this.records.length);
      const groupLength = write();
      if (groupLength > 0n) offsets.push({ groupOpcode, groupStart, groupLength });
    };
    group(Opcode.SCHEMA, () => this.schemas.reduce((n, s) => n + this.records.writeSchema(s), 0n));
    group(Opcode.CHANNEL, () => this.channels.reduce((n, c) => n + this.records.writeChannel(c), 0n));
    group(Opcode.STATISTICS, () =>
      this.records.writeStatistics({
        messageCount: this.messageCount,
        schemaCount: this.schemas.length,
        channelCount: this.channels.length,
        attachmentCount: 0,
        metadataCount: this.metadataCount,
        chunkCount: this.chunkCount,
        messageStartTime: this.startNs,
        messageEndTime: this.endNs,
        channelMessageCounts: this.channelCounts,
      }),
    );
    group(Opcode.METADATA_INDEX, () => this.metadataIndexes.reduce((n, m) => n + this.records.writeMetadataIndex(m), 0n));
    group(Opcode.CHUNK_INDEX, () => this.chunkIndexes.reduce((n, c) => n + this.records.writeChunkIndex(c), 0n));
    const summaryOffsetStart = summaryStart + BigInt(this.records.length);
    for (const o of offsets) this.records.writeSummaryOffset(o);
    const hasSummary = summaryOffsetStart > summaryStart;

    // The footer's CRC covers the summary through the footer's own fields before the CRC.
    const footerHead = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    footerHead.setUint8(0, Opcode.FOOTER);
    footerHead.setBigUint64(1, 8n + 8n + 4n, true);
    footerHead.setBigUint64(9, hasSummary ? summaryStart : 0n, true);
    footerHead.setBigUint64(17, summaryOffsetStart, true);
    const summaryCrc = crc32(new Uint8Array(footerHead.buffer), crc32(this.records.buffer));
    this.records.writeFooter({ summaryStart: hasSummary ? summaryStart : 0n, summaryOffsetStart, summaryCrc });
    this.records.writeMagic();
    this.out(false);
    this.options.onEnd?.ended();
  }

  private out(dataSection: boolean): void {
    const bytes = this.records.buffer as Uint8Array; // a copy already (BufferBuilder.buffer slices)
    this.records.reset();
    if (dataSection) this.dataCrc = crc32(bytes, this.dataCrc);
    this.pos += BigInt(bytes.length);
    this.options.emit(bytes);
  }
}
