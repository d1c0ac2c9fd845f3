/** Reads a road map (schemas/map.ts RoadMap as JSON) from a file or a recording's metadata; errors say what to do. */
import { readFileSync } from "node:fs";
import { FusiondError } from "../../schemas/index.ts";
import type { RoadMap } from "../../schemas/map.ts";

/** Parses road-map JSON text; `what` names its source in the error ("road map FILE", …), `hint` adds what to do. */
export function parseRoadMap(text: string, what: string, file: string, hint = ""): RoadMap {
  try {
    return JSON.parse(text) as RoadMap;
  } catch (err) {
    throw new FusiondError("bad_map", `cannot load the ${what}${hint}: ${(err as Error).message}`, { file });
  }
}

/** Reads and parses a road-map file. */
export function readRoadMapFile(file: string, hint = ""): RoadMap {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new FusiondError("bad_map", `cannot load the road map ${file}${hint}: ${(err as Error).message}`, { file });
  }
  return parseRoadMap(text, `road map ${file}`, file, hint);
}
