/**
 * The pipeline under evaluation: pipeline/'s createPipeline (validate → health → align → decide, exactly
 * the daemon's graph) with the evaluation's decide(), plus what evaluation needs around it: the simulator
 * topics (GroundTruth, SimStep) handed to callbacks as they pass, and `settle()`, which waits until every
 * frame the aligner has emitted is decided (or dropped). On a virtual clock nothing moves while we wait, so
 * the decisions are those of an infinitely fast machine: the same on every run and every machine.
 */
import { Subject, type Observable, type SchedulerLike, type Subscription } from "rxjs";
import type { DrivingDecision } from "../../fusion/index.ts";
import { createPipeline, type AlignerConfig, type Decided, type Pipeline } from "../../pipeline/index.ts";
import type { Rejection, SensorMessage, SimStepMessage, TruthMessage } from "../../schemas/index.ts";
import type { DecideFn } from "./decider.ts";

/** The evaluation's alignment (see the constructor). */
export const EVAL_ALIGNER: AlignerConfig = { noWaitFor: ["gnss"], extrapolate: [] };

export interface HarnessOptions {
  scheduler: SchedulerLike;
  decide: DecideFn;
  /** Sources (MQTT path); default: a Subject fed with push(). */
  sources?: Observable<SensorMessage>;
  rejections?: Observable<Rejection>;
  aligner?: AlignerConfig;
  /** Decisions in flight at once (the runner batches what is waiting; default 1). */
  concurrency?: number;
  onDecision?: (d: Decided<DrivingDecision>) => void;
  onTruth?: (truth: TruthMessage, m: SensorMessage<"sim_truth">) => void;
  onStep?: (step: SimStepMessage, m: SensorMessage<"sim_step">) => void;
}

export class EvalHarness {
  readonly pipeline: Pipeline<DrivingDecision>;
  readonly input = new Subject<SensorMessage>();
  frames = 0;
  decisions = 0;
  decideDrops = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly subs: Subscription[] = [];
  private failure: { error: unknown } | undefined;

  constructor(o: HarnessOptions) {
    const concurrency = o.concurrency ?? 1;
    this.pipeline = createPipeline<DrivingDecision>({
      sources: o.sources ?? this.input.asObservable(),
      ...(o.rejections ? { rejections: o.rejections } : {}),
      scheduler: o.scheduler,
      // Unless told otherwise: GNSS does not hold frames back, ego does, nothing is extrapolated. Not the
      // daemon's alignment (the aligner's defaults: neither holds frames back, both extrapolated); kept so that
      // the evaluation reports stay comparable with those made before (issue #15).
      aligner: o.aligner ?? EVAL_ALIGNER,
      decide: o.decide,
      // Evaluation decides every frame: nothing is conflated (settle() keeps the queue short).
      decideOptions: { concurrency, policy: "hold", capacity: 1 << 16 },
      sinks: {
        message: (m) => {
          if (m.kind === "sim_truth") o.onTruth?.(m.message, m);
          else if (m.kind === "sim_step") o.onStep?.(m.message, m);
        },
      },
    });
    // Every subscription takes the stream's error: a failed pipeline ends settle() with it (pipeline.done
    // rejects with it too) instead of an uncaught error or a settle() that waits for ever.
    const error = (err: unknown) => this.fail(err);
    this.subs.push(this.pipeline.frames$.subscribe({ next: () => this.frames++, error }));
    this.subs.push(
      this.pipeline.decisions$.subscribe({
        next: (d) => {
          this.decisions++;
          o.onDecision?.(d);
          this.wake();
        },
        error,
      }),
    );
    this.subs.push(
      this.pipeline.drops$.subscribe({
        next: (d) => {
          if (d.stage !== "decide") return;
          this.decideDrops++;
          this.wake();
        },
        error,
      }),
    );
    this.pipeline.start();
  }

  /** Frames emitted and not yet decided or dropped. */
  get outstanding(): number {
    return this.frames - this.decisions - this.decideDrops;
  }

  /** Resolves once at most `max` frames are outstanding; rejects with the pipeline's error if it fails. */
  async settle(max = 0): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (this.outstanding <= max) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Ends the input; resolves when the last frame is decided. */
  async finish(): Promise<void> {
    this.input.complete();
    await this.pipeline.done;
    this.close();
  }

  close(): void {
    for (const s of this.subs.splice(0)) s.unsubscribe();
    this.pipeline.stop();
    this.wake();
  }
}
