/** Which scenarios a closed-loop evaluation drives: a named split of the suite, or a seed range. */
import { FusiondError } from "../../schemas/index.ts";
import { randomScenario, type ScenarioSpec, type Split } from "../../sim/scenario.ts";
import { scenarioSuite, scenariosOf } from "../../sim/scenarios.ts";

export const SUITES: readonly Split[] = ["train", "validation", "test"];

/** "A-B" or "A" → [A..B]. */
export function parseSeeds(text: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || !(b >= a) || b - a > 100_000) throw new FusiondError("bad_seeds", `--seeds must be A-B with A ≤ B (e.g. 3000-3007), not "${text}"`, { seeds: text });
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
