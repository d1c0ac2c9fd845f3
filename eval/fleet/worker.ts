/**
 * A fleet worker: a BullMQ Worker on the fleet queue whose processor is JobExecutor, with Prometheus
 * metrics and /healthz, /readyz answers, served where the caller says (`fusiond worker`: bin/daemon/http.ts). Stopping (SIGTERM) stops taking jobs, lets the
 * running ones finish within a grace period, and hands the rest back to the queue (moved to wait, so
 * another worker takes them at once, without waiting for stalled-job detection).
 */
import { hostname } from "node:os";
import { Worker, WaitingError, type Job } from "bullmq";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { BackendChoice } from "../../fusion/index.ts";
import { JobExecutor, JobRefused, type ExecutorOptions } from "./execute.ts";
import { DEFAULT_PREFIX, QUEUE, unitName, type JobData, type JobReturn } from "./jobs.ts";
import { redisConnection, redisDriver } from "./redis.ts";

/** A probe's answer: ok, and why in words and numbers. */
export interface WorkerProbe {
  ok: boolean;
  detail: Record<string, unknown>;
}

/** Serves the worker's metrics and probes (e.g. over HTTP) until closed. */
export type ServeProbes = (p: { registry: Registry; health: () => WorkerProbe; ready: () => WorkerProbe }) => Promise<{ readonly url: string; close(): Promise<void> }>;

export interface FleetWorkerOptions {
  redis: string;
  prefix?: string;
  concurrency: number;
  backend: BackendChoice;
  name?: string;
  /** Where /metrics /healthz /readyz are served; none: not served. */
  serve?: ServeProbes;
  /** BullMQ lock duration and stalled-check interval, ms (defaults 30000 / 30000). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How often a job may stall (its worker died) before it fails (default 2). */
  maxStalledCount?: number;
  log: (line: string) => void;
  load?: ExecutorOptions["load"];
}

const BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800];

export class FleetWorker {
  readonly registry = new Registry();
  readonly name: string;
  private worker!: Worker<JobData, JobReturn>;
  private http: Awaited<ReturnType<ServeProbes>> | undefined;
  private executor!: JobExecutor;
  private readonly running = new Map<string, { job: Job<JobData, JobReturn>; token: string | undefined; handBack: () => void }>();
  private redisUp = 0;
  private lastError = "";
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private readonly jobs: Counter;
  private readonly seconds: Histogram;

  private constructor(private readonly o: FleetWorkerOptions) {
    this.name = o.name ?? `${hostname()}-${process.pid}`;
    collectDefaultMetrics({ register: this.registry, prefix: "fusiond_process_" });
    this.jobs = new Counter({ name: "fusiond_fleet_jobs_total", help: "Fleet jobs this worker finished, by kind and outcome (done, failed, refused, handed_back)", labelNames: ["kind", "outcome"], registers: [this.registry] });
    this.seconds = new Histogram({ name: "fusiond_fleet_job_seconds", help: "Wall time of a fleet job on this worker, by kind", labelNames: ["kind"], buckets: BUCKETS_S, registers: [this.registry] });
    const self = this;
    new Gauge({ name: "fusiond_fleet_jobs_running", help: "Fleet jobs running on this worker now", registers: [this.registry], collect() { this.set(self.running.size); } });
    new Gauge({ name: "fusiond_fleet_redis_up", help: "1 while the worker's Redis connection is up", registers: [this.registry], collect() { this.set(self.redisUp); } });
  }

  static async start(o: FleetWorkerOptions): Promise<FleetWorker> {
    const w = new FleetWorker(o);
    await w.begin();
    return w;
  }

  get url(): string | undefined {
    return this.http?.url;
  }

  private async begin(): Promise<void> {
    const o = this.o;
    this.executor = new JobExecutor({ worker: this.name, backend: o.backend, onRefuse: (r) => o.log(`refused a job: ${r}`), ...(o.load ? { load: o.load } : {}) });
    const connection = await redisConnection(o.redis);
    this.worker = new Worker<JobData, JobReturn>(QUEUE, (job, token) => this.process(job, token), {
      connection,
      prefix: o.prefix ?? DEFAULT_PREFIX,
      concurrency: o.concurrency,
      name: this.name,
      autorun: false,
      ...(o.lockDurationMs ? { lockDuration: o.lockDurationMs } : {}),
      ...(o.stalledIntervalMs ? { stalledInterval: o.stalledIntervalMs } : {}),
      maxStalledCount: o.maxStalledCount ?? 2,
    });
    this.worker.on("ready", () => {
      if (!this.redisUp) o.log(`connected to ${o.redis} (${redisDriver})`);
      this.redisUp = 1;
    });
    this.worker.on("error", (err) => {
      const msg = err.message;
      if (this.redisUp || msg !== this.lastError) o.log(`redis: ${msg} (reconnecting)`);
      this.redisUp = 0;
      this.lastError = msg;
    });
    this.worker.on("failed", (job, err) => {
      if (job && !(err instanceof WaitingError) && err.name !== "WaitingError") o.log(`failed ${job.data.kind} ${unitName(job.data)} (attempt ${job.attemptsMade}): ${err.message}`);
    });
    if (o.serve) {
      this.http = await o.serve({
        registry: this.registry,
        health: () => ({ ok: this.redisUp === 1 && !this.stopping, detail: this.detail() }),
        ready: () => ({ ok: this.redisUp === 1 && !this.stopping && this.worker.isRunning(), detail: this.detail() }),
      });
    }
    void this.worker.run().catch((err: unknown) => o.log(`worker stopped: ${(err as Error).message}`));
    await this.worker.waitUntilReady();
    this.redisUp = 1;
  }

  private detail(): Record<string, unknown> {
    return {
      worker: this.name,
      redis: this.redisUp ? "connected" : `disconnected (reconnecting${this.lastError ? `: ${this.lastError}` : ""})`,
      running: [...this.running.values()].map((r) => `${r.job.data.kind} ${unitName(r.job.data)}`),
      concurrency: this.o.concurrency,
      stopping: this.stopping,
    };
  }

  private async process(job: Job<JobData, JobReturn>, token: string | undefined): Promise<JobReturn> {
    const kind = job.data.kind;
    const id = job.id ?? "";
    let handBack!: () => void;
    const handedBack = new Promise<"hand-back">((resolve) => (handBack = () => resolve("hand-back")));
    this.running.set(id, { job, token, handBack });
    const end = this.seconds.startTimer({ kind });
    try {
      const run = this.executor.run(job.data);
      run.catch(() => undefined);
      const first = await Promise.race([run, handedBack]);
      if (first === "hand-back") {
        await job.moveToWait(token);
        this.jobs.inc({ kind, outcome: "handed_back" });
        this.o.log(`handed back ${kind} ${unitName(job.data)}`);
        throw new WaitingError();
      }
      this.jobs.inc({ kind, outcome: "done" });
      return first;
    } catch (err) {
      if (err instanceof JobRefused) this.jobs.inc({ kind, outcome: "refused" });
      else if (!(err instanceof WaitingError)) this.jobs.inc({ kind, outcome: "failed" });
      throw err;
    } finally {
      end();
      this.running.delete(id);
    }
  }

  /** Stops taking jobs; running ones get `graceMs` to finish, then go back to the queue. */
  stop(graceMs: number): Promise<void> {
    const handBack = (): void => {
      if (this.running.size) this.o.log(`handing back ${this.running.size} job(s)`);
      for (const r of this.running.values()) r.handBack();
    };
    if (this.stopped) {
      handBack();
      return this.stopped;
    }
    this.stopping = true;
    const closing = this.worker.close();
    const timer = setTimeout(handBack, graceMs);
    this.stopped = closing.then(async () => {
      clearTimeout(timer);
      this.executor.close();
      await this.http?.close();
    });
    return this.stopped;
  }
}
