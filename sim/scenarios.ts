/**
 * The scenario suite: fixed seeds in train / validation / held-out test splits. Every split covers every
 * weather (clear, rain, fog, night) and every event kind (cut-ins, stopped vehicles, pedestrians at
 * crosswalks, stop lines, speed-limit zones, tunnels, voice commands), on 2–4 lanes.
 */
import type { MapWeather } from "../domain/road-map.ts";
import { EVENT_KINDS, WEATHERS, type EventKind, type ScenarioSpec, type Split } from "./scenario.ts";

/** Two event mixes, so that each weather meets every event kind in each split. */
const MIXES: { tag: string; events: EventKind[] }[] = [
  { tag: "highway", events: ["cut_in", "stopped_vehicle", "tunnel", "speed_zone", "voice"] },
  { tag: "urban", events: ["pedestrian", "stop_line", "speed_zone", "voice", "cut_in"] },
];
/**
 * Rounds per split (each round: every weather × both mixes = 8 scenarios). The held-out test split has three
 * rounds (24 scenarios, 6 per weather): with one round, closed-loop collision counts per weather were 0–3 —
 * too few to say whether fusing drives better in fog. Validation has four (32 scenarios, 19,200 samples at
 * --every 3): models are chosen on it alone (issue #20), and one round (8 drives, 4,800 samples) was too few
 * to rank them. Round 0 of each split is the suite as it was first made. Seeds stay below 900000: the block
 * above is reserved for fresh seeds (eval/run/scenarios.ts).
 */
const SPLITS: { split: Split; base: number; rounds: number }[] = [
  { split: "train", base: 1000, rounds: 8 },
  { split: "validation", base: 2000, rounds: 4 },
  { split: "test", base: 3000, rounds: 3 },
];

/**
 * Seeds whose scenario the privileged expert itself cannot drive without a collision, each with the seed that
 * stands in for it (same name, weather and events). A collision there would measure the simulator, not the
 * model: 3014 (a stopped vehicle with the ego boxed in by traffic on four lanes: it stops touching it; 3114 and
 * 3214 collided too when driven for a dataset) and 3015 (a vehicle clips the ego pulled over on the shoulder).
 * test/sim/expert.test.ts keeps the suite clean.
 */
const STAND_INS: ReadonlyMap<number, number> = new Map([
  [3014, 3314],
  [3015, 3115],
]);

export function scenarioSuite(): ScenarioSpec[] {
  const out: ScenarioSpec[] = [];
  for (const { split, base, rounds } of SPLITS) {
    let i = 0;
    for (let round = 0; round < rounds; round++) {
      for (const weather of WEATHERS) {
        for (const mix of MIXES) {
          const second: MapWeather = WEATHERS[(WEATHERS.indexOf(weather) + 1 + round) % WEATHERS.length]!;
          out.push({
            name: `${split}-${mix.tag}-${weather}-${round}`,
            split,
            seed: STAND_INS.get(base + i) ?? base + i,
            durationS: 90,
            laneCount: 2 + (i % 3),
            weather: [weather, second],
            events: mix.events,
          });
          i++;
        }
      }
    }
  }
  return out;
}

export function scenariosOf(split: Split): ScenarioSpec[] {
  return scenarioSuite().filter((s) => s.split === split);
}

export { EVENT_KINDS, WEATHERS };
