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
 * - The pool and its policies are domain/worker-pool.ts's WorkerPool, shared with the simulator's encode pool:
 *   at most one job per worker in flight and `maxQueued` waiting, a frame arriving to a full queue displacing
 *   the oldest waiting one (a newer frame of a camera is worth more), which resolves as dropped; a worker that
 *   dies fails its one job (`worker_failed`) and is replaced, but not after 5 failures in a row, and with none
 *   left the pool works inline; `close()` resolves waiting jobs as `closed`, lets the ones in flight finish (up
 *   to `closeTimeoutMs`), then terminates the workers. Never throws, never rejects: every outcome is a value.
 *   Drops, rejections (by code), copies and transfers are counted in `stats()`.
 */
import { ownsItsBuffer, WorkerPool, type WorkerPoolDrop, type WorkerPoolOutcome, type WorkerPoolStats } from "../../domain/worker-pool.ts";
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

export type PoolDrop = WorkerPoolDrop;

type Extracted = { ok: true; features: CameraFeatures; inline: boolean };

export type PoolOutcome = WorkerPoolOutcome<Extracted>;

/** The pool's counts (submitted, dropped by reason, queued, in flight, worker restarts) and the features'. */
export interface CameraPoolStats extends WorkerPoolStats {
  /** Jobs that produced features (present or rejected), inline or in a worker. */
  completed: number;
  inline: number;
  rejected: Record<CameraRejectCode, number>;
  /** Bytes handed to workers by transferring their ArrayBuffer, and by copying. */
  transferredBytes: number;
  copiedBytes: number;
}

/** A frame for a worker: the fields the features read, and whether its bytes may be moved rather than copied. */
interface FrameJob {
  frame: CameraFrame;
  transfer: boolean;
}

export class CameraFeaturePool {
  private readonly pool: WorkerPool<FrameJob, CameraJob, CameraJobResult, Extracted>;
  private readonly inlineMaxPixels: number;
  private readonly limits: CameraDecodeLimits;
  private readonly counts: Pick<CameraPoolStats, "completed" | "inline" | "rejected" | "transferredBytes" | "copiedBytes">;

  constructor(private readonly o: CameraPoolOptions) {
    this.inlineMaxPixels = o.inlineMaxPixels ?? 128 * 128;
    this.limits = o.limits ?? DEFAULT_CAMERA_LIMITS;
    this.counts = {
      completed: 0,
      inline: 0,
      rejected: Object.fromEntries(CAMERA_REJECT_CODES.map((c) => [c, 0])) as Record<CameraRejectCode, number>,
      transferredBytes: 0,
      copiedBytes: 0,
    };
    this.pool = new WorkerPool<FrameJob, CameraJob, CameraJobResult, Extracted>({
      workerUrl: o.workerUrl ?? new URL("./camera-worker.js", import.meta.url),
      workerOptions: { workerData: { config: o.config, limits: this.limits } },
      workers: o.workers ?? 1,
      maxQueued: o.maxQueued ?? 4,
      closeTimeoutMs: o.closeTimeoutMs ?? 2000,
      names: { pool: "camera pool", queue: "camera pool queue", worker: "camera worker", item: "frame" },
      post: (job, id) => {
        const data = job.frame.data;
        const owns = job.transfer && ownsItsBuffer(data);
        // A copy of exactly its bytes: new Uint8Array(view), never view.slice() — on a Node Buffer (what protobufjs
        // decodes bytes fields into) slice() is a view, and transferring its buffer would detach the caller's bytes
        // (the recorder's payload, and every other message sharing Node's slab).
        const sent = owns ? data : new Uint8Array(data);
        if (owns) this.counts.transferredBytes += data.byteLength;
        else this.counts.copiedBytes += data.byteLength;
        const message: CameraJob = { id, msg: { ...job.frame, data: sent } };
        return { message, transfer: [sent.buffer as ArrayBuffer] };
      },
      reply: (r) => {
        const features: CameraFeatures = { present: r.present, patches: r.patches, ...(r.rejection ? { rejection: r.rejection, problem: r.rejection.reason } : {}) };
        return this.done(features, false);
      },
      // Only reached for the frames waiting when the last worker is given up (extract() does the rest inline
      // itself): done on this thread too, and counted so (as the encode pool counts its own).
      inline: (job) => {
        this.counts.inline++;
        return this.done(cameraFeatures({ ...job.frame }, o.config, this.limits), true);
      },
    });
  }

  /**
   * Camera features of one frame. With `transfer`, a `data` that owns its whole ArrayBuffer is moved to
   * the worker and is detached (length 0) here afterwards: pass it only when nothing else reads the frame.
   */
  extract(msg: CameraImage, opts: { transfer?: boolean } = {}): Promise<PoolOutcome> {
    const data = msg.data;
    if (!(data instanceof Uint8Array) || this.pool.workers === 0 || this.pixelsOf(msg, data) <= this.inlineMaxPixels) {
      return this.pool.runInline(() => {
        this.counts.inline++;
        return this.done(cameraFeatures(msg, this.o.config, this.limits), true);
      });
    }
    const frame: CameraFrame = { data };
    for (const k of ["format", "encoding", "width", "height", "step"] as const) {
      const v = (msg as Encodable<CompressedImageMessage & RawImageMessage>)[k]; // whichever of the two types has k
      if (typeof v === "string" || typeof v === "number") (frame as unknown as Record<string, unknown>)[k] = v;
    }
    return this.pool.submit({ frame, transfer: opts.transfer === true });
  }

  /** The feature config the features are computed in. */
  get config(): FeatureConfig {
    return this.o.config;
  }

  stats(): CameraPoolStats {
    const p = this.pool.stats();
    const c = this.counts;
    return {
      submitted: p.submitted,
      completed: c.completed,
      inline: c.inline,
      rejected: { ...c.rejected },
      dropped: p.dropped,
      queued: p.queued,
      inFlight: p.inFlight,
      transferredBytes: c.transferredBytes,
      copiedBytes: c.copiedBytes,
      workerRestarts: p.workerRestarts,
    };
  }

  /** Drains: waiting jobs resolve as closed, jobs in flight finish (bounded wait), workers end. Idempotent. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private pixelsOf(msg: CameraImage, data: Uint8Array): number {
    if ("encoding" in msg && typeof msg.encoding === "string") return Number(msg.width ?? 0) * Number(msg.height ?? 0);
    const png = String(("format" in msg ? msg.format : undefined) ?? "").toLowerCase().endsWith("png");
    const head = png ? readPngHeader(data) : readJpegHeader(data);
    // Unreadable headers are rejected inline at once: nothing to decode.
    return head.ok ? head.header.width * head.header.height : 0;
  }

  private done(features: CameraFeatures, inline: boolean): Extracted {
    this.counts.completed++;
    if (features.rejection) this.counts.rejected[features.rejection.code]++;
    return { ok: true, features, inline };
  }
}
