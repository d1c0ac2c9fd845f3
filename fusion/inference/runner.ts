/**
 * The ModelRunner port and its TF.js implementation. A runner warms up before the first frame, runs one
 * call at a time, micro-batches the calls that queued up while it was busy (up to maxBatch), never holds
 * more than maxQueue waiting calls (the oldest is dropped and counted, its promise rejected with
 * `queue_overflow`), and reports per-call latency (queue wait + inference).
 */
import * as tf from "@tensorflow/tfjs";
import { FusiondError } from "../../schemas/index.ts";
import type { InputSpec } from "../features/config.ts";
import { stackInputs } from "../features/frame.ts";
import type { LoadedModel } from "../model/model-dir.ts";
import { compileForInference } from "./compiled.ts";

export interface ModelOutput {
  probabilities: Float32Array;
  /** Time the call waited in the queue, ms. */
  queueMs: number;
  /** Time of the model call it was part of, ms. */
  inferenceMs: number;
  /** Size of the micro-batch it ran in. */
  batchSize: number;
}

export interface RunnerStats {
  calls: number;
  batches: number;
  dropped: number;
  queueDepth: number;
  largestBatch: number;
  /** Latency of the latest call (queue + inference), ms. */
  lastLatencyMs: number;
}

export interface ModelRunner {
  readonly modelId: string;
  readonly modelHash: string;
  /** Backend that runs it ("wasm", "cpu", "tensorflow", "webgpu", "onnx", "onnx-webgpu"), or "fake". */
  readonly backend: string;
  readonly spec: InputSpec;
  /** Runs the model once on zeros so the first real frame does not pay for kernel setup. */
  warmup(): Promise<void>;
  /**
   * One sample's inputs (as modelInputs makes them) → class probabilities. `frame`: the frame they come from
   * (learned models ignore it; a runner that keeps state across frames, fusion/classic/, reads its stamp).
   */
  run(inputs: Record<string, Float32Array>, frame?: { stampNs: bigint }): Promise<ModelOutput>;
  stats(): RunnerStats;
  close(): void;
  /** For a model that reads the standing voice request: the runner of its spoken-command recogniser. */
  readonly commands?: ModelRunner;
  /**
   * The most calls it holds waiting: one more drops the oldest (`queue_overflow`). Undefined: it drops none.
   * Whether calls past it are dropped depends on when the runner gets to run (the event loop), so a caller whose
   * results must depend on its inputs alone (evaluation, replay) keeps no more calls than this in flight.
   */
  readonly queueCapacity?: number;
}

export interface RunnerOptions {
  maxBatch?: number;
  maxQueue?: number;
  /** Monotonic clock, ms (bin/ passes performance.now; tests a fake). */
  now: () => number;
  /** Called with every call's latency, ms. */
  onLatency?: (ms: number) => void;
}

interface Pending {
  inputs: Record<string, Float32Array>;
  enqueuedAt: number;
  resolve: (o: ModelOutput) => void;
  reject: (e: Error) => void;
}

/** Shared queueing and micro-batching; subclasses supply the batch computation. */
export abstract class BatchingRunner implements ModelRunner {
  private readonly queue: Pending[] = [];
  private draining = false;
  private closed = false;
  private readonly s: RunnerStats = { calls: 0, batches: 0, dropped: 0, queueDepth: 0, largestBatch: 0, lastLatencyMs: 0 };
  protected readonly maxBatch: number;
  protected readonly maxQueue: number;

  constructor(
    readonly modelId: string,
    readonly modelHash: string,
    readonly backend: string,
    readonly spec: InputSpec,
    protected readonly opts: RunnerOptions,
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 8);
    this.maxQueue = Math.max(1, opts.maxQueue ?? 16);
  }

  get queueCapacity(): number {
    return this.maxQueue;
  }

  /** Class probabilities for a batch of samples, [n × classes] row-major (a promise where the runtime is asynchronous). */
  protected abstract predictBatch(rows: Record<string, Float32Array>[]): Float32Array | Promise<Float32Array>;
  protected abstract get classes(): number;

  async warmup(): Promise<void> {
    const zeros = Object.fromEntries(this.spec.inputs.map((i) => [i.name, new Float32Array(i.shape.reduce((a, b) => a * b, 1))]));
    for (let i = 0; i < 3; i++) await this.predictBatch([zeros]);
    await this.predictBatch(new Array(this.maxBatch).fill(zeros));
  }

  run(inputs: Record<string, Float32Array>): Promise<ModelOutput> {
    if (this.closed) return Promise.reject(new FusiondError("runner_closed", `runner for ${this.modelId} is closed`));
    return new Promise<ModelOutput>((resolve, reject) => {
      this.queue.push({ inputs, enqueuedAt: this.opts.now(), resolve, reject });
      while (this.queue.length > this.maxQueue) {
        this.queue.shift()!.reject(new FusiondError("queue_overflow", `model queue over ${this.maxQueue}: oldest call dropped`, { model: this.modelId }));
        this.s.dropped++;
      }
      this.s.queueDepth = this.queue.length;
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => this.drain());
      }
    });
  }

  private drain(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    this.s.queueDepth = this.queue.length;
    if (batch.length === 0) return this.next();
    const start = this.opts.now();
    let probs: Float32Array | Promise<Float32Array>;
    try {
      probs = this.predictBatch(batch.map((p) => p.inputs));
    } catch (err) {
      this.fail(batch, err);
      return this.next();
    }
    // Runtimes that compute off the calling stack (ONNX Runtime, WebGPU) answer with a promise; TF.js on
    // wasm/cpu answers at once and keeps the path without a microtask.
    if (probs instanceof Promise) {
      void probs
        .then((p) => this.finish(batch, start, p))
        .catch((err: unknown) => this.fail(batch, err)) // the runtime's error, or one thrown while finishing
        .finally(() => this.next());
    } else {
      this.finish(batch, start, probs);
      this.next();
    }
  }

  private next(): void {
    if (this.queue.length > 0 && !this.closed) setImmediate(() => this.drain());
    else this.draining = false;
  }

  private fail(batch: Pending[], err: unknown): void {
    for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
  }

  private finish(batch: Pending[], start: number, probs: Float32Array): void {
    const end = this.opts.now();
    const c = this.classes;
    this.s.batches++;
    this.s.largestBatch = Math.max(this.s.largestBatch, batch.length);
    batch.forEach((p, i) => {
      this.s.calls++;
      const out = { probabilities: probs.slice(i * c, (i + 1) * c), queueMs: start - p.enqueuedAt, inferenceMs: end - start, batchSize: batch.length };
      this.s.lastLatencyMs = end - p.enqueuedAt;
      this.opts.onLatency?.(this.s.lastLatencyMs);
      p.resolve(out);
    });
  }

  stats(): RunnerStats {
    return { ...this.s };
  }

  close(): void {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new FusiondError("runner_closed", `runner for ${this.modelId} closed with calls queued`));
    this.s.queueDepth = 0;
  }
}

/** TF.js backends whose tensors can only be read back asynchronously. */
const ASYNC_READ = new Set(["webgpu"]);

/** Runs a loaded TF.js model on the active backend. */
export class TfModelRunner extends BatchingRunner {
  readonly commands?: TfModelRunner;
  /** The model as a list of kernel calls (compiled.ts), or undefined where it runs through model.predict. */
  private readonly compiled: ReturnType<typeof compileForInference>;
  private readonly asyncRead: boolean;
  constructor(private readonly loaded: LoadedModel, opts: RunnerOptions & { compile?: boolean }) {
    super(loaded.id, loaded.hash, tf.getBackend(), loaded.spec, opts);
    this.asyncRead = ASYNC_READ.has(tf.getBackend());
    // The compiled form reads results synchronously; backends without that run through model.predict.
    this.compiled = opts.compile === false || this.asyncRead ? undefined : compileForInference(loaded.model);
    if (loaded.commands) this.commands = new TfModelRunner(loaded.commands, { ...opts, onLatency: () => {} });
  }
  /** Kernels per call when compiled for inference (compiled.ts); undefined: model.predict. */
  get compiledKernels(): number | undefined {
    return this.compiled?.kernels;
  }
  override async warmup(): Promise<void> {
    await super.warmup();
    await this.commands?.warmup();
  }
  protected get classes(): number {
    return this.loaded.model.outputs[0]!.shape[1] as number;
  }
  protected predictBatch(rows: Record<string, Float32Array>[]): Float32Array | Promise<Float32Array> {
    const stacked = stackInputs(rows, this.spec);
    if (this.compiled) return this.compiled.run(stacked.map((b) => b.data), rows.length);
    if (this.asyncRead) {
      // WebGPU has no synchronous read-back: the result is mapped from the GPU asynchronously.
      const y = tf.tidy(() => this.loaded.model.predict(stacked.map((b) => tf.tensor(b.data, b.shape))) as tf.Tensor);
      return y.data().then((d) => (y.dispose(), d as Float32Array));
    }
    return tf.tidy(() => {
      const xs = stacked.map((b) => tf.tensor(b.data, b.shape));
      const y = this.loaded.model.predict(xs) as tf.Tensor;
      return y.dataSync() as Float32Array;
    });
  }
  override close(): void {
    super.close();
    this.commands?.close();
    this.compiled?.dispose();
    this.loaded.model.dispose();
  }
}

/** A runner for tests: probabilities from a function, with the same queueing as the real one. */
export class FakeModelRunner extends BatchingRunner {
  readonly seen: Record<string, Float32Array>[] = [];
  readonly batchSizes: number[] = [];
  constructor(
    spec: InputSpec,
    private readonly fn: (inputs: Record<string, Float32Array>) => number[],
    opts: RunnerOptions & { id?: string; classes?: number; commands?: ModelRunner; keep?: boolean },
  ) {
    super(opts.id ?? "fake", "0000000000000000", "fake", spec, opts);
    this.nClasses = opts.classes ?? 8;
    this.keep = opts.keep ?? true;
    if (opts.commands) this.commands = opts.commands;
  }
  /** Whether `seen` and `batchSizes` are recorded (default true; a bench's long run would hold every input). */
  private readonly keep: boolean;
  readonly commands?: ModelRunner;
  private readonly nClasses: number;
  protected get classes(): number {
    return this.nClasses;
  }
  protected predictBatch(rows: Record<string, Float32Array>[]): Float32Array {
    if (this.keep) {
      this.seen.push(...rows);
      this.batchSizes.push(rows.length);
    }
    const out = new Float32Array(rows.length * this.nClasses);
    rows.forEach((r, i) => out.set(this.fn(r), i * this.nClasses));
    return out;
  }
}
