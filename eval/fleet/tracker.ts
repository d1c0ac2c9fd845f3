/**
 * The coordinator's side of the queue: submits jobs (idempotently: the id is the work), follows them until
 * they complete or fail, and counts progress. Job states are read by polling (ZMSCORE against
 * BullMQ's completed/failed sets, and the active list) rather than by events, so a coordinator that was
 * away — killed, or cut off while Redis restarted — sees exactly what happened meanwhile.
 */
import { Queue, type Job } from "bullmq";
import { FusiondError } from "../../schemas/index.ts";
import { decodeResult, jobIdOf, QUEUE, unitName, type JobData, type JobReturn } from "./jobs.ts";
import { redisClient, redisConnection } from "./redis.ts";
import type { RedisCommands } from "./redis.ts";

export type JobOutcome<T> = { ok: true; value: T; ret: JobReturn } | { ok: false; reason: string; attempts: number };

export interface TrackerOptions {
  redis: string;
  prefix: string;
  /** Tries per job before it fails (a worker that dies mid-job does not use one up; see docs/fleet.md). */
  attempts: number;
  /** Wait before a retry, ms. */
  backoffMs: number;
  /** Poll period, ms (default 500). */
  pollMs?: number;
}

export interface WorkerProgress {
  done: number;
  running: number;
}

export interface FleetProgress {
  jobs: number;
  done: number;
  failed: number;
  running: number;
  /** Done before this coordinator looked (re-used results). */
  reused: number;
  byWorker: Record<string, WorkerProgress>;
  /** Seconds left at the rate of this session's completions; undefined until one completed here. */
  etaS: number | undefined;
  elapsedS: number;
}

interface Pending {
  data: JobData;
  /** A poll saw it unfinished (so its end is this session's work, not a re-used result). */
  seen: boolean;
  resolve: (o: JobOutcome<unknown>) => void;
}

/** The set of a run's job ids. */
export const runJobsKey = (prefix: string, runId: string): string => `${prefix}:fleet:run:${runId}:jobs`;

export class JobTracker {
  readonly queue: Queue<JobData, JobReturn>;
  private readonly pending = new Map<string, Pending>();
  private readonly finished = new Map<string, JobOutcome<unknown>>();
  private readonly byWorker = new Map<string, WorkerProgress>();
  private running = 0;
  private reused = 0;
  private doneHere = 0;
  private failed = 0;
  private readonly t0 = performance.now();
  private firstPollDone = false;
  private activeAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;
  /** The run whose jobs these are: each submitted id is added to the run's job set (fleet status/cancel read it). */
  runId: string | undefined;
  /** Called after every poll. */
  onPoll: ((p: FleetProgress) => void) | undefined;
  /** Polled too: a run cancelled elsewhere stops the wait. */
  isCancelled: (() => Promise<boolean>) | undefined;
  private cancelled: ((reason: string) => void) | undefined;
  readonly cancelledP: Promise<string>;

  private constructor(
    private readonly o: TrackerOptions,
    readonly redis: RedisCommands,
    queue: Queue<JobData, JobReturn>,
  ) {
    this.queue = queue;
    this.cancelledP = new Promise<string>((resolve) => (this.cancelled = resolve));
  }

  static async open(o: TrackerOptions): Promise<JobTracker> {
    const connection = await redisConnection(o.redis);
    let redis: RedisCommands;
    try {
      redis = await redisClient(o.redis);
    } catch (err) {
      throw new FusiondError("redis_unreachable", `cannot reach Redis at ${o.redis}: ${(err as Error).message} — is redis-server running there?`, { url: o.redis });
    }
    const queue = new Queue<JobData, JobReturn>(QUEUE, { connection, prefix: o.prefix });
    queue.on("error", () => undefined); // reconnects by itself; polls report what it sees
    await queue.waitUntilReady();
    return new JobTracker(o, redis, queue);
  }

  private key(set: string): string {
    return `${this.o.prefix}:${QUEUE}:${set}`;
  }

  /** Submits a job (a no-op when the same work is already queued, running or done) and waits for its end. */
  submit<T>(data: JobData): Promise<JobOutcome<T>> {
    const id = jobIdOf(data);
    const done = this.finished.get(id);
    if (done) return Promise.resolve(done as JobOutcome<T>);
    const existing = this.pending.get(id);
    if (existing) {
      return new Promise<JobOutcome<T>>((resolve) => {
        const prev = existing.resolve;
        existing.resolve = (o) => {
          prev(o);
          resolve(o as JobOutcome<T>);
        };
      });
    }
    return new Promise<JobOutcome<T>>((resolve, reject) => {
      this.pending.set(id, { data, seen: false, resolve: resolve as (o: JobOutcome<unknown>) => void });
      const noted = this.runId ? this.redis.send("SADD", [runJobsKey(this.o.prefix, this.runId), id]) : Promise.resolve(0);
      noted
        .then(() => this.queue.add(data.kind, data, {
          jobId: id,
          attempts: this.o.attempts,
          backoff: { type: "fixed", delay: this.o.backoffMs },
          removeOnComplete: false,
          removeOnFail: false,
        }))
        .then(() => this.schedule(), reject);
    });
  }

  /** Jobs submitted so far. */
  get jobs(): number {
    return this.pending.size + this.finished.size;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll().catch(() => undefined).finally(() => {
        this.polling = undefined;
        if (this.pending.size) this.schedule();
      });
    }, this.firstPollDone ? (this.o.pollMs ?? 500) : 50);
  }

  /** One look at Redis: which pending jobs finished, which run where. */
  async poll(): Promise<void> {
    if (!this.redis.connected) await this.redis.connect(); // Redis restarted: our own connection comes back here
    if (this.isCancelled && (await this.isCancelled())) this.cancelled?.("cancelled");
    const ids = [...this.pending.keys()];
    // Two commands per poll per 5,000 pending jobs, whatever the run's size (ZMSCORE: Redis ≥ 6.2, as BullMQ needs).
    const states: Array<[unknown, unknown]> = [];
    for (let i = 0; i < ids.length; i += 5000) {
      const chunk = ids.slice(i, i + 5000);
      const [done, failed] = (await Promise.all([this.redis.send("ZMSCORE", [this.key("completed"), ...chunk]), this.redis.send("ZMSCORE", [this.key("failed"), ...chunk])])) as [unknown[], unknown[]];
      chunk.forEach((_, j) => states.push([done[j] ?? null, failed[j] ?? null]));
    }
    const ended = ids.filter((_, i) => states[i]![0] !== null || states[i]![1] !== null);
    const jobs = await Promise.all(ended.map((id) => this.queue.getJob(id)));
    for (const [i, id] of ended.entries()) {
      const job = jobs[i] as Job<JobData, JobReturn> | undefined;
      const p = this.pending.get(id);
      if (!job || !p) continue;
      let outcome: JobOutcome<unknown>;
      if (states[ids.indexOf(id)]![0] !== null && job.returnvalue) {
        const ret = job.returnvalue;
        outcome = { ok: true, value: decodeResult(ret), ret };
        if (p.seen) this.doneHere++;
        else this.reused++;
        const w = this.worker(ret.worker);
        w.done++;
      } else {
        outcome = { ok: false, reason: job.failedReason || "failed (no reason recorded)", attempts: job.attemptsMade };
        this.failed++;
      }
      this.pending.delete(id);
      this.finished.set(id, outcome);
      p.resolve(outcome);
    }
    // Who runs what now: one HGETALL per active job (bounded by the fleet's total concurrency), every 2 s at most.
    if (performance.now() - this.activeAt >= 2000 || !this.pending.size) {
      this.activeAt = performance.now();
      const active = (await this.queue.getJobs(["active"])) as Array<Job<JobData, JobReturn>>;
      for (const w of this.byWorker.values()) w.running = 0;
      this.running = 0;
      for (const j of active) {
        if (!j.id || !this.pending.has(j.id)) continue;
        this.running++;
        this.worker(j.processedBy ?? "?").running++;
      }
    }
    for (const p of this.pending.values()) p.seen = true;
    this.firstPollDone = true;
    this.onPoll?.(this.progress());
  }

  private worker(name: string): WorkerProgress {
    let w = this.byWorker.get(name);
    if (!w) this.byWorker.set(name, (w = { done: 0, running: 0 }));
    return w;
  }

  progress(): FleetProgress {
    const elapsedS = (performance.now() - this.t0) / 1000;
    const done = this.reused + this.doneHere;
    const left = this.pending.size;
    return {
      jobs: this.jobs,
      done,
      failed: this.failed,
      running: this.running,
      reused: this.reused,
      byWorker: Object.fromEntries(this.byWorker),
      etaS: this.doneHere > 0 ? (elapsedS / this.doneHere) * left : undefined,
      elapsedS,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    await this.queue.close();
    this.redis.close();
  }
}

/** A progress line: done, failed, running, per worker, ETA. */
export function progressText(p: FleetProgress): string {
  const workers = Object.entries(p.byWorker)
    .filter(([, w]) => w.running || w.done)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([n, w]) => `${n} ${w.done}${w.running ? `+${w.running}` : ""}`)
    .join(", ");
  const eta = p.etaS === undefined ? "" : ` · ETA ${p.etaS < 90 ? `${p.etaS.toFixed(0)} s` : `${(p.etaS / 60).toFixed(1)} min`}`;
  return `fleet: ${p.done}/${p.jobs} done${p.reused ? ` (${p.reused} re-used)` : ""}, ${p.failed} failed, ${p.running} running · ${p.elapsedS.toFixed(0)} s${eta}${workers ? ` · ${workers}` : ""}`;
}

export { unitName };
