/**
 * `expert` (issue #20's upper bound): the simulator's privileged expert (sim/expert.ts) as a row of
 * `fusiond eval`. It reads no sensor — the world itself, every agent's position and intent — so it has no
 * pipeline: in closed loop the ego follows the expert's label each step, exactly as `fusiond sim` drives its
 * own recordings (sim/episode.ts expertEpisode), and the episode is scored like any model's. In open loop its
 * decisions are the labels (a score of 1 by construction), so it has no open-loop row.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { DEFAULT_FEATURE_CONFIG, makeInputSpec, type InputSpec, type ModelRunner } from "../../fusion/index.ts";
import type { ModelInfo } from "../score/report.ts";
import { episodeRow } from "../score/closed-loop.ts";
import { FusiondError, MessageDecoder } from "../../schemas/index.ts";
import { Episode, type SimMessage } from "../../sim/episode.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import { actionName, StepLog, type EpisodeProgress, type EpisodeResult } from "./step-log.ts";

/** What `--model expert` / `--compare expert` names. */
export const EXPERT_MODEL_ID = "expert";
export const EXPERT_STRATEGY = "expert";

/** It reads no sensor (nothing is masked for it: there is nothing to mask). */
export const EXPERT_SPEC: InputSpec = makeInputSpec([], DEFAULT_FEATURE_CONFIG);

/** Its identity: a hash of the expert's source, so reports and fleet jobs tell versions apart. */
export const EXPERT_HASH = createHash("sha256")
  .update(readFileSync(new URL("../../sim/expert.ts", import.meta.url)))
  .digest("hex")
  .slice(0, 16);

export const expertInfo = (): ModelInfo => ({ id: EXPERT_MODEL_ID, hash: EXPERT_HASH, dir: EXPERT_MODEL_ID, strategy: EXPERT_STRATEGY, modalities: [], backend: "none" });

/** True for the expert's row (its episodes are driven by the simulator's truth, not by a pipeline). */
export const isExpert = (info: Pick<ModelInfo, "id" | "strategy">): boolean => info.id === EXPERT_MODEL_ID && info.strategy === EXPERT_STRATEGY;

const noFrames = (): never => {
  throw new FusiondError("expert_has_no_frames", "the expert decides from the simulator's truth, not from sensor frames: it has no open-loop or replay score (its decisions are the labels); use it in closed loop (fusiond eval --compare expert --closed-loop)");
};

/** A runner that refuses every frame: the expert never goes through the pipeline. */
class ExpertRunner implements ModelRunner {
  readonly modelId = EXPERT_MODEL_ID;
  readonly modelHash = EXPERT_HASH;
  readonly backend = "none";
  readonly spec = EXPERT_SPEC;
  async warmup(): Promise<void> {}
  run(): never {
    return noFrames();
  }
  stats() {
    return { calls: 0, batches: 0, dropped: 0, queueDepth: 0, largestBatch: 0, lastLatencyMs: 0 };
  }
  close(): void {}
}

/** The expert as decider.ts's EvalModel (structurally: decider.ts imports this file). */
export function loadExpert(): { info: ModelInfo; runner: ModelRunner; spec: InputSpec; close: () => void } {
  const runner = new ExpertRunner();
  return { info: expertInfo(), runner, spec: EXPERT_SPEC, close: () => runner.close() };
}

/**
 * One closed-loop episode driven by the expert: sim/episode.ts's expertEpisode, with the GroundTruth of each
 * step decoded as the pipeline would see it, for the same per-condition scoring and timeline as any model.
 * Only the voice sensor is modelled (its clips' durations shape the world); the others would be thrown away.
 */
export async function runExpertEpisode(spec: ScenarioSpec, o: { onStep?: (p: EpisodeProgress) => void }): Promise<EpisodeResult> {
  const ep = new Episode(spec, { vehicle: "sim", sensors: ["voice"] });
  const decoder = new MessageDecoder();
  const log = new StepLog(ep.startNs);
  const steps = Math.round(spec.durationS * 20);
  const observe = (msgs: SimMessage[]): void => {
    for (const m of msgs) {
      if (m.kind !== "sim_truth") continue;
      const r = decoder.decode({ topic: m.topic, payload: decoder.codec.encode(m.type, m.message), receiveNs: m.receiveNs });
      if (r.ok && r.message.kind === "sim_truth") log.truth(r.message.message, r.message.stampNs);
    }
  };
  observe(ep.start());
  let decisions = 0;
  while (!ep.done) {
    const step = ep.step;
    log.answered(actionName(ep.label.action), {});
    decisions++;
    observe(ep.advance({ action: ep.label.action, targetSpeedMps: ep.label.targetSpeedMps }));
    o.onStep?.({ scenario: spec.name, step, steps, collisions: log.tracker.collisions });
    // Let other episodes (and progress) run between steps, as the pipeline's episodes do.
    if (step % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  log.close();
  const row = episodeRow({
    scenario: spec.name,
    seed: spec.seed,
    weather: [...spec.weather],
    score: ep.score(),
    byCondition: log.tracker.byCondition(),
    decisions,
    stepsWithoutDecision: 0,
    aborted: false,
  });
  return { row, points: log.points };
}
