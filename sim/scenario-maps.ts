/**
 * The road map of each scenario a simulator recording holds, for the GNSS map context that training and
 * open-loop evaluation give the features (the daemon gets its map from its config, closed loop from the
 * scenario it drives). A dataset drive (`fusiond sim --seed S --out`) draws its episodes' scenarios at random
 * (`dataset-S-i`) and a DAgger round may drive seeds outside the suite or shortened scenarios, whose maps no
 * scenario name can give back: the writer stores every episode's map in the recording's metadata record
 * SCENARIO_MAPS_RECORD (scenario name → RoadMap JSON), and readers take the map from there first. Recordings
 * made before it have none: a suite scenario's map is then rebuilt from the suite by name; any other name has
 * no map, and the readers refuse the recording rather than decide without one (issue #20: fresh-seed
 * drives were scored with no map context at all).
 */
import { parseRoadMap } from "../domain/road-map-file.ts";
import type { RoadMap } from "../domain/road-map.ts";
import { FusiondError } from "../schemas/index.ts";
import { buildScenario } from "./scenario.ts";
import { scenarioSuite } from "./scenarios.ts";

/** Name of the metadata record holding the episodes' road maps: key = scenario name, value = RoadMap JSON. */
export const SCENARIO_MAPS_RECORD = "fusiond.maps";

/** The metadata record's values for these maps. */
export const scenarioMapsRecord = (maps: ReadonlyMap<string, RoadMap>): Record<string, string> => Object.fromEntries([...maps].map(([name, map]) => [name, JSON.stringify(map)]));

let suiteMaps: Map<string, RoadMap> | undefined;
const suiteMap = (name: string): RoadMap | undefined => {
  suiteMaps ??= new Map();
  if (!suiteMaps.has(name)) {
    const spec = scenarioSuite().find((s) => s.name === name);
    if (!spec) return undefined;
    suiteMaps.set(name, buildScenario(spec).map);
  }
  return suiteMaps.get(name);
};

/**
 * Scenario name → its road map, for one recording: the map stored in the recording (its metadata records, as
 * McapRecording.metadata() gives them), else the suite scenario of that name. The empty name (a recording
 * without truth, or a truth without a scenario) has no map. Any other name without a map throws `no_map`.
 * `wrap` turns a map into what the caller keeps (a MapView); each name is wrapped once.
 */
export function scenarioMaps<T>(metadata: ReadonlyMap<string, ReadonlyMap<string, string>> | undefined, file: string, wrap: (map: RoadMap) => T): (name: string) => T | undefined {
  const stored = metadata?.get(SCENARIO_MAPS_RECORD);
  const cache = new Map<string, T>();
  return (name) => {
    if (name === "") return undefined;
    let v = cache.get(name);
    if (v !== undefined) return v;
    const text = stored?.get(name);
    const map = text !== undefined ? parseRoadMap(text, `road map of scenario ${name} stored in the recording`, file) : suiteMap(name);
    if (!map) {
      throw new FusiondError(
        "no_map",
        `${file}: scenario ${name} is not in the suite and the recording holds no road map for it (metadata "${SCENARIO_MAPS_RECORD}"); it was written before simulator recordings stored their maps — write it again (fusiond sim --out) rather than decide without map context`,
        { file, scenario: name },
      );
    }
    v = wrap(map);
    cache.set(name, v);
    return v;
  };
}
