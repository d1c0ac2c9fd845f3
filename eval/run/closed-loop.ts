/**
 * Closed loop, in process: the simulator (sim/'s Episode and lockstep bridge) drives the pipeline, and the
 * pipeline's decisions drive the simulated ego. Every simulator message is encoded to protobuf and decoded
 * again by the MessageDecoder, exactly what crosses MQTT, then enters the daemon's pipeline at its modelled
 * receive time on a virtual clock. Nothing waits for the wall clock: an episode runs as fast as the model.
 */
import { roadMapView, type SupervisorConfig } from "../../fusion/index.ts";
import { ReplayClock } from "../../replay/index.ts";
import { MessageDecoder, type Modality } from "../../schemas/index.ts";
import { schedulerNowNs } from "../../schemas/scheduler-time.ts";
import { Episode, type SimMessage } from "../../sim/episode.ts";
import { mulberry32 } from "../../domain/random.ts";
import { nsToTimestamp } from "../../schemas/index.ts";
import { runLockstep, type LockstepPort } from "../../sim/lockstep.ts";
import { buildScenario, type ScenarioSpec } from "../../sim/scenario.ts";
import { makeDecide, sensorStatus, type EvalModel } from "./decider.ts";
import { EvalHarness } from "./harness.ts";
import { evalAligner, simCamerasFor } from "./model-cameras.ts";
import { StepResponder } from "./responder.ts";
import { actionName, StepLog, type EpisodeProgress, type EpisodeResult } from "./step-log.ts";
import { isExpert, runExpertEpisode } from "./expert.ts";

export interface ClosedLoopOptions {
  mask: readonly Modality[];
  supervisor?: SupervisorConfig;
  /** Called after every step. */
  onStep?: (p: EpisodeProgress) => void;
  /** Steps in a row without any decision before the episode is aborted (default 200: 10 s). */
  maxStepsWithoutDecision?: number;
  /** Every simulator message as it is published (a DAgger round records them: eval/run/dagger.ts). */
  onSimMessage?: (m: SimMessage) => void | Promise<void>;
  /** DAgger's mixture: at each step, with probability `share` (draws seeded by `seed`), the expert's label drives instead of the model. */
  expertMix?: { share: number; seed: number };
}

export { actionName, StepLog, type EpisodeProgress, type EpisodeResult } from "./step-log.ts";

/** One episode: the model's decisions drive the ego (the expert's row: the expert's labels, eval/run/expert.ts). */
export async function runEpisodeInProcess(spec: ScenarioSpec, model: EvalModel, o: ClosedLoopOptions): Promise<EpisodeResult> {
  if (isExpert(model.info)) return runExpertEpisode(spec, o);
  const cameraSet = simCamerasFor(model.spec);
  const ep = new Episode(spec, { vehicle: "sim", ...(cameraSet ? { cameraSet } : {}) });
  const clock = new ReplayClock();
  const decoder = new MessageDecoder();
  const responder = new StepResponder();
  const log = new StepLog(ep.startNs);
  const map = roadMapView(buildScenario(spec).map);
  let h: EvalHarness | undefined;
  const expertDraw = o.expertMix ? mulberry32(o.expertMix.seed) : undefined;
  const start = (): EvalHarness =>
    new EvalHarness({
      scheduler: clock.scheduler,
      aligner: evalAligner(model.spec, "sim"),
      decide: makeDecide(model, { mask: o.mask, ...(o.supervisor ? { supervisor: o.supervisor } : {}), nowNs: () => schedulerNowNs(clock.scheduler), mapAt: () => map }),
      onDecision: (d) => responder.onDecision(d),
      onTruth: (t, m) => log.truth(t, m.stampNs),
    });
  const port: LockstepPort = {
    async publish(m) {
      await o.onSimMessage?.(m);
      clock.advanceTo(m.receiveNs);
      h ??= start();
      const r = decoder.decode({ topic: m.topic, payload: decoder.codec.encode(m.type, m.message), receiveNs: m.receiveNs });
      if (r.ok) h.input.next(r.message);
    },
    async awaitDecision(ref) {
      clock.advanceTo(ref.stampNs);
      await h!.settle(0);
      const model = responder.answer(ref.stampNs);
      // The expert's turn is drawn at every step, whether or not the model has answered yet (the draws stay aligned with the steps).
      const expertTurn = expertDraw !== undefined && expertDraw() < o.expertMix!.share;
      const answer = expertTurn ? { action: ep.label.action, target_speed_mps: ep.label.targetSpeedMps, frame_stamp: nsToTimestamp(ref.stampNs) } : model;
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
 * model runner batches their frames; at most half its queueCapacity at a time), rows in scenario order.
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
  // No more episodes at once than the shared runner queues calls, else it drops the oldest (that frame decided by rule)
  // depending on when the event loop lets it drain (open-loop.ts decisionsAtOnce). Each running episode has one call
  // waiting at most, and at most one more left over from its previous episode (the last step's frame, decided after
  // the episode ended and never awaited, still queued): two per episode.
  const workers = Math.max(1, Math.min(o.parallel ?? 4, specs.length, Math.floor((model.runner.queueCapacity ?? Infinity) / 2)));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
