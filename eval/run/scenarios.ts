/** Which scenarios a closed-loop evaluation drives: a named split of the suite, or a seed range. */
import { FusiondError } from "../../schemas/index.ts";
import { randomScenario, type ScenarioSpec, type Split } from "../../sim/scenario.ts";
import { scenarioSuite, scenariosOf } from "../../sim/scenarios.ts";

export const SUITES: readonly Split[] = ["train", "validation", "test"];

/**
 * Fresh seeds: figures nobody tuned on (issue #20). Every seed of the named suites (train, validation, test,
 * stand-ins included) lies below FRESH_RESERVED.from, and no suite, training script or screening run may use a
 * seed in the reserved block; test/eval/run/fresh-seeds.test.ts checks it, and that the episodes of the fresh
 * open-loop drives (dataset mode hashes each episode's seed from the drive's) are no suite's either.
 * `--seeds fresh` names the closed-loop range; scripts/fresh-eval.sh runs the whole comparison.
 */
export const FRESH_RESERVED = { from: 900_000, to: 999_999 } as const;
export const FRESH_SEEDS = {
  /** Closed loop: 100 episodes (fusiond eval --closed-loop --seeds fresh). */
  closedLoop: "900001-900100",
  /** Open loop: 72 dataset drives of 300 s, 6 hours (fusiond sim --seed S --duration 300 --out ...). */
  openLoop: "910001-910072",
  openLoopDurationS: 300,
} as const;
/**
 * Random-episode drives for training and validation (issue #20): dataset-mode drives (`fusiond sim --seed S
 * --duration 300`), the same random episodes as the fresh drives draw (every event kind mixed, up to three
 * weathers an episode, 120-s episodes) but from seeds outside the reserved block. The suite's scenarios are
 * 90-s single-mix episodes, and a model trained on them alone met situations on fresh drives it had never
 * seen. `npm run data:suite` writes them as random-train-S.mcap (perturbed with the training drives) and
 * random-validation-S.mcap; test/eval/run/fresh-seeds.test.ts checks that none of their episodes is fresh.
 */
export const RANDOM_DRIVES = {
  train: "100001-100016",
  validation: "200001-200008",
  durationS: 300,
} as const;
/** Seeds already looked at while building the #20 baselines (a screening run): not fresh any more. */
export const SCREENED_SEEDS = "1-16";

/** Every scenario seed of the named suites. */
export const suiteSeeds = (): Set<number> => new Set(scenarioSuite().map((s) => s.seed));

/** "A-B" or "A" → [A..B]; "fresh" → FRESH_SEEDS.closedLoop. */
export function parseSeeds(text: string): number[] {
  if (text.trim() === "fresh") return parseSeeds(FRESH_SEEDS.closedLoop);
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || !(b >= a) || b - a > 100_000) throw new FusiondError("bad_seeds", `--seeds must be A-B with A ≤ B (e.g. 3000-3007) or fresh, not "${text}"`, { seeds: text });
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/**
 * A seed of the suite runs its scenario; any other seed runs the random scenario that dataset mode would
 * draw for it (all weathers and event kinds likely), `durationS` long.
 */
export function scenariosForSeeds(seeds: readonly number[], durationS = 90): ScenarioSpec[] {
  const bySeed = new Map(scenarioSuite().map((s) => [s.seed, s]));
  return seeds.map((seed) => bySeed.get(seed) ?? randomScenario(seed, durationS, `seed-${seed}`));
}

export function suiteScenarios(name: string): ScenarioSpec[] {
  if (!(SUITES as readonly string[]).includes(name)) throw new FusiondError("bad_suite", `--suite must be one of ${SUITES.join(", ")}, not "${name}"`, { suite: name });
  return scenariosOf(name as Split);
}

/** Shortens every episode (quick runs; the route is sized for the shorter time, as for any spec). */
export const withDuration = (specs: ScenarioSpec[], durationS: number | undefined): ScenarioSpec[] =>
  durationS === undefined ? specs : specs.map((s) => ({ ...s, durationS: Math.min(s.durationS, durationS) }));
