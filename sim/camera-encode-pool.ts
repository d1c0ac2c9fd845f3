/**
 * The simulator's camera encoding off its main thread (live mode, issue 16): worker threads running
 * encodeCameraJob (sensors/camera-encode.ts), so that a step's radar, ego and GNSS messages leave on time while
 * its camera set is encoded (4 × 1280×720: ~3.6 ms of CPU a set; the renderings, ~0.9 ms, stay with the
 * episode, which owns the world and the random draws). The bytes are those of the inline encoder: the workers
 * run the same pure function on the same job.
 *
 * The pool and its policies are domain/worker-pool.ts's WorkerPool, shared with the daemon's decode pool
 * (fusion/features/camera-pool.ts, which sim/ may not import): a bounded queue where a new frame displaces the
 * oldest waiting one (dropped, counted); a worker that dies fails its one frame and is replaced, but not after 5
 * failures in a row (with no worker left, frames are encoded inline); a draining `close()`; every outcome a value.
 * This file's are the encode job and its messages, the rendering's transfer and the counts of frames encoded.
 */
import { ownsItsBuffer, WorkerPool, type WorkerPoolDrop, type WorkerPoolOutcome, type WorkerPoolStats } from "../domain/worker-pool.ts";
import { encodeCameraJob, type CameraEncodeJob } from "./sensors/camera-encode.ts";

export interface EncodeRequest {
  id: number;
  job: CameraEncodeJob;
}

export interface EncodeResult {
  id: number;
  data: Uint8Array;
}

export interface CameraEncodePoolOptions {
  /** Worker threads (default 1: a 4 × 1280×720 set at 20 Hz takes ~7% of one core). */
  workers?: number;
  /** Jobs waiting for a worker beyond those in flight (default 8: two sets of four). */
  maxQueued?: number;
  /** How long close() waits for jobs in flight, ms (default 2000). */
  closeTimeoutMs?: number;
  /** The worker entry (tests); default ./camera-encode-worker.js. */
  workerUrl?: URL;
}

export type EncodeDrop = WorkerPoolDrop;

type Encoded = { ok: true; data: Uint8Array; inline: boolean };

export type EncodeOutcome = WorkerPoolOutcome<Encoded>;

/** The pool's counts (submitted, dropped by reason, queued, in flight, worker restarts) and the frames encoded. */
export interface CameraEncodePoolStats extends WorkerPoolStats {
  encoded: number;
  /** Encoded on the calling thread (no worker left). */
  inline: number;
}

export class CameraEncodePool {
  private readonly pool: WorkerPool<CameraEncodeJob, EncodeRequest, EncodeResult, Encoded>;
  private readonly counts = { encoded: 0, inline: 0 };

  constructor(o: CameraEncodePoolOptions = {}) {
    this.pool = new WorkerPool<CameraEncodeJob, EncodeRequest, EncodeResult, Encoded>({
      workerUrl: o.workerUrl ?? new URL("./camera-encode-worker.js", import.meta.url),
      workers: o.workers ?? 1,
      maxQueued: o.maxQueued ?? 8,
      closeTimeoutMs: o.closeTimeoutMs ?? 2000,
      names: { pool: "camera encoding pool", queue: "camera encoding queue", worker: "camera encoding worker", item: "frame" },
      post: (job, id) => {
        // Transfer the rendering when the array is its whole buffer (CameraSet's copies are); else copy its bytes.
        const sent = ownsItsBuffer(job.rgba) ? job.rgba : new Uint8Array(job.rgba);
        const message: EncodeRequest = { id, job: { ...job, rgba: sent } };
        return { message, transfer: [sent.buffer as ArrayBuffer] };
      },
      reply: (r) => {
        this.counts.encoded++;
        return { ok: true, data: r.data, inline: false };
      },
      inline: (job) => {
        this.counts.inline++;
        this.counts.encoded++;
        return { ok: true, data: encodeCameraJob(job), inline: true };
      },
    });
  }

  /**
   * The JPEG of one job. The job's `rgba` is transferred to the worker (detached here afterwards): pass a
   * rendering nothing else reads (CameraSet's deferred jobs are copies).
   */
  encode(job: CameraEncodeJob): Promise<EncodeOutcome> {
    return this.pool.submit(job);
  }

  /** Encodes `jobs` one after another and waits for them (before a clock starts: the workers' JIT warms up). */
  async warmUp(jobs: readonly CameraEncodeJob[]): Promise<void> {
    for (const job of jobs) await this.encode(job);
  }

  stats(): CameraEncodePoolStats {
    const p = this.pool.stats();
    return { submitted: p.submitted, encoded: this.counts.encoded, inline: this.counts.inline, dropped: p.dropped, workerRestarts: p.workerRestarts, queued: p.queued, inFlight: p.inFlight };
  }

  /** Drains: waiting jobs resolve as closed, jobs in flight finish (bounded wait), workers end. Idempotent. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
