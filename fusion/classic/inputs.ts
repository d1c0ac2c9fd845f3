/**
 * The classic controller's facts, read from the same model inputs a learned model gets (fusion/features/):
 * it runs behind the same DecisionEngine, features, intent tracker and supervisor, so its row in a report
 * differs from a model's only by the policy. The offsets below are the feature layouts of radar.ts, gnss.ts,
 * ego.ts and intent.ts; test/fusion/classic/inputs.test.ts round-trips messages through those features, so a
 * layout change that is not made here too fails there.
 */
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import { EGO_FEATURES, GNSS_FEATURES, RADAR_POINT_FEATURES, type InputSpec } from "../features/config.ts";
import type { RadarPoint } from "../features/radar.ts";
import type { ClassicFacts } from "./controller.ts";

/** "speed up"/"slow down" offset scale of the intent features (intent.ts: offset / −MIN_SPEED_OFFSET_MPS). */
const SPEED_OFFSET_SCALE_MPS = 12;

const present = (inputs: Record<string, Float32Array>, m: Modality): boolean => (inputs["presence"]?.[MODALITIES.indexOf(m)] ?? 0) > 0;

/** The radar returns of the frame's scan, as radar.ts saw them (scaled back), and the scan's age, s. */
export function radarReturns(inputs: Record<string, Float32Array>, spec: InputSpec): { points: RadarPoint[]; ageS: number } | undefined {
  if (!present(inputs, "radar")) return undefined;
  const points = inputs["radar_points"]!;
  const mask = inputs["radar_point_mask"]!;
  const out: RadarPoint[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (!(mask[i]! > 0)) continue;
    const p = points.subarray(i * RADAR_POINT_FEATURES, (i + 1) * RADAR_POINT_FEATURES);
    out.push({ x: p[0]! * 100, y: p[1]! * 10, range: p[2]! * 100, vr: p[3]! * 30, rcs: p[4]! * 30 });
  }
  const ageS = (inputs["presence"]?.[MODALITIES.length + MODALITIES.indexOf("radar")] ?? 0) * spec.config.maxAgeS;
  return { points: out, ageS };
}

/**
 * Facts of one frame. `lead` is left to the caller (fusion/classic/runner.ts): a single scan carries clutter,
 * and only a return confirmed over scans is a lead.
 */
export function classicFacts(inputs: Record<string, Float32Array>, spec: InputSpec): ClassicFacts {
  const cfg = spec.config;
  const ego = present(inputs, "ego") ? inputs["ego"] : undefined;
  const speedMps = ego ? ego[0]! * 30 : undefined;
  const laneKnown = ego !== undefined && cfg.egoManeuver === true && ego[4]! > 0;
  const lane = laneKnown ? Math.round(ego[5]! * 4) : undefined;
  const changing = ego && cfg.egoManeuver === true ? (ego[EGO_FEATURES]! > 0 ? 1 : ego[EGO_FEATURES + 1]! > 0 ? -1 : 0) : 0;

  const lead: ClassicFacts["lead"] = undefined;
  let occupiedLeft = false;
  let occupiedRight = false;
  if (present(inputs, "radar")) {
    const summary = inputs["radar_summary"]!;
    occupiedLeft = summary[5]! > 0;
    occupiedRight = summary[6]! > 0;
  }

  let map: ClassicFacts["map"];
  const gnss = present(inputs, "gnss") ? inputs["gnss"] : undefined;
  if (gnss && gnss[3]! > 0) {
    const limit = gnss[6]! * 30;
    map = {
      stopLineM: gnss[4]! > 0 ? gnss[5]! * 100 : undefined,
      advisoryMps: cfg.mapAhead === true && gnss.length > GNSS_FEATURES && gnss[GNSS_FEATURES]! > 0 ? gnss[GNSS_FEATURES]! * 30 : limit,
      laneCount: gnss[9]! > 0 ? Math.round(gnss[9]! * 4) : undefined,
    };
  }

  const intent = inputs["intent"];
  const tracking = intent !== undefined && intent[0]! > 0;
  const voice = {
    holdStop: tracking && intent[1]! > 0,
    holdPullOver: tracking && intent[2]! > 0,
    speedOffsetMps: tracking ? intent[3]! * SPEED_OFFSET_SCALE_MPS : 0,
    laneRequest: tracking ? (intent[4]! > 0 ? 1 : intent[5]! > 0 ? -1 : 0) : 0,
  };
  return { speedMps, lead, occupiedLeft, occupiedRight, map, lane, changing, voice };
}
