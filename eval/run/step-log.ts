/**
 * The closed loop's step-by-step record of one episode (shared by the in-process, MQTT and expert paths):
 * each step's GroundTruth (conditions, collisions) and the action that answered it, for the timeline.
 */
import { classIndexOf } from "../../fusion/index.ts";
import { ConditionTracker, episodeRow } from "../score/closed-loop.ts";
import { ACTION_CLASSES } from "../score/open-loop.ts";
import type { EpisodeRow } from "../score/report.ts";
import type { TimelinePoint } from "../score/timeline.ts";
import type { TruthMessage } from "../../schemas/index.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";

export interface EpisodeProgress {
  scenario: string;
  step: number;
  steps: number;
  collisions: number;
}

export interface EpisodeResult {
  row: EpisodeRow;
  /** Step by step: the action applied, the expert's, the sensors the decision saw, speed, collisions. */
  points: TimelinePoint[];
}

export const actionName = (a: unknown): string => ACTION_CLASSES[classIndexOf(a)] ?? "none";

/** Shared by the in-process, MQTT and expert paths: follows the GroundTruth of each step. */
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
