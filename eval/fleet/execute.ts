/**
 * What a worker does with one job: check that it may (version, backend, model files, recording bytes),
 * then run exactly the code the single-process commands run — openLoopFile, runEpisodeInProcess,
 * runReplay — and hand the result back. Models are loaded once per hash and shared by the jobs running at
 * once (their frames share the runner's batches, as episodes do in `fusiond eval --parallel`).
 */
import { UnrecoverableError } from "bullmq";
import type { BackendChoice } from "../../fusion/index.ts";
import { runReplay } from "../run/replay.ts";
import { runEpisodeInProcess } from "../run/closed-loop.ts";
import { loadEvalModel, type EvalModel } from "../run/decider.ts";
import { ABLATION_SUPERVISOR, reasonOf } from "../run/evaluate.ts";
import { openLoopFile } from "../run/open-loop.ts";
import { FUSIOND_VERSION } from "../../schemas/version.ts";
import { fileSha256, modelMismatch, type ModelRef } from "./identity.ts";
import { encodeOpenLoopPart, encodeResult, type JobData, type JobReturn, type RecordingRef } from "./jobs.ts";

/** A job this worker will not run, with why; retried (another worker may have the right files). */
export class JobRefused extends Error {
  override readonly name = "JobRefused";
}

export interface ExecutorOptions {
  worker: string;
  backend: BackendChoice;
  /** Models kept loaded (least recently used closed first). */
  maxModels?: number;
  /** Loads a model (tests). */
  load?: (dir: string, backend: BackendChoice) => Promise<EvalModel>;
  /** Called when the worker refuses a job (the reason is also the job's failure reason). */
  onRefuse?: (reason: string) => void;
}

interface Cached {
  model: Promise<EvalModel>;
  users: number;
  used: number;
}

export class JobExecutor {
  private readonly models = new Map<string, Cached>();
  private tick = 0;
  private chosenBackend: string | undefined;

  constructor(private readonly o: ExecutorOptions) {}

  private refuse(reason: string): never {
    this.o.onRefuse?.(reason);
    throw new JobRefused(`worker ${this.o.worker} refused the job: ${reason}`);
  }

  private check(d: JobData): void {
    if (d.version !== FUSIOND_VERSION) this.refuse(`it was planned by fusiond ${d.version}, this worker is ${FUSIOND_VERSION} (other code, other numbers): run workers of the coordinator's version`);
    if (d.backend !== "auto" && d.backend !== this.o.backend) this.refuse(`it asks for backend ${d.backend}, this worker runs ${this.o.backend} (start it with --backend ${d.backend})`);
    const why = modelMismatch(d.model);
    if (why) this.refuse(why);
  }

  private async verify(r: RecordingRef): Promise<void> {
    const sha = await fileSha256(r.path);
    // Not the bytes the run was planned with: no worker can do better, so no retry.
    if (sha !== r.sha256) throw new UnrecoverableError(`${r.path} changed since the run was planned (sha256 ${sha.slice(0, 12)}…, planned ${r.sha256.slice(0, 12)}…): resubmit the run`);
  }

  private async model(ref: ModelRef): Promise<{ model: EvalModel; release: () => void }> {
    let c = this.models.get(ref.hash);
    if (!c) {
      c = { model: (this.o.load ?? loadEvalModel)(ref.dir, this.o.backend), users: 0, used: 0 };
      this.models.set(ref.hash, c);
      c.model.catch(() => this.models.delete(ref.hash));
    }
    c.users++;
    c.used = ++this.tick;
    const entry = c;
    try {
      const model = await entry.model;
      this.chosenBackend ??= model.info.backend;
      return {
        model,
        release: () => {
          entry.users--;
          this.evict();
        },
      };
    } catch (err) {
      entry.users--;
      throw err;
    }
  }

  private evict(): void {
    const max = this.o.maxModels ?? 2;
    const idle = [...this.models.entries()].filter(([, c]) => c.users === 0).sort((a, b) => a[1].used - b[1].used);
    while (this.models.size > max && idle.length) {
      const [hash, c] = idle.shift()!;
      this.models.delete(hash);
      void c.model.then((m) => m.close(), () => undefined);
    }
  }

  /**
   * Runs one job; throws JobRefused, UnrecoverableError or the runner's error with the message the
   * single-process run would list (reasonOf), so that failures read the same either way.
   */
  async run(d: JobData): Promise<JobReturn> {
    try {
      return await this.runChecked(d);
    } catch (err) {
      if (err instanceof JobRefused || err instanceof UnrecoverableError) throw err;
      throw new Error(reasonOf(err));
    }
  }

  private async runChecked(d: JobData): Promise<JobReturn> {
    this.check(d);
    const t0 = performance.now();
    const meta = (): Omit<JobReturn, "gz"> => ({ worker: this.o.worker, backend: this.chosenBackend ?? this.o.backend, ms: performance.now() - t0 });
    if (d.kind === "replay") {
      await this.verify(d.recording);
      if (d.options.map) await this.verify(d.options.map);
      const { map, ...opts } = d.options;
      const report = await runReplay(d.recording.path, { ...opts, ...(map ? { map: map.path } : {}), model: d.model.dir, backend: d.backend, quiet: true });
      this.chosenBackend ??= report.model.backend;
      return encodeResult(report, meta());
    }
    if (d.kind === "open-loop") await this.verify(d.recording);
    const { model, release } = await this.model(d.model);
    // The backend this job's model ran on (a built-in row has its own: classic, none), not the worker's first.
    const ran = (): Omit<JobReturn, "gz"> => ({ ...meta(), backend: model.info.backend });
    try {
      if (d.kind === "open-loop") {
        const part = await openLoopFile(d.recording.path, model, { mask: d.mask, ...(d.ablation ? { supervisor: ABLATION_SUPERVISOR } : {}) });
        return encodeOpenLoopPart(part, ran());
      }
      const episode = await runEpisodeInProcess(d.spec, model, { mask: d.mask });
      return encodeResult(episode, ran());
    } finally {
      release();
    }
  }

  close(): void {
    for (const c of this.models.values()) void c.model.then((m) => m.close(), () => undefined);
    this.models.clear();
  }
}
