/**
 * Dataset mode: episodes back to back (each at most `episodeS` long) until `durationS` of simulated time,
 * the expert driving, every message in receive order. Episode i's scenario is drawn from (seed, i), and its
 * clock starts where the previous one ended, so a file is one continuous timeline.
 */
import { hash32 } from "./rng.ts";
import { randomScenario, type ScenarioSpec } from "./scenario.ts";
import { DEFAULT_START_NS, Episode, STEP_NS, type EpisodeOptions, type SimMessage } from "./episode.ts";
import type { EpisodeScore } from "./score.ts";

export interface DatasetOptions extends EpisodeOptions {
  /** Longest episode, s (default 120). */
  episodeS?: number;
  /** Fixed scenarios to run instead of random ones (cycled). */
  scenarios?: readonly ScenarioSpec[];
}

export function* datasetMessages(seed: number, durationS: number, options: DatasetOptions = {}): Generator<SimMessage, EpisodeScore[]> {
  const scores: EpisodeScore[] = [];
  let startNs = options.startNs ?? DEFAULT_START_NS;
  const endNs = startNs + BigInt(Math.round(durationS * 1e9));
  const episodeS = options.episodeS ?? 120;
  for (let i = 0; startNs < endNs; i++) {
    const left = Number(endNs - startNs) / 1e9;
    const fixed = options.scenarios?.[i % options.scenarios.length];
    const epSeed = fixed ? fixed.seed : hash32(`${seed >>> 0}/episode/${i}`);
    const spec = fixed ? { ...fixed, durationS: Math.min(fixed.durationS, left) } : randomScenario(epSeed, Math.min(episodeS, left), `dataset-${seed}-${i}`);
    if (spec.durationS < 1) break;
    const ep = new Episode(spec, { ...options, startNs });
    yield* ep.start();
    while (!ep.done) yield* ep.advance({ action: ep.label.action, targetSpeedMps: ep.label.targetSpeedMps });
    scores.push(ep.score());
    startNs = ep.stampNs + STEP_NS;
  }
  return scores;
}
