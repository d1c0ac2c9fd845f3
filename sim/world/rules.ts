/** Road rules every driver in the world follows: speed limits, weather caps, stop lines, crosswalks. */
import { conditionsSpeedAt, nextStopLine, type RoadMap } from "../../domain/road-map.ts";
import type { World } from "./types.ts";

/** Distance before a stop line within which a full stop counts, m. */
export const STOP_ZONE_M = 8;
/** Standstill threshold, m/s. */
export const STANDSTILL_MPS = 0.3;

/**
 * The speed a careful driver aims for at a station: the limit, lowered in fog (stop within the visibility)
 * and rain, and already lowered ahead of a lower limit (comfortable 1.5 m/s² slowdown).
 */
export function cruiseSpeed(map: RoadMap, s: number): number {
  return conditionsSpeedAt(map, s);
}

/** Gap (m) from a front bumper to the next stop line not yet stopped at, if one is within `horizonM`. */
export function stopLineGap(map: RoadMap, front: number, cleared: Set<number>, horizonM = 150): { id: number; gap: number } | undefined {
  let s = front - 0.01;
  for (;;) {
    const line = nextStopLine(map, s, horizonM);
    if (!line) return undefined;
    if (!cleared.has(line.id)) return { id: line.id, gap: line.stationM - front };
    s = line.stationM;
  }
}

/**
 * Gap (m) from a front bumper to a crosswalk that a pedestrian is using or about to use, if the driver can
 * still stop for it (already too close: drive on).
 */
export function crosswalkGap(w: World, front: number, v: number, horizonM = 120): number | undefined {
  let best: number | undefined;
  for (const p of w.pedestrians) {
    if (p.state !== "crossing") continue;
    const c = w.map.crosswalks.find((x) => x.id === p.crosswalkId);
    if (!c) continue;
    const gap = c.stationM - c.widthM / 2 - 1 - front;
    if (gap < -0.5 || gap > horizonM) continue;
    if (gap < (v * v) / (2 * 8) - 1) continue;
    if (best === undefined || gap < best) best = gap;
  }
  return best;
}
