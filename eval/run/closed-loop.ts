/**
 * Closed loop, in process: the simulator (sim/'s Episode and lockstep bridge) drives the pipeline, and the
 * pipeline's decisions drive the simulated ego. Every simulator message is encoded to protobuf and decoded
 * again by the MessageDecoder, exactly what crosses MQTT, then enters the daemon's pipeline at its modelled
 * receive time on a virtual clock. Nothing waits for the wall clock: an episode runs as fast as the model.
 */
import { classIndexOf, roadMapView, type SupervisorConfig } from "../../fusion/index.ts";
import { ReplayClock } from "../../replay/index.ts";
import { ConditionTracker, episodeRow } from "../score/closed-loop.ts";
import { ACTION_CLASSES } from "../score/open-loop.ts";
import type { EpisodeRow } from "../score/report.ts";
import type { TimelinePoint } from "../score/timeline.ts";
import { MessageDecoder, type Modality, type TruthMessage } from "../../schemas/index.ts";
import { schedulerNowNs } from "../../schemas/scheduler-time.ts";
import { Episode } from "../../sim/episode.ts";
import { runLockstep, type LockstepPort } from "../../sim/lockstep.ts";
import { buildScenario, type ScenarioSpec } from "../../sim/scenario.ts";
import { makeDecide, sensorStatus, type EvalModel } from "./decider.ts";
import { EvalHarness } from "./harness.ts";
import { StepResponder } from "./responder.ts";

export interface EpisodeProgress {
  scenario: string;
  step: number;
  steps: number;
  collisions: number;
}

export interface ClosedLoopOptions {
  mask: readonly Modality[];
  supervisor?: SupervisorConfig;
  /** Called after every step. */
  onStep?: (p: EpisodeProgress) => void;
  /** Steps in a row without any decision before the episode is aborted (default 200: 10 s). */
  maxStepsWithoutDecision?: number;
}

export interface EpisodeResult {
  row: EpisodeRow;
  /** Step by step: the action applied, the expert's, the sensors the decision saw, speed, collisions. */
  points: TimelinePoint[];
}

export const actionName = (a: unknown): string => ACTION_CLASSES[classIndexOf(a)] ?? "none";

/** Shared by the in-process and MQTT paths: follows the GroundTruth of each step. */
export class StepLog {
  readonly tracker = new ConditionTracker();
  readonly points: TimelinePoint[] = [];
  private pending: TimelinePoint | undefined;
  constructor(private readonly startNs: bigint) {}

  truth(t: TruthMessage, stampNs: bigint): void {
    const tS = Number(stampNs - this.startNs) / 1e9;
    const { collisionOnset } = this.tracker.observe(t, tS);
    this.pending = { tS, decision: "none", expert: actionName(t.expert_action), sensors: {}, speedMps: Number(t.speed_mps ?? 0), collision: collisionOnset };
  }

  /** The step's answer is known: completes the step's timeline point. */
  answered(decision: string, sensors: TimelinePoint["sensors"]): void {
    if (!this.pending) return;
    this.points.push({ ...this.pending, decision, sensors });
    this.pending = undefined;
  }

  /** The last step (done) gets no answer. */
  close(): void {
    if (this.pending) this.points.push(this.pending);
    this.pending = undefined;
  }

  /** Closes the log and scores the episode: its row (steps answered, steps without a decision) and its timeline. */
  finish(spec: ScenarioSpec, r: { score: Parameters<typeof episodeRow>[0]["score"]; decisions: number; stepsWithoutDecision: number; aborted: boolean }): EpisodeResult {
    this.close();
    const row = episodeRow({ scenario: spec.name, seed: spec.seed, weather: [...spec.weather], score: r.score, byCondition: this.tracker.byCondition(), decisions: r.decisions, stepsWithoutDecision: r.stepsWithoutDecision, aborted: r.aborted });
    return { row, points: this.points };
  }
}

export async function runEpisodeInProcess(spec: ScenarioSpec, model: EvalModel, o: ClosedLoopOptions): Promise<EpisodeResult> {
  const ep = new Episode(spec, { vehicle: "sim" });
  const clock = new ReplayClock();
  const decoder = new MessageDecoder();
  const responder = new StepResponder();
  const log = new StepLog(ep.startNs);
  const map = roadMapView(buildScenario(spec).map);
  let h: EvalHarness | undefined;
  const start = (): EvalHarness =>
    new EvalHarness({
      scheduler: clock.scheduler,
      decide: makeDecide(model, { mask: o.mask, ...(o.supervisor ? { supervisor: o.supervisor } : {}), nowNs: () => schedulerNowNs(clock.scheduler), mapAt: () => map }),
      onDecision: (d) => responder.onDecision(d),
      onTruth: (t, m) => log.truth(t, m.stampNs),
    });
  const port: LockstepPort = {
    async publish(m) {
      clock.advanceTo(m.receiveNs);
      h ??= start();
      const r = decoder.decode({ topic: m.topic, payload: decoder.codec.encode(m.type, m.message), receiveNs: m.receiveNs });
      if (r.ok) h.input.next(r.message);
    },
    async awaitDecision(ref) {
      clock.advanceTo(ref.stampNs);
      await h!.settle(0);
      const answer = responder.answer(ref.stampNs);
      log.answered(answer ? actionName(answer.action) : "none", responder.latest ? sensorStatus(responder.latest.frame, o.mask) : {});
      return answer;
    },
  };
  let result;
  try {
    result = await runLockstep(ep, port, {
      timeoutMs: 0,
      onTimeout: "hold",
      maxConsecutiveTimeouts: o.maxStepsWithoutDecision ?? 200,
      onStep: (ref) => o.onStep?.({ scenario: spec.name, step: ref.step, steps: Math.round(spec.durationS * 20), collisions: log.tracker.collisions }),
    });
  } finally {
    h?.close();
  }
  return log.finish(spec, { score: result.score, decisions: result.decisions, stepsWithoutDecision: result.timeouts, aborted: result.aborted });
}

export interface SuiteProgress {
  done: number;
  episodes: number;
  running: EpisodeProgress[];
  collisions: number;
}

/**
 * Runs the scenarios, `parallel` episodes at a time (each on its own virtual clock and pipeline; the shared
 * model runner batches their frames), rows in scenario order.
 */
export async function runClosedLoopSuite(
  specs: readonly ScenarioSpec[],
  model: EvalModel,
  o: ClosedLoopOptions & {
    parallel?: number;
    onProgress?: (p: SuiteProgress) => void;
    runEpisode?: typeof runEpisodeInProcess;
    /** Given: an episode that throws is reported here and its slot left empty (the rest run on); else the suite fails. */
    onFailure?: (index: number, err: unknown) => void;
  },
): Promise<EpisodeResult[]> {
  const results = new Array<EpisodeResult>(specs.length);
  const running = new Map<number, EpisodeProgress>();
  let next = 0;
  let done = 0;
  let collisions = 0;
  const report = (): void => o.onProgress?.({ done, episodes: specs.length, running: [...running.values()], collisions: collisions + [...running.values()].reduce((a, p) => a + p.collisions, 0) });
  const run = o.runEpisode ?? runEpisodeInProcess;
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const i = next++;
      let r: EpisodeResult;
      try {
        r = await run(specs[i]!, model, {
          ...o,
          onStep: (p) => {
            running.set(i, p);
            if (p.step % 20 === 0) report();
          },
        });
      } catch (err) {
        if (!o.onFailure) throw err;
        o.onFailure(i, err);
        running.delete(i);
        done++;
        report();
        continue;
      }
      running.delete(i);
      results[i] = r;
      done++;
      collisions += r.row.collisions;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel ?? 4, specs.length)) }, worker));
  return results;
}
