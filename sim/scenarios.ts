/**
 * The scenario suite: fixed seeds in train / validation / held-out test splits. Every split covers every
 * weather (clear, rain, fog, night) and every event kind (cut-ins, stopped vehicles, pedestrians at
 * crosswalks, stop lines, speed-limit zones, tunnels, voice commands), on 2–4 lanes.
 */
import type { MapWeather } from "../schemas/map.ts";
import { EVENT_KINDS, WEATHERS, type EventKind, type ScenarioSpec, type Split } from "./scenario.ts";

/** Two event mixes, so that each weather meets every event kind in each split. */
const MIXES: { tag: string; events: EventKind[] }[] = [
  { tag: "highway", events: ["cut_in", "stopped_vehicle", "tunnel", "speed_zone", "voice"] },
  { tag: "urban", events: ["pedestrian", "stop_line", "speed_zone", "voice", "cut_in"] },
];
const SPLITS: { split: Split; base: number; rounds: number }[] = [
  { split: "train", base: 1000, rounds: 8 },
  { split: "validation", base: 2000, rounds: 1 },
  { split: "test", base: 3000, rounds: 1 },
];

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
            seed: base + i,
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
