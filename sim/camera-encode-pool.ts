/**
 * The simulator's camera encoding off its main thread (live mode, issue 16): worker threads running
 * encodeCameraJob (sensors/camera-encode.ts), so that a step's radar, ego and GNSS messages leave on time while
 * its camera set is encoded (4 × 1280×720: ~3.6 ms of CPU a set; the renderings, ~0.9 ms, stay with the
 * episode, which owns the world and the random draws). The bytes are those of the inline encoder: the workers
 * run the same pure function on the same job.
 *
 * The policies are those of the daemon's decode pool (fusion/features/camera-pool.ts, which sim/ may not import):
 * - Bounded: at most one job per worker in flight and `maxQueued` waiting; a job arriving to a full queue
 *   displaces the oldest waiting one (a newer frame is worth more), which resolves as dropped. Counted.
 * - A worker that dies fails its one job (`worker_failed`) and is replaced; after 5 failures in a row with no
 *   job done between them none is replaced, and with no worker left jobs are encoded inline.
 * - `close()` resolves waiting jobs as `closed`, lets the ones in flight finish (up to `closeTimeoutMs`), then
 *   terminates the workers. Never throws, never rejects: every outcome is a value.
 */
import { Worker } from "node:worker_threads";
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

export type EncodeDrop = "queue_full" | "closed" | "worker_failed";

export type EncodeOutcome = { ok: true; data: Uint8Array; inline: boolean } | { ok: false; dropped: EncodeDrop; reason: string };

export interface CameraEncodePoolStats {
  submitted: number;
  encoded: number;
  /** Encoded on the calling thread (no worker left). */
  inline: number;
  dropped: Record<EncodeDrop, number>;
  queued: number;
  inFlight: number;
  workerRestarts: number;
}

interface Pending {
  id: number;
  job: CameraEncodeJob;
  resolve: (o: EncodeOutcome) => void;
}

interface Slot {
  worker: Worker;
  job: Pending | undefined;
}

const MAX_FAILURES_IN_A_ROW = 5;

export class CameraEncodePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly maxQueued: number;
  private readonly workerUrl: URL;
  private nextId = 1;
  private closing = false;
  private failuresInARow = 0;
  private readonly counts = { submitted: 0, encoded: 0, inline: 0, dropped: { queue_full: 0, closed: 0, worker_failed: 0 }, workerRestarts: 0 };

  constructor(private readonly o: CameraEncodePoolOptions = {}) {
    this.maxQueued = Math.max(0, o.maxQueued ?? 8);
    this.workerUrl = o.workerUrl ?? new URL("./camera-encode-worker.js", import.meta.url);
    const n = Math.max(1, o.workers ?? 1);
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  /**
   * The JPEG of one job. The job's `rgba` is transferred to the worker (detached here afterwards): pass a
   * rendering nothing else reads (CameraSet's deferred jobs are copies).
   */
  encode(job: CameraEncodeJob): Promise<EncodeOutcome> {
    this.counts.submitted++;
    if (this.closing) return Promise.resolve(this.drop("closed", "the camera encoding pool is closed"));
    if (this.slots.length === 0) return Promise.resolve(this.inline(job));
    return new Promise<EncodeOutcome>((resolve) => {
      const p: Pending = { id: this.nextId++, job, resolve };
      const idle = this.slots.find((s) => !s.job);
      if (idle) return this.run(idle, p);
      if (this.queue.length >= this.maxQueued) {
        const oldest = this.queue.shift();
        if (!oldest) return resolve(this.drop("queue_full", "camera encoding queue is full (no queue configured)"));
        oldest.resolve(this.drop("queue_full", `camera encoding queue full (${this.maxQueued} waiting): a newer frame displaced this one`));
      }
      this.queue.push(p);
    });
  }

  /** Encodes `jobs` one after another and waits for them (before a clock starts: the workers' JIT warms up). */
  async warmUp(jobs: readonly CameraEncodeJob[]): Promise<void> {
    for (const job of jobs) await this.encode(job);
  }

  stats(): CameraEncodePoolStats {
    return { ...this.counts, dropped: { ...this.counts.dropped }, queued: this.queue.length, inFlight: this.slots.filter((s) => s.job).length };
  }

  /** Drains: waiting jobs resolve as closed, jobs in flight finish (bounded wait), workers end. Idempotent. */
  async close(): Promise<void> {
    if (this.closing && this.slots.length === 0) return;
    this.closing = true;
    for (const p of this.queue.splice(0)) p.resolve(this.drop("closed", "the camera encoding pool closed before this frame's turn"));
    const deadline = Date.now() + (this.o.closeTimeoutMs ?? 2000);
    while (this.slots.some((s) => s.job) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.job?.resolve(this.drop("closed", "the camera encoding pool closed while this frame was in a worker"));
      s.job = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private spawn(): Slot {
    const worker = new Worker(this.workerUrl);
    worker.unref();
    const slot: Slot = { worker, job: undefined };
    worker.on("message", (r: EncodeResult) => {
      const p = slot.job;
      if (!p || p.id !== r.id) return;
      slot.job = undefined;
      worker.unref();
      this.failuresInARow = 0;
      this.counts.encoded++;
      p.resolve({ ok: true, data: r.data, inline: false });
      this.next(slot);
    });
    const fail = (why: string): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // closed, or already replaced
      const p = slot.job;
      slot.job = undefined;
      p?.resolve(this.drop("worker_failed", `camera encoding worker failed: ${why}`));
      void worker.terminate().catch(() => 0);
      if (this.closing || ++this.failuresInARow > MAX_FAILURES_IN_A_ROW) {
        this.slots.splice(i, 1);
        // With no worker left, what waits is encoded inline rather than left to stall.
        if (this.slots.length === 0) for (const q of this.queue.splice(0)) q.resolve(this.inline(q.job));
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

  private run(slot: Slot, p: Pending): void {
    slot.job = p;
    slot.worker.ref();
    const rgba = p.job.rgba;
    // Transfer the rendering when the array is its whole buffer (CameraSet's copies are); else copy its bytes.
    const sent = rgba.byteOffset === 0 && rgba.byteLength === rgba.buffer.byteLength && rgba.buffer instanceof ArrayBuffer ? rgba : new Uint8Array(rgba);
    const req: EncodeRequest = { id: p.id, job: { ...p.job, rgba: sent } };
    slot.worker.postMessage(req, [sent.buffer as ArrayBuffer]);
  }

  private next(slot: Slot): void {
    const p = this.queue.shift();
    if (p) this.run(slot, p);
  }

  private inline(job: CameraEncodeJob): EncodeOutcome {
    this.counts.inline++;
    this.counts.encoded++;
    return { ok: true, data: encodeCameraJob(job), inline: true };
  }

  private drop(why: EncodeDrop, reason: string): EncodeOutcome {
    this.counts.dropped[why]++;
    return { ok: false, dropped: why, reason };
  }
}
