/**
 * Driving conditions of a step, read from its fusiond.GroundTruth (decoded or as the simulator builds it):
 * weather, tunnel, voice command present, traffic density. Every open-loop and closed-loop figure is also
 * broken down by these. Pure.
 */
import { enumName, enumValue, TruthObject_Kind, Weather, type TruthMessage } from "../../schemas/index.ts";

export const CONDITION_DIMENSIONS = ["weather", "tunnel", "voice", "traffic"] as const;
export type ConditionDimension = (typeof CONDITION_DIMENSIONS)[number];
/** The dimensions, and the situation: why the expert chose its label (GroundTruth.expert_reason), open loop's error analysis. */
export type Conditions = Record<ConditionDimension, string> & { situation?: string };


/** fusiond.Weather as a name whether decoded as a number or a string. */
export function weatherOf(v: unknown): string {
  if (typeof v === "number") {
    const name = enumName(Weather, v);
    return name === undefined ? String(v) : name === "WEATHER_UNSPECIFIED" ? "UNSPECIFIED" : name;
  }
  const s = String(v ?? "UNSPECIFIED").toUpperCase();
  return s === "WEATHER_UNSPECIFIED" ? "UNSPECIFIED" : s;
}

/** Vehicles (moving or stopped, not pedestrians) the truth lists around the ego (its −60…200 m window). */
export function vehiclesAround(truth: Partial<TruthMessage>): number {
  const objects = truth.objects ?? [];
  return objects.filter((o) => {
    const k = enumValue(TruthObject_Kind, o.kind);
    return k === TruthObject_Kind.VEHICLE || k === TruthObject_Kind.STOPPED_VEHICLE;
  }).length;
}

/** Traffic density bins by vehicles in the truth's window: light ≤ 3 < moderate ≤ 8 < heavy. */
export const TRAFFIC_BINS: readonly { name: string; max: number }[] = [
  { name: "light", max: 3 },
  { name: "moderate", max: 8 },
  { name: "heavy", max: Infinity },
];

export function trafficOf(vehicles: number): string {
  return TRAFFIC_BINS.find((b) => vehicles <= b.max)!.name;
}

export function conditionsOf(truth: Partial<TruthMessage>): Conditions {
  return {
    weather: weatherOf(truth.weather),
    tunnel: truth.in_tunnel ? "in tunnel" : "open road",
    voice: String(truth.voice_command ?? "") !== "" ? "voice command" : "no voice",
    traffic: trafficOf(vehiclesAround(truth)),
    ...(truth.expert_reason ? { situation: String(truth.expert_reason) } : {}),
  };
}

/** The order values are shown in (others after these, sorted). */
export const CONDITION_ORDER: Record<ConditionDimension, readonly string[]> = {
  weather: ["CLEAR", "RAIN", "FOG", "NIGHT"],
  tunnel: ["open road", "in tunnel"],
  voice: ["no voice", "voice command"],
  traffic: TRAFFIC_BINS.map((b) => b.name),
};

export function orderedValues(dim: ConditionDimension, values: Iterable<string>): string[] {
  const known = CONDITION_ORDER[dim];
  const set = new Set(values);
  return [...known.filter((v) => set.has(v)), ...[...set].filter((v) => !known.includes(v)).sort()];
}
