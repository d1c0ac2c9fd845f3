import type { MapWeather } from "../domain/road-map.ts";
import { hash32 } from "./rng.ts";
import { randomScenario, type ScenarioSpec } from "./scenario.ts";

/** The live scenario: the named one (duration overridden when given), else the one dataset mode draws first for this seed. */
export function liveScenario(seed: number, durationS: number | undefined, named?: ScenarioSpec, weather?: MapWeather[]): ScenarioSpec {
  const spec = named ? { ...named, durationS: durationS ?? named.durationS } : randomScenario(hash32(`${seed >>> 0}/episode/0`), durationS ?? 60, `live-${seed}`);
  return weather ? { ...spec, weather } : spec;
}
