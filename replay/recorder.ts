/**
 * The recorder: a sink that writes messages to MCAP (protobuf schemas as FileDescriptorSets, one channel
 * per topic, log_time = receive stamp, publish_time = sensor stamp), in compressed chunks closed at least
 * every `chunkDurationNs` of log time so that a crash loses at most about that much.
 *
 * `addMessage` never waits for the disk: it appends to the open chunk and returns at once; closed chunks
 * go onto a bounded write queue that one writer drains in order. When the queue is full the incoming
 * message is dropped and counted (by topic), and the file stays consistent. Output is deterministic: the
 * same calls give the same bytes (no wall clock inside the file unless passed in as metadata).
 */
import type { SchedulerLike, Subscription } from "rxjs";
import { defaultCodec, FusiondError, type ProtoCodec, type SensorMessage } from "../schemas/index.ts";
import { compressionReady, compressor, type Compression } from "./compression.ts";
import { fileSink, type ByteSink } from "./io.ts";
import { McapFileWriter, type ChunkStats } from "./mcap-file-writer.ts";

/** One message to record. */
export interface RecordInput {
  topic: string;
  /** Full protobuf type name, e.g. "fusiond.RadarScan". */
  type: string;
  /** The protobuf bytes, exactly as received. */
  bytes: Uint8Array;
  /** Receive stamp → MCAP log_time, ns. */
  receiveNs: bigint;
  /** Sensor (event) stamp → MCAP publish_time, ns. */
  stampNs: bigint;
}

/** Written as the metadata record "fusiond" at the start of every file. */
export interface RecordingMetadata {
  vehicle?: string;
  /** The daemon configuration (e.g. YAML or JSON text). */
  config?: string;
  modelId?: string;
  modelHash?: string;
  fusiondVersion?: string;
  /** Anything else; values are strings, as MCAP metadata requires. */
  [key: string]: string | undefined;
}

export interface RotateOptions {
  /** Start a new file once this one holds this many bytes. */
  maxBytes?: number;
  /** Start a new file once this one spans this much log time, ns. */
  maxDurationNs?: bigint;
}

export interface RecorderOptions {
  /** Opens output file number `index` (0, 1, ... on rotation). */
  open: (index: number) => ByteSink | Promise<ByteSink>;
  compression?: Compression;
  /** zstd level (default 3, zstd's own). Camera-heavy data barely compresses: 1 is about twice as fast there. */
  compressionLevel?: number;
  /** Close a chunk when it holds this many uncompressed bytes (default 4 MiB). */
  chunkBytes?: number;
  /** Close a chunk before a message that is this much log time after the chunk's first (default 1 s). */
  chunkDurationNs?: bigint;
  /** Bytes that may wait for the disk before new messages are dropped (default 64 MiB). */
  maxQueueBytes?: number;
  rotate?: RotateOptions;
  metadata?: RecordingMetadata;
  /** Header library, e.g. "fusiond/0.1.0" (default "fusiond"). */
  library?: string;
  /** Schema records for protobuf types (default: the project codec's FileDescriptorSets). */
  codec?: ProtoCodec;
  /** With a scheduler, the open chunk is also closed every `flushIntervalMs` (default 1000) when input is idle. */
  scheduler?: SchedulerLike;
  flushIntervalMs?: number;
  /**
   * With a scheduler: a chunk that comes due (`chunkDurationNs`) inside addMessage is closed on the scheduler's
   * next turn instead of inside the call, so the message that found it due — in the daemon perhaps the last
   * input of a frame about to be decided — is not held up by the compression (zstd of 1 s of sensor data:
   * ~2.4 ms here). The chunk then runs a little past chunkDurationNs; nothing else changes.
   */
  deferChunkClose?: boolean;
}

export interface RecorderStats {
  /** Messages accepted into the file. */
  messages: number;
  /** Payload bytes accepted. */
  payloadBytes: number;
  /** Bytes handed to the disk so far (all files). */
  bytesWritten: number;
  /** Bytes waiting for the disk. */
  queuedBytes: number;
  /** Messages dropped because the write queue was full or the disk failed, by topic. */
  dropped: Record<string, number>;
  droppedTotal: number;
  chunks: number;
  /** Output names (file paths), in order. */
  files: string[];
  /** The first write error, if the disk failed. */
  error?: string;
}

type FileSlot = { index: number; sink: Promise<ByteSink>; name?: string };
type WriteOp = { slot: FileSlot; bytes: Uint8Array } | { slot: FileSlot; close: true };

interface OpenFile {
  slot: FileSlot;
  writer: McapFileWriter;
  /** topic → channel id, type → schema id, in this file. */
  channels: Map<string, number>;
  schemas: Map<string, number>;
  sequences: Map<number, number>;
  firstNs: bigint | undefined;
}

const MiB = 1024 * 1024;
const BATCH_BYTES = 1024 * 1024;

export class McapRecorder {
  private readonly queue: WriteOp[] = [];
  private queued = 0;
  private written = 0;
  private pumping: Promise<void> | undefined;
  private file: OpenFile | undefined;
  private fileCount = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private failure: FusiondError | undefined;
  private readonly timer: Subscription | undefined;
  private readonly chunkBytes: number;
  private readonly chunkDurationNs: bigint;
  private readonly maxQueueBytes: number;
  private readonly codec: ProtoCodec;
  private readonly compress;
  private readonly names: string[] = [];
  private readonly stat = { messages: 0, payloadBytes: 0, chunks: 0, droppedTotal: 0, dropped: {} as Record<string, number> };
  /** Called after each chunk is closed (for progress lines). */
  onChunk?: (stats: ChunkStats) => void;

  /** Use `McapRecorder.create` (it waits for the wasm compressors to load). */
  private constructor(private readonly options: RecorderOptions) {
    this.chunkBytes = options.chunkBytes ?? 4 * MiB;
    this.chunkDurationNs = options.chunkDurationNs ?? 1_000_000_000n;
    this.maxQueueBytes = options.maxQueueBytes ?? 64 * MiB;
    this.codec = options.codec ?? defaultCodec();
    this.compress = compressor(options.compression ?? "zstd", options.compressionLevel);
    this.openNext();
    if (options.scheduler) {
      const interval = options.flushIntervalMs ?? 1000;
      this.timer = options.scheduler.schedule(function tick(this: { schedule(s?: unknown, d?: number): void }, rec?: McapRecorder) {
        rec?.flushChunk();
        this.schedule(rec, interval);
      }, interval, this);
    }
  }

  static async create(options: RecorderOptions): Promise<McapRecorder> {
    await compressionReady();
    return new McapRecorder(options);
  }

  /**
   * Records one message. Returns false if it was dropped (queue full, disk failed, or closed);
   * never throws on input and never waits for the disk.
   */
  addMessage(input: RecordInput): boolean {
    if (this.closed || this.failure || this.queued >= this.maxQueueBytes) return this.drop(input.topic);
    let file = this.current(input.receiveNs);
    const w = file.writer;
    if (w.openChunkMessages > 0 && input.receiveNs - w.openChunkStartNs >= this.chunkDurationNs) {
      if (this.options.deferChunkClose && this.options.scheduler) this.closeChunkSoon(this.options.scheduler);
      else {
        this.flushChunk();
        file = this.current(input.receiveNs);
      }
    }
    const channelId = this.channel(file, input.topic, input.type);
    const sequence = (file.sequences.get(channelId) ?? 0) + 1;
    file.sequences.set(channelId, sequence);
    file.writer.addMessage({ channelId, sequence, logTime: input.receiveNs, publishTime: input.stampNs, data: input.bytes });
    file.firstNs ??= input.receiveNs;
    this.stat.messages++;
    this.stat.payloadBytes += input.bytes.length;
    if (file.writer.openChunkBytes >= this.chunkBytes) this.flushChunk();
    return true;
  }

  /** Records a decoded SensorMessage (its raw bytes, receive and event stamps). */
  addSensorMessage(message: SensorMessage): boolean {
    return this.addMessage({ topic: message.topic, type: message.type, bytes: message.bytes, receiveNs: message.receiveNs, stampNs: message.stampNs });
  }

  /**
   * Records a JSON message (e.g. aligner/health diagnostics) on a channel with a `jsonschema` schema named
   * `schemaName`. bigint values are written as decimal strings.
   */
  addJson(topic: string, schemaName: string, value: unknown, receiveNs: bigint, stampNs = receiveNs): boolean {
    const bytes = new TextEncoder().encode(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
    return this.addMessage({ topic, type: `json:${schemaName}`, bytes, receiveNs, stampNs });
  }

  /** A metadata record in the current file (closes the open chunk first). */
  addMetadata(name: string, values: Record<string, string | undefined>): void {
    if (this.closed || this.failure) return;
    this.currentFile().writer.addMetadata(name, toMap(values));
  }

  private closeDue: Subscription | undefined;
  /** Closes the open chunk on the scheduler's next turn (once, however many messages find it due meanwhile). */
  private closeChunkSoon(scheduler: SchedulerLike): void {
    this.closeDue ??= scheduler.schedule(() => {
      this.closeDue = undefined;
      this.flushChunk();
    }, 0);
  }

  /** Closes the open chunk now (it goes onto the write queue). */
  flushChunk(): void {
    const file = this.file;
    if (!file || this.closed) return;
    const stats = file.writer.flushChunk();
    if (stats) {
      this.stat.chunks++;
      this.onChunk?.(stats);
    }
  }

  /** Closes the open chunk and waits until everything queued so far is on the disk. */
  async flush(): Promise<void> {
    this.flushChunk();
    await this.drain();
    if (this.failure) throw this.failure;
  }

  /**
   * Closes the open chunk, writes the summary and indexes, closes the file and waits for the disk.
   * Idempotent. Rejects with the first write error, if any.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.timer?.unsubscribe();
      this.closeDue?.unsubscribe();
      if (this.file) {
        this.file.writer.end();
        this.enqueue({ slot: this.file.slot, close: true });
        this.file = undefined;
      }
      this.closed = true;
      await this.drain();
      if (this.failure) throw this.failure;
    })();
    return this.closing;
  }

  stats(): RecorderStats {
    return {
      ...this.stat,
      dropped: { ...this.stat.dropped },
      bytesWritten: this.written,
      queuedBytes: this.queued,
      files: [...this.names],
      ...(this.failure ? { error: this.failure.message } : {}),
    };
  }

  private drop(topic: string): false {
    this.stat.droppedTotal++;
    this.stat.dropped[topic] = (this.stat.dropped[topic] ?? 0) + 1;
    return false;
  }

  /** The file to write a message stamped `receiveNs` into, rotating first if this one is full. */
  private current(receiveNs: bigint): OpenFile {
    const file = this.currentFile();
    const rotate = this.options.rotate;
    if (rotate && file.firstNs !== undefined) {
      const size = Number(file.writer.position) + file.writer.openChunkBytes;
      const tooBig = rotate.maxBytes !== undefined && size >= rotate.maxBytes;
      const tooLong = rotate.maxDurationNs !== undefined && receiveNs - file.firstNs >= rotate.maxDurationNs;
      if (tooBig || tooLong) {
        this.flushChunk();
        file.writer.end();
        this.enqueue({ slot: file.slot, close: true });
        this.file = undefined;
        this.openNext();
      }
    }
    return this.currentFile();
  }

  private currentFile(): OpenFile {
    if (!this.file) throw new FusiondError("recorder_closed", "recorder is closed");
    return this.file;
  }

  private openNext(): void {
    const index = this.fileCount++;
    const slot: FileSlot = { index, sink: Promise.resolve().then(() => this.options.open(index)) };
    slot.sink.then(
      (s) => {
        slot.name = s.name;
        this.names[index] = s.name;
      },
      () => undefined,
    );
    const writer = new McapFileWriter({
      emit: (bytes) => this.enqueue({ slot, bytes }),
      library: this.options.library ?? "fusiond",
      ...(this.compress ? { compress: this.compress } : {}),
    });
    this.file = { slot, writer, channels: new Map(), schemas: new Map(), sequences: new Map(), firstNs: undefined };
    if (this.options.metadata) writer.addMetadata("fusiond", toMap(this.options.metadata));
  }

  private channel(file: OpenFile, topic: string, type: string): number {
    let id = file.channels.get(topic);
    if (id !== undefined) return id;
    let schemaId = file.schemas.get(type);
    const json = type.startsWith("json:");
    if (schemaId === undefined) {
      schemaId = json
        ? file.writer.addSchema(type.slice(5), "jsonschema", new TextEncoder().encode('{"type":"object"}'))
        : file.writer.addSchema(type, "protobuf", this.codec.fileDescriptorSet(type));
      file.schemas.set(type, schemaId);
    }
    id = file.writer.addChannel(topic, schemaId, json ? "json" : "protobuf");
    file.channels.set(topic, id);
    return id;
  }

  private enqueue(op: WriteOp): void {
    if ("bytes" in op) this.queued += op.bytes.length;
    this.queue.push(op);
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  private async drain(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** The single writer: drains the queue in order, batching consecutive writes to one file. */
  private async pump(): Promise<void> {
    for (let op = this.queue.shift(); op; op = this.queue.shift()) {
      const sink = await op.slot.sink.catch((err: unknown) => this.fail(op!.slot, err));
      if (!sink || this.failure) {
        if ("bytes" in op) this.queued -= op.bytes.length;
        continue;
      }
      if ("close" in op) {
        await sink.close().catch((err: unknown) => this.fail(op!.slot, err));
        continue;
      }
      // Small pieces (headers, metadata, small chunks) are joined into one write; a big chunk goes alone.
      const batch = [op.bytes];
      let size = op.bytes.length;
      for (let next = this.queue[0]; next && "bytes" in next && next.slot === op.slot && size + next.bytes.length <= BATCH_BYTES; next = this.queue[0]) {
        batch.push(next.bytes);
        size += next.bytes.length;
        this.queue.shift();
      }
      const bytes = batch.length > 1 ? concat(batch) : op.bytes;
      try {
        await sink.write(bytes);
        this.written += bytes.length;
      } catch (err) {
        this.fail(op.slot, err);
      }
      this.queued -= bytes.length;
    }
  }

  private fail(slot: FileSlot, err: unknown): undefined {
    this.failure ??=
      err instanceof FusiondError
        ? err
        : new FusiondError("write_failed", `${slot.name ?? `output #${slot.index}`}: write failed: ${(err as Error).message}`, {
            file: slot.name,
          }, { cause: err });
    return undefined;
  }
}

function toMap(values: Record<string, string | undefined>): Map<string, string> {
  const m = new Map<string, string>();
  for (const key of Object.keys(values).sort()) {
    const v = values[key];
    if (v !== undefined) m.set(key, v);
  }
  return m;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Output paths for `out`: exactly `out`, or with rotation `name_000.mcap`, `name_001.mcap`, ... */
export function outputPath(out: string, index: number, rotating: boolean): string {
  if (!rotating) return out;
  const dot = out.toLowerCase().endsWith(".mcap") ? out.length - 5 : out.length;
  return `${out.slice(0, dot)}_${String(index).padStart(3, "0")}${out.slice(dot) || ".mcap"}`;
}

/** A recorder writing to `path` (or numbered files beside it when rotating). */
export function recordToFile(path: string, options: Omit<RecorderOptions, "open"> = {}): Promise<McapRecorder> {
  const rotating = options.rotate !== undefined && (options.rotate.maxBytes !== undefined || options.rotate.maxDurationNs !== undefined);
  return McapRecorder.create({ ...options, open: (i) => fileSink(outputPath(path, i, rotating)) });
}
