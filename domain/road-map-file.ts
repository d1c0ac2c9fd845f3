/**
 * Reads a road map (domain/road-map.ts RoadMap as JSON) from a file the operator named (config `map`, `--map`)
 * or from a recording's metadata, checked against the RoadMap shape; errors say what to do. Errors never
 * quote the text: a file that is not a map (say, one a recording tricked something into naming) must not
 * have its first bytes printed.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { FusiondError } from "../schemas/index.ts";
import type { RoadMap } from "./road-map.ts";

const num = z.number().finite();
const range = { startM: num, endM: num };
const roadMapSchema = z.object({
  id: z.string(),
  origin: z.object({ latitude: num, longitude: num, altitude: num }),
  route: z.array(z.object({ east: num, north: num })).min(2),
  lengthM: num.positive(),
  laneCount: z.number().int().positive(),
  laneWidthM: num.positive(),
  stopLines: z.array(z.object({ id: z.number(), stationM: num })),
  speedLimits: z.array(z.object({ ...range, limitMps: num })),
  tunnels: z.array(z.object(range)),
  crosswalks: z.array(z.object({ id: z.number(), stationM: num, widthM: num })),
  weather: z.array(z.object({ ...range, weather: z.enum(["clear", "rain", "fog", "night"]), visibilityM: num.nullable() })),
});

/** JSON.parse's message without the snippet of text it quotes (Node 20: `Unexpected token 'r', "root:x:0:0:"... is not valid JSON`). */
const withoutQuote = (message: string): string =>
  message.replace(/, ".*?"(\.\.\.)? is not valid JSON/s, "").replace(/Unexpected token '.*?'/s, "Unexpected character");

/** Parses road-map JSON text; `what` names its source in the error ("road map FILE", …), `hint` adds what to do. */
export function parseRoadMap(text: string, what: string, file: string, hint = ""): RoadMap {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FusiondError("bad_map", `cannot load the ${what}${hint}: not JSON: ${withoutQuote((err as Error).message)}`, { file });
  }
  const result = roadMapSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new FusiondError("bad_map", `cannot load the ${what}${hint}: not a road map (domain/road-map.ts): ${problems.join("; ")}`, { file, problems });
  }
  // JSON has no Infinity: JSON.stringify wrote the unlimited visibility of clear weather as null.
  const map = raw as RoadMap;
  return { ...map, weather: map.weather.map((w) => ({ ...w, visibilityM: w.visibilityM ?? Infinity })) };
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
