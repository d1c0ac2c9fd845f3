/**
 * The recorder: a sink that writes messages to MCAP (protobuf schemas as FileDescriptorSets, one channel
 * per topic, log_time = receive stamp, publish_time = sensor stamp), in compressed chunks closed at least
 * every `chunkDurationNs` of log time so that a crash loses at most about that much.
 *
 * `addMessage` never waits for the disk: it appends to the open chunk and returns at once; closed chunks
 * go onto a bounded write queue that one writer drains in order. When the queue is full the incoming
 * message is dropped and counted (by topic), and the file stays consistent. Output is deterministic: the
 * same calls give the same bytes (no wall clock inside the file unless passed in as metadata).
 *
 * When the disk fails (ENOSPC, EIO, ...) or `checkSpace` says the disk is too full, the file is given up
 * (after a failed write it is left as a crash would leave it, for `fusiond recover`; when space runs low it
 * is closed properly while it still can be) and messages are dropped and counted. Without `retry` that is
 * final and close() rejects with the error (what a command that writes one file wants). With `retry` (the
 * daemon) the recorder tries again every `retry.intervalNs` of log time in a new file, reports each change
 * of state once through `onStatus`, and close() always resolves: a vehicle keeps recording when space
 * comes back, and shutting down never fails because the disk did.
 */
import type { SchedulerLike, Subscription } from "rxjs";
import { defaultCodec, FusiondError, redactMetadataValues, type ProtoCodec, type SensorMessage } from "../schemas/index.ts";
import { every } from "../schemas/scheduler-time.ts";
import { msToNs } from "../schemas/time.ts";
import { compressionReady, compressor, type Compression } from "./compression.ts";
import { fileSink, type ByteSink } from "./io.ts";
import { McapFileWriter, type ChunkStats } from "./mcap-file-writer.ts";
import { sealFile, type RecordingSigner } from "./signature.ts";

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

/** The recorder's state, reported through `onStatus` when it changes. */
export interface RecorderStatus {
  state: "ok" | "failed";
  /** What went wrong (failed), e.g. "ENOSPC: no space left on device". */
  reason?: string;
  /** The error code when there is one (ENOSPC, EIO, low_space, open_failed, ...). */
  code?: string;
  /** The file given up (failed), or the new file written to (ok again). */
  file?: string;
  /** Messages dropped or lost since the recorder started. */
  dropped: number;
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
  /** After a failure, try again in a new file every `intervalNs` of log time (default: a failure is final). */
  retry?: { intervalNs: bigint };
  /**
   * Asked before each file is opened and after each chunk: a reason (e.g. "12 MB free, below the 512 MB
   * minimum") stops writing as a failure with code `low_space` — the open file is closed properly first.
   */
  checkSpace?: () => string | undefined;
  /** Each change of state (ok → failed, failed → ok), once. */
  onStatus?: (status: RecorderStatus) => void;
  /** Signs each file as it is closed (Ed25519; replay/signature.ts). */
  signer?: RecordingSigner;
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
  /** The current failure (retrying) or the first one (no retry), if the disk failed. */
  error?: string;
  /** "failed" while nothing is being written. */
  state: "ok" | "failed";
  /** Times writing failed (each failure episode once). */
  failures: number;
  /** Messages accepted into a file that was then given up (their chunk never reached the disk). */
  lost: number;
}

type FileSlot = {
  index: number;
  sink: Promise<ByteSink>;
  name?: string;
  /** A write failed: the rest of this file's bytes are not written. */
  broken?: boolean;
  /** Messages added to this file, and how many of them are known to be on the disk. */
  added: number;
  confirmed: number;
};
type WriteOp = { slot: FileSlot; bytes: Uint8Array; upTo?: number } | { slot: FileSlot; close: true };

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
  /** Log time of the last failure (retry mode), and of the last message seen. */
  private failedAtNs: bigint | undefined;
  private lastNs: bigint | undefined;
  /** Messages of the chunk being flushed (set only while flushChunk emits it). */
  private chunkMark: number | undefined;
  private failures = 0;
  private lost = 0;
  /** Inside a failure episode: from the first failure until a retry's first write reached the disk. */
  private episode: FusiondError | undefined;
  private readonly timer: Subscription | undefined;
  private readonly chunkBytes: number;
  private readonly chunkDurationNs: bigint;
  private readonly maxQueueBytes: number;
  private readonly codec: ProtoCodec;
  private readonly compress;
  private readonly names: Array<string | undefined> = [];
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
    const low = options.checkSpace?.();
    if (low) this.fail(undefined, new FusiondError("low_space", low));
    else this.openNext();
    if (options.scheduler) this.timer = every(options.scheduler, msToNs(options.flushIntervalMs ?? 1000), () => this.flushChunk());
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
    if (this.lastNs === undefined || input.receiveNs > this.lastNs) this.lastNs = input.receiveNs;
    if (this.failure && !this.closed) this.maybeRetry(input.receiveNs);
    if (this.closed || this.failure || !this.file || this.queued >= this.maxQueueBytes) return this.drop(input.topic);
    let file = this.current(input.receiveNs);
    if (!file) return this.drop(input.topic);
    const w = file.writer;
    if (w.openChunkMessages > 0 && input.receiveNs - w.openChunkStartNs >= this.chunkDurationNs) {
      if (this.options.deferChunkClose && this.options.scheduler) this.closeChunkSoon(this.options.scheduler);
      else {
        this.flushChunk();
        file = this.current(input.receiveNs);
        if (!file) return this.drop(input.topic);
      }
    }
    const channelId = this.channel(file, input.topic, input.type);
    const sequence = (file.sequences.get(channelId) ?? 0) + 1;
    file.sequences.set(channelId, sequence);
    file.writer.addMessage({ channelId, sequence, logTime: input.receiveNs, publishTime: input.stampNs, data: input.bytes });
    file.firstNs ??= input.receiveNs;
    file.slot.added++;
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
    if (this.closed || this.failure || !this.file) return;
    this.currentFile().writer.addMetadata(name, toMap(redactMetadataValues(values)));
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
    this.chunkMark = file.slot.added;
    const stats = file.writer.flushChunk();
    this.chunkMark = undefined;
    if (stats) {
      this.stat.chunks++;
      this.onChunk?.(stats);
      const low = this.options.checkSpace?.();
      if (low) {
        // Stop while the file can still be closed properly, before the disk is full.
        this.endFile();
        this.fail(undefined, new FusiondError("low_space", low));
      }
    }
  }

  /** Closes the open chunk and waits until everything queued so far is on the disk. */
  async flush(): Promise<void> {
    this.flushChunk();
    await this.drain();
    if (this.failure && !this.options.retry) throw this.failure;
  }

  /**
   * Closes the open chunk, writes the summary and indexes, closes the file and waits for the disk.
   * Idempotent. Rejects with the first write error, if any.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.timer?.unsubscribe();
      this.closeDue?.unsubscribe();
      this.endFile();
      this.closed = true;
      await this.drain();
      if (this.failure && !this.options.retry) throw this.failure;
    })();
    return this.closing;
  }

  stats(): RecorderStats {
    return {
      ...this.stat,
      dropped: { ...this.stat.dropped },
      bytesWritten: this.written,
      queuedBytes: this.queued,
      files: this.names.filter((n): n is string => n !== undefined),
      ...((this.failure ?? this.episode) ? { error: (this.failure ?? this.episode)!.message } : {}),
      state: this.failure || this.episode ? "failed" : "ok",
      failures: this.failures,
      lost: this.lost,
    };
  }

  private drop(topic: string): false {
    this.stat.droppedTotal++;
    this.stat.dropped[topic] = (this.stat.dropped[topic] ?? 0) + 1;
    return false;
  }

  /** The file to write a message stamped `receiveNs` into, rotating first if this one is full (none: failed). */
  private current(receiveNs: bigint): OpenFile | undefined {
    const file = this.file;
    if (!file) return undefined;
    const rotate = this.options.rotate;
    if (rotate && file.firstNs !== undefined) {
      const size = Number(file.writer.position) + file.writer.openChunkBytes;
      const tooBig = rotate.maxBytes !== undefined && size >= rotate.maxBytes;
      const tooLong = rotate.maxDurationNs !== undefined && receiveNs - file.firstNs >= rotate.maxDurationNs;
      if (tooBig || tooLong) {
        this.flushChunk();
        this.endFile();
        if (!this.failure) {
          const low = this.options.checkSpace?.();
          if (low) this.fail(undefined, new FusiondError("low_space", low));
          else this.openNext();
        }
      }
    }
    return this.file;
  }

  private currentFile(): OpenFile {
    if (!this.file) throw new FusiondError("recorder_closed", "recorder is closed");
    return this.file;
  }

  /** Ends the open file (summary, footer) and queues its close. */
  private endFile(): void {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    if (file.slot.broken) {
      this.enqueue({ slot: file.slot, close: true }); // only releases the handle
      return;
    }
    this.chunkMark = file.slot.added;
    file.writer.end();
    this.chunkMark = undefined;
    this.enqueue({ slot: file.slot, close: true });
  }

  /** Retry mode: once `retry.intervalNs` of log time has passed since the failure, starts a new file. */
  private maybeRetry(nowNs: bigint): void {
    const retry = this.options.retry;
    if (!retry || this.failedAtNs === undefined || nowNs - this.failedAtNs < retry.intervalNs) return;
    if (this.pumping) return; // the failed file's last operations are still draining
    const low = this.options.checkSpace?.();
    if (low) {
      this.failedAtNs = nowNs;
      if (this.failure?.message !== low) this.failure = new FusiondError("low_space", low);
      return;
    }
    // Optimistic: the new file takes messages at once; if its first write fails, the recorder fails again.
    this.failure = undefined;
    this.failedAtNs = undefined;
    this.openNext();
    this.recovering = this.file!.slot;
  }

  /** The slot opened by a retry, until its first write succeeds (then the recorder is ok again). */
  private recovering: FileSlot | undefined;

  private openNext(): void {
    const index = this.fileCount++;
    const slot: FileSlot = { index, sink: Promise.resolve().then(() => this.options.open(index)), added: 0, confirmed: 0 };
    slot.sink.then(
      (s) => {
        slot.name = s.name;
        this.names[index] = s.name;
      },
      () => undefined,
    );
    const writer = new McapFileWriter({
      ...sealFile(this.options.signer, (bytes) => this.enqueue({ slot, bytes })),
      library: this.options.library ?? "fusiond",
      ...(this.compress ? { compress: this.compress } : {}),
    });
    this.file = { slot, writer, channels: new Map(), schemas: new Map(), sequences: new Map(), firstNs: undefined };
    // Secrets (mqtt.password in a config, URL userinfo, tokens) never reach the file: schemas/redact.ts.
    if (this.options.metadata) writer.addMetadata("fusiond", toMap(redactMetadataValues(this.options.metadata)));
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
    if ("bytes" in op) {
      this.queued += op.bytes.length;
      if (this.chunkMark !== undefined) op.upTo = this.chunkMark;
    }
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
      if (!sink || op.slot.broken) {
        if ("bytes" in op) this.queued -= op.bytes.length;
        // A broken file's handle is still released (its bytes so far stay, as after a crash); one that
        // holds no message on the disk (e.g. a retry whose first chunk failed) is removed, not left as litter.
        if (sink && "close" in op) {
          if (op.slot.confirmed === 0 && sink.discard) {
            await sink.discard().catch(() => undefined);
            this.names[op.slot.index] = undefined;
          } else await sink.close().catch(() => undefined);
        }
        continue;
      }
      if ("close" in op) {
        await sink.close().catch((err: unknown) => this.fail(op!.slot, err));
        continue;
      }
      // Small pieces (headers, metadata, small chunks) are joined into one write; a big chunk goes alone.
      const batch = [op.bytes];
      let size = op.bytes.length;
      let upTo = op.upTo;
      for (let next = this.queue[0]; next && "bytes" in next && next.slot === op.slot && size + next.bytes.length <= BATCH_BYTES; next = this.queue[0]) {
        batch.push(next.bytes);
        size += next.bytes.length;
        if (next.upTo !== undefined) upTo = next.upTo;
        this.queue.shift();
      }
      const bytes = batch.length > 1 ? concat(batch) : op.bytes;
      try {
        await sink.write(bytes);
        this.written += bytes.length;
        if (upTo !== undefined && upTo > op.slot.confirmed) op.slot.confirmed = upTo;
        if (this.recovering === op.slot && upTo !== undefined) {
          this.recovering = undefined;
          this.episode = undefined;
          this.options.onStatus?.({ state: "ok", ...(op.slot.name ? { file: op.slot.name } : {}), dropped: this.stat.droppedTotal + this.lost });
        }
      } catch (err) {
        this.fail(op.slot, err);
      }
      this.queued -= bytes.length;
    }
  }

  /**
   * Writing failed: on `slot` (a write or an open), or before any file (`slot` undefined: too little space).
   * The slot is given up; its messages not yet on the disk are counted as lost. Reported once per episode.
   */
  private fail(slot: FileSlot | undefined, err: unknown): undefined {
    if (slot && !slot.broken) {
      slot.broken = true;
      this.lost += slot.added - slot.confirmed;
      if (this.recovering === slot) this.recovering = undefined;
      if (this.file?.slot === slot) {
        this.file = undefined; // its open chunk is lost with it
        this.enqueue({ slot, close: true }); // releases the handle
      }
    }
    const code = err instanceof FusiondError ? err.code : ((err as NodeJS.ErrnoException)?.code ?? "write_failed");
    const error =
      err instanceof FusiondError
        ? err
        : new FusiondError(code, `${slot?.name ?? `output #${slot?.index ?? 0}`}: write failed: ${(err as Error).message}`, { file: slot?.name }, { cause: err });
    const first = this.episode === undefined;
    this.episode ??= error;
    if (!this.options.retry) this.failure ??= error;
    else {
      this.failure = error;
      this.failedAtNs = this.lastNs ?? 0n;
    }
    if (first) {
      this.failures++;
      this.options.onStatus?.({ state: "failed", reason: error.message, code, ...(slot?.name ? { file: slot.name } : {}), dropped: this.stat.droppedTotal + this.lost });
    }
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
  // Without rotation the first file is exactly `path`; a file started after a failure (retry) is numbered.
  return McapRecorder.create({ ...options, open: (i) => fileSink(outputPath(path, i, rotating || i > 0)) });
}
