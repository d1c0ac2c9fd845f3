/**
 * A bounded pool of worker threads (node:worker_threads) whose every outcome is a value: the one mechanism
 * under the daemon's camera decoding (fusion/features/camera-pool.ts) and the simulator's camera encoding
 * (sim/camera-encode-pool.ts). It lives in domain/ because fusion/ and sim/ may not import each other; it is
 * not exported from domain/index.ts, which holds no I/O (import this file directly).
 *
 * The policies:
 * - Bounded: at most one job per worker in flight and `maxQueued` waiting; a job arriving to a full queue
 *   displaces the oldest waiting one (a newer frame is worth more), which resolves as dropped (`queue_full`).
 *   With `maxQueued: 0` the arriving job itself is dropped when every worker is busy.
 * - A worker that dies fails its one job (`worker_failed`) and is replaced; after 5 failures in a row with no
 *   job done between them none is replaced, and with no worker left jobs are done inline (the caller's
 *   `inline`), the waiting ones included, rather than left to stall.
 * - `close()` resolves waiting jobs as `closed`, lets the ones in flight finish (up to `closeTimeoutMs`), then
 *   terminates the workers; jobs submitted after it resolve as `closed`. Never throws, never rejects.
 * - Workers are unref'd while idle (an idle pool does not keep the process alive) and ref'd while busy.
 * - What a job posts, and which buffers it transfers rather than copies, is the caller's (`post`); so is what a
 *   reply, or the inline fallback, resolves as (`reply`, `inline`), and what those count.
 *
 * Hand-written rather than a dependency: piscina, the usual Node worker pool, rejects a task arriving to a full
 * queue (PISCINA_ERR_TASK_QUEUE_LIMIT) instead of displacing the oldest waiting one, and its documented options
 * offer no inline fallback.
 */
import { Worker, type Transferable, type WorkerOptions } from "node:worker_threads";

export type WorkerPoolDrop = "queue_full" | "closed" | "worker_failed";

export interface WorkerPoolDropped {
  ok: false;
  dropped: WorkerPoolDrop;
  reason: string;
}

/** The least a job done resolves as: the caller's value adds its result (`data`, `features`, …). */
export interface WorkerPoolDone {
  ok: true;
  /** Done on the calling thread (the caller's own inline path, or no worker left), not in a worker. */
  inline: boolean;
}

export type WorkerPoolOutcome<Done extends WorkerPoolDone> = Done | WorkerPoolDropped;

/** The nouns of the drop reasons, e.g. "camera pool", "camera pool queue", "camera worker", "frame". */
export interface WorkerPoolNames {
  pool: string;
  queue: string;
  worker: string;
  item: string;
}

export interface WorkerPoolOptions<Job, Request, Reply extends { id: number }, Done extends WorkerPoolDone> {
  workerUrl: URL;
  /** Passed to each `new Worker` (e.g. its `workerData`). */
  workerOptions?: WorkerOptions;
  /** Worker threads (at least 1 is started). */
  workers: number;
  /** Jobs waiting for a worker beyond those in flight (0: none wait). */
  maxQueued: number;
  /** How long close() waits for jobs in flight before terminating the workers, ms. */
  closeTimeoutMs: number;
  names: WorkerPoolNames;
  /** The message posted to a worker for a job (it must carry `id`), and what it transfers. */
  post(job: Job, id: number): { message: Request; transfer: Transferable[] };
  /** What a worker's reply to a job resolves as. */
  reply(reply: Reply, job: Job): Done;
  /** The job done on the calling thread: at submission when no worker is left, and for the jobs then waiting. */
  inline(job: Job): Done;
}

export interface WorkerPoolStats {
  /** Every submit() and runInline(), whatever became of it. */
  submitted: number;
  dropped: Record<WorkerPoolDrop, number>;
  queued: number;
  inFlight: number;
  workerRestarts: number;
}

/** True when `view` is the whole of its ArrayBuffer, which can then be transferred without taking anything else. */
export function ownsItsBuffer(view: ArrayBufferView): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer;
}

interface Pending<Job, Done extends WorkerPoolDone> {
  id: number;
  job: Job;
  resolve: (o: WorkerPoolOutcome<Done>) => void;
}

interface Slot<Job, Done extends WorkerPoolDone> {
  worker: Worker;
  job: Pending<Job, Done> | undefined;
}

const MAX_FAILURES_IN_A_ROW = 5;

export class WorkerPool<Job, Request, Reply extends { id: number }, Done extends WorkerPoolDone> {
  private readonly slots: Slot<Job, Done>[] = [];
  private readonly queue: Pending<Job, Done>[] = [];
  private readonly maxQueued: number;
  private readonly names: WorkerPoolNames;
  private nextId = 1;
  private closing = false;
  private failuresInARow = 0;
  private readonly counts = { submitted: 0, dropped: { queue_full: 0, closed: 0, worker_failed: 0 }, workerRestarts: 0 };

  constructor(private readonly o: WorkerPoolOptions<Job, Request, Reply, Done>) {
    this.maxQueued = Math.max(0, o.maxQueued);
    this.names = o.names;
    const n = Math.max(1, o.workers);
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  /** Workers alive (0 once close() has run, or after repeated failures: then jobs are done inline). */
  get workers(): number {
    return this.slots.length;
  }

  /** One job: in a worker, waiting for one, or inline when none is left; `closed` once close() has begun. */
  submit(job: Job): Promise<WorkerPoolOutcome<Done>> {
    this.counts.submitted++;
    if (this.closing) return Promise.resolve(this.drop("closed", `the ${this.names.pool} is closed`));
    if (this.slots.length === 0) return Promise.resolve(this.o.inline(job));
    return new Promise<WorkerPoolOutcome<Done>>((resolve) => {
      const p: Pending<Job, Done> = { id: this.nextId++, job, resolve };
      const idle = this.slots.find((s) => !s.job);
      if (idle) return this.run(idle, p);
      if (this.queue.length >= this.maxQueued) {
        const oldest = this.queue.shift();
        if (!oldest) return resolve(this.drop("queue_full", `${this.names.queue} is full (no queue configured)`));
        oldest.resolve(this.drop("queue_full", `${this.names.queue} full (${this.maxQueued} waiting): a newer ${this.names.item} displaced this one`));
      }
      this.queue.push(p);
    });
  }

  /**
   * A job the caller does on its own thread (one too small for a thread hop), counted as submitted: `run()`'s
   * value, or `closed` once close() has begun (then `run` is not called).
   */
  runInline(run: () => Done): Promise<WorkerPoolOutcome<Done>> {
    this.counts.submitted++;
    if (this.closing) return Promise.resolve(this.drop("closed", `the ${this.names.pool} is closed`));
    return Promise.resolve(run());
  }

  stats(): WorkerPoolStats {
    return { submitted: this.counts.submitted, dropped: { ...this.counts.dropped }, queued: this.queue.length, inFlight: this.slots.filter((s) => s.job).length, workerRestarts: this.counts.workerRestarts };
  }

  /** Drains: waiting jobs resolve as closed, jobs in flight finish (bounded wait), workers end. Idempotent. */
  async close(): Promise<void> {
    if (this.closing && this.slots.length === 0) return;
    this.closing = true;
    for (const p of this.queue.splice(0)) p.resolve(this.drop("closed", `the ${this.names.pool} closed before this ${this.names.item}'s turn`));
    const deadline = Date.now() + this.o.closeTimeoutMs;
    while (this.slots.some((s) => s.job) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.job?.resolve(this.drop("closed", `the ${this.names.pool} closed while this ${this.names.item} was in a worker`));
      s.job = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private spawn(): Slot<Job, Done> {
    const worker = new Worker(this.o.workerUrl, this.o.workerOptions);
    worker.unref();
    const slot: Slot<Job, Done> = { worker, job: undefined };
    worker.on("message", (r: Reply) => {
      const p = slot.job;
      if (!p || p.id !== r.id) return;
      slot.job = undefined;
      worker.unref();
      this.failuresInARow = 0;
      p.resolve(this.o.reply(r, p.job));
      this.next(slot);
    });
    const fail = (why: string): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // closed, or already replaced
      const p = slot.job;
      slot.job = undefined;
      p?.resolve(this.drop("worker_failed", `${this.names.worker} failed: ${why}`));
      void worker.terminate().catch(() => 0);
      if (this.closing || ++this.failuresInARow > MAX_FAILURES_IN_A_ROW) {
        this.slots.splice(i, 1);
        // With no worker left, what waits is done inline rather than left to stall.
        if (this.slots.length === 0) for (const q of this.queue.splice(0)) q.resolve(this.o.inline(q.job));
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

  private run(slot: Slot<Job, Done>, p: Pending<Job, Done>): void {
    slot.job = p;
    slot.worker.ref();
    const { message, transfer } = this.o.post(p.job, p.id);
    slot.worker.postMessage(message, transfer);
  }

  private next(slot: Slot<Job, Done>): void {
    const p = this.queue.shift();
    if (p) this.run(slot, p);
  }

  private drop(why: WorkerPoolDrop, reason: string): WorkerPoolDropped {
    this.counts.dropped[why]++;
    return { ok: false, dropped: why, reason };
  }
}
