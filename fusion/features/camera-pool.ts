/**
 * Camera features off the main thread: a bounded pool of worker threads (node:worker_threads) running
 * `cameraFeatures` (camera.ts), for the daemon, whose main thread must stay free for alignment and
 * decisions while 1–8 MP frames are decoded. Replay and training keep calling `cameraFeatures` directly:
 * the pool gives the same patches, bit for bit (a test compares them), because the workers run that code.
 *
 * - Small frames (up to `inlineMaxPixels`, e.g. the simulator's 64×64) are done inline: a thread hop
 *   costs more than their decode.
 * - Frames are handed over without a copy where they can be: with `transfer: true` and a `data` that is
 *   its whole ArrayBuffer (not a slice of a socket's or Buffer's pool), the ArrayBuffer is transferred and
 *   the caller's `data` is detached afterwards. Otherwise exactly the frame's bytes are copied once (never
 *   the whole backing buffer, which structured cloning of a view would copy). Both are counted.
 * - Bounded: at most one job per worker in flight and `maxQueued` waiting; a frame arriving to a full
 *   queue displaces the oldest waiting one (a newer frame of a camera is worth more), which resolves as
 *   dropped. Drops, rejections (by code), copies and transfers are counted in `stats()`.
 * - A worker that dies fails its one job (`worker_failed`) and is replaced; after 5 failures in a row with
 *   no job done between them the pool stops replacing workers, and with none left it works inline.
 * - `close()` resolves waiting jobs as `closed`, lets the ones in flight finish (up to `closeTimeoutMs`),
 *   then terminates the workers. Never throws, never rejects: every outcome is a value.
 */
import { Worker } from "node:worker_threads";
import type { CompressedImageMessage, Encodable, RawImageMessage } from "../../schemas/index.ts";
import { CAMERA_REJECT_CODES, DEFAULT_CAMERA_LIMITS, type CameraDecodeLimits, type CameraImage, type CameraRejectCode } from "./camera-decode.ts";
import type { CameraFrame, CameraJob, CameraJobResult } from "./camera-pool-protocol.ts";
import { cameraFeatures, type CameraFeatures } from "./camera.ts";
import type { FeatureConfig } from "./config.ts";
import { readJpegHeader, readPngHeader } from "./image-header.ts";

export interface CameraPoolOptions {
  config: FeatureConfig;
  limits?: CameraDecodeLimits;
  /** Worker threads (default 1). */
  workers?: number;
  /** Jobs waiting for a worker, beyond those in flight (default 4). */
  maxQueued?: number;
  /** Frames up to this many pixels are done inline on the calling thread (default 128×128). */
  inlineMaxPixels?: number;
  /** How long close() waits for jobs in flight before terminating the workers, ms (default 2000). */
  closeTimeoutMs?: number;
  /** The worker entry (tests); default ./camera-worker.js. */
  workerUrl?: URL;
}

export type PoolDrop = "queue_full" | "closed" | "worker_failed";

export type PoolOutcome = { ok: true; features: CameraFeatures; inline: boolean } | { ok: false; dropped: PoolDrop; reason: string };

export interface CameraPoolStats {
  submitted: number;
  /** Jobs that produced features (present or rejected), inline or in a worker. */
  completed: number;
  inline: number;
  rejected: Record<CameraRejectCode, number>;
  dropped: Record<PoolDrop, number>;
  queued: number;
  inFlight: number;
  /** Bytes handed to workers by transferring their ArrayBuffer, and by copying. */
  transferredBytes: number;
  copiedBytes: number;
  workerRestarts: number;
}

interface Pending {
  id: number;
  frame: CameraFrame;
  transfer: boolean;
  resolve: (o: PoolOutcome) => void;
}

interface Slot {
  worker: Worker;
  job: Pending | undefined;
}

const MAX_FAILURES_IN_A_ROW = 5;

export class CameraFeaturePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly maxQueued: number;
  private readonly inlineMaxPixels: number;
  private readonly limits: CameraDecodeLimits;
  private readonly workerUrl: URL;
  private nextId = 1;
  private closing = false;
  private failuresInARow = 0;
  private readonly counts: CameraPoolStats;

  constructor(private readonly o: CameraPoolOptions) {
    this.maxQueued = Math.max(0, o.maxQueued ?? 4);
    this.inlineMaxPixels = o.inlineMaxPixels ?? 128 * 128;
    this.limits = o.limits ?? DEFAULT_CAMERA_LIMITS;
    this.workerUrl = o.workerUrl ?? new URL("./camera-worker.js", import.meta.url);
    this.counts = {
      submitted: 0,
      completed: 0,
      inline: 0,
      rejected: Object.fromEntries(CAMERA_REJECT_CODES.map((c) => [c, 0])) as Record<CameraRejectCode, number>,
      dropped: { queue_full: 0, closed: 0, worker_failed: 0 },
      queued: 0,
      inFlight: 0,
      transferredBytes: 0,
      copiedBytes: 0,
      workerRestarts: 0,
    };
    const n = Math.max(1, o.workers ?? 1);
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  /**
   * Camera features of one frame. With `transfer`, a `data` that owns its whole ArrayBuffer is moved to
   * the worker and is detached (length 0) here afterwards: pass it only when nothing else reads the frame.
   */
  extract(msg: CameraImage, opts: { transfer?: boolean } = {}): Promise<PoolOutcome> {
    this.counts.submitted++;
    if (this.closing) return Promise.resolve(this.drop("closed", "the camera pool is closed"));
    const data = msg.data;
    if (!(data instanceof Uint8Array) || this.slots.length === 0 || this.pixelsOf(msg, data) <= this.inlineMaxPixels) {
      this.counts.inline++;
      return Promise.resolve(this.done(cameraFeatures(msg, this.o.config, this.limits), true));
    }
    const frame: CameraFrame = { data };
    for (const k of ["format", "encoding", "width", "height", "step"] as const) {
      const v = (msg as Encodable<CompressedImageMessage & RawImageMessage>)[k]; // whichever of the two types has k
      if (typeof v === "string" || typeof v === "number") (frame as unknown as Record<string, unknown>)[k] = v;
    }
    return new Promise<PoolOutcome>((resolve) => {
      const job: Pending = { id: this.nextId++, frame, transfer: opts.transfer === true, resolve };
      const idle = this.slots.find((s) => !s.job);
      if (idle) return this.run(idle, job);
      if (this.queue.length >= this.maxQueued) {
        const oldest = this.queue.shift();
        if (!oldest) return resolve(this.drop("queue_full", "camera pool queue is full (no queue configured)"));
        oldest.resolve(this.drop("queue_full", `camera pool queue full (${this.maxQueued} waiting): a newer frame displaced this one`));
      }
      this.queue.push(job);
      this.counts.queued = this.queue.length;
    });
  }

  /** The feature config the features are computed in. */
  get config(): FeatureConfig {
    return this.o.config;
  }

  stats(): CameraPoolStats {
    return { ...this.counts, rejected: { ...this.counts.rejected }, dropped: { ...this.counts.dropped }, queued: this.queue.length, inFlight: this.slots.filter((s) => s.job).length };
  }

  /** Drains: waiting jobs resolve as closed, jobs in flight finish (bounded wait), workers end. Idempotent. */
  async close(): Promise<void> {
    if (this.closing && this.slots.length === 0) return;
    this.closing = true;
    for (const job of this.queue.splice(0)) job.resolve(this.drop("closed", "the camera pool closed before this frame's turn"));
    const deadline = Date.now() + (this.o.closeTimeoutMs ?? 2000);
    while (this.slots.some((s) => s.job) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.job?.resolve(this.drop("closed", "the camera pool closed while this frame was in a worker"));
      s.job = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private pixelsOf(msg: CameraImage, data: Uint8Array): number {
    if ("encoding" in msg && typeof msg.encoding === "string") return Number(msg.width ?? 0) * Number(msg.height ?? 0);
    const png = String(("format" in msg ? msg.format : undefined) ?? "").toLowerCase().endsWith("png");
    const head = png ? readPngHeader(data) : readJpegHeader(data);
    // Unreadable headers are rejected inline at once: nothing to decode.
    return head.ok ? head.header.width * head.header.height : 0;
  }

  private spawn(): Slot {
    const worker = new Worker(this.workerUrl, { workerData: { config: this.o.config, limits: this.limits } });
    worker.unref();
    const slot: Slot = { worker, job: undefined };
    worker.on("message", (r: CameraJobResult) => {
      const job = slot.job;
      if (!job || job.id !== r.id) return;
      slot.job = undefined;
      worker.unref();
      this.failuresInARow = 0;
      const features: CameraFeatures = { present: r.present, patches: r.patches, ...(r.rejection ? { rejection: r.rejection, problem: r.rejection.reason } : {}) };
      job.resolve(this.done(features, false));
      this.next(slot);
    });
    const fail = (why: string): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // closed, or already replaced
      const job = slot.job;
      slot.job = undefined;
      job?.resolve(this.drop("worker_failed", `camera worker failed: ${why}`));
      void worker.terminate().catch(() => 0);
      if (this.closing || ++this.failuresInARow > MAX_FAILURES_IN_A_ROW) {
        this.slots.splice(i, 1);
        // With no worker left, what waits is done inline rather than left to stall.
        if (this.slots.length === 0) for (const j of this.queue.splice(0)) j.resolve(this.done(cameraFeatures({ ...j.frame }, this.o.config, this.limits), true));
        return;
      }
      this.counts.workerRestarts++;
      const fresh = this.spawn();
      this.slots[i] = fresh;
      this.next(fresh);
    };
    worker.on("error", (err) => fail(err.message));
    worker.on("exit", (code) => fail(`exited with code ${code}`));
    return slot;
  }

  private run(slot: Slot, job: Pending): void {
    slot.job = job;
    slot.worker.ref();
    const data = job.frame.data;
    const owns = job.transfer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    // A copy of exactly its bytes: new Uint8Array(view), never view.slice() — on a Node Buffer (what protobufjs
    // decodes bytes fields into) slice() is a view, and transferring its buffer would detach the caller's bytes
    // (the recorder's payload, and every other message sharing Node's slab).
    const sent = owns ? data : new Uint8Array(data);
    if (owns) this.counts.transferredBytes += data.byteLength;
    else this.counts.copiedBytes += data.byteLength;
    const msg: CameraJob = { id: job.id, msg: { ...job.frame, data: sent } };
    slot.worker.postMessage(msg, [sent.buffer as ArrayBuffer]);
  }

  private next(slot: Slot): void {
    const job = this.queue.shift();
    this.counts.queued = this.queue.length;
    if (job) this.run(slot, job);
  }

  private done(features: CameraFeatures, inline: boolean): PoolOutcome {
    this.counts.completed++;
    if (features.rejection) this.counts.rejected[features.rejection.code]++;
    return { ok: true, features, inline };
  }

  private drop(why: PoolDrop, reason: string): PoolOutcome {
    this.counts.dropped[why]++;
    return { ok: false, dropped: why, reason };
  }
}
