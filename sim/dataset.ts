/**
 * Dataset mode: episodes back to back (each at most `episodeS` long) until `durationS` of simulated time,
 * the expert driving, every message in receive order. Episode i's scenario is drawn from (seed, i), and its
 * clock starts where the previous one ended, so a file is one continuous timeline.
 */
import type { RoadMap } from "../domain/road-map.ts";
import { Rng } from "./rng.ts";
import type { ExpertLabel } from "./expert.ts";
import type { DrivingAction, EgoCommand } from "./world/types.ts";
import { hash32 } from "./rng.ts";
import { randomScenario, type ScenarioSpec } from "./scenario.ts";
import { DEFAULT_START_NS, Episode, STEP_NS, type EpisodeOptions, type SimMessage } from "./episode.ts";
import type { EpisodeScore } from "./score.ts";

export interface DatasetOptions extends EpisodeOptions {
  /** Longest episode, s (default 120). */
  episodeS?: number;
  /**
   * Fraction of the drive (0–0.5, default 0) in which the ego does not follow the expert but holds a random
   * KEEP/ACCELERATE/DECELERATE for 1–2.5 s, while every step is still labelled with what the expert would do
   * (DART-style noise injection). A model trained on such drives sees states the expert never reaches and how
   * to leave them, and cannot read the expert's label back from the car's own acceleration. A perturbation
   * ends at once when the expert wants anything else (a hazard, a stop, a lane change).
   */
  perturb?: number;
  /** Fixed scenarios to run instead of random ones (cycled). */
  scenarios?: readonly ScenarioSpec[];
  /** Called as each episode starts, with its scenario and road map (the dataset writer stores the maps). */
  onEpisode?: (spec: ScenarioSpec, map: RoadMap) => void;
}

/** The scenario seed of episode i of a dataset drive with this seed (random episodes, no fixed scenarios). */
export const datasetEpisodeSeed = (seed: number, i: number): number => hash32(`${seed >>> 0}/episode/${i}`);

export function* datasetMessages(seed: number, durationS: number, options: DatasetOptions = {}): Generator<SimMessage, EpisodeScore[]> {
  const scores: EpisodeScore[] = [];
  let startNs = options.startNs ?? DEFAULT_START_NS;
  const endNs = startNs + BigInt(Math.round(durationS * 1e9));
  const episodeS = options.episodeS ?? 120;
  for (let i = 0; startNs < endNs; i++) {
    const left = Number(endNs - startNs) / 1e9;
    const fixed = options.scenarios?.[i % options.scenarios.length];
    const epSeed = fixed ? fixed.seed : datasetEpisodeSeed(seed, i);
    const spec = fixed ? { ...fixed, durationS: Math.min(fixed.durationS, left) } : randomScenario(epSeed, Math.min(episodeS, left), `dataset-${seed}-${i}`);
    if (spec.durationS < 1) break;
    const ep = new Episode(spec, { ...options, startNs });
    options.onEpisode?.(spec, ep.world.map);
    yield* ep.start();
    const noise = options.perturb ? new Perturbation(options.perturb, Rng.fork(epSeed, "perturb")) : undefined;
    while (!ep.done) yield* ep.advance(noise ? noise.command(ep.label) : { action: ep.label.action, targetSpeedMps: ep.label.targetSpeedMps });
    scores.push(ep.score());
    startNs = ep.stampNs + STEP_NS;
  }
  return scores;
}

const FREE: readonly DrivingAction[] = ["KEEP", "ACCELERATE", "DECELERATE"];

/** The perturbation process of DatasetOptions.perturb, one decision step (50 ms) at a time. */
export class Perturbation {
  private left = 0;
  private action: DrivingAction = "KEEP";
  private readonly startP: number;

  constructor(fraction: number, private readonly rng: Rng) {
    const f = Math.max(0, Math.min(0.5, fraction));
    const meanSteps = 1.75 / 0.05;
    this.startP = f > 0 ? f / (meanSteps * (1 - f)) : 0;
  }

  command(label: ExpertLabel): EgoCommand {
    const expertCmd = { action: label.action, targetSpeedMps: label.targetSpeedMps };
    if (!FREE.includes(label.action)) {
      this.left = 0;
      return expertCmd;
    }
    if (this.left <= 0 && this.rng.chance(this.startP)) {
      this.left = Math.round(this.rng.uniform(1, 2.5) / 0.05);
      this.action = this.rng.pick(FREE);
    }
    if (this.left <= 0) return expertCmd;
    this.left--;
    return { action: this.action, targetSpeedMps: Number.NaN };
  }
}
