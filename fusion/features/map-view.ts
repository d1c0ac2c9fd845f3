/** A MapView over the road map of domain/road-map.ts: GNSS fix → station on the route → stop line, limit, tunnel. */
import { conditionsSpeedAt, geoToStation, inTunnel, laneAt, laneCentre, nextStopLine, speedLimitAt, type RoadMap } from "../../domain/road-map.ts";
import type { MapContext, MapView } from "./gnss.ts";

/** Lateral distance beyond the road edges at which a fix counts as off the map, m. */
const OFF_ROAD_M = 10;
/** Stop lines and crosswalks farther than this are not reported, m. */
const HORIZON_M = 200;

export function roadMapView(map: RoadMap): MapView {
  return {
    id: map.id,
    contextAt(latitude: number, longitude: number): MapContext | undefined {
      const { stationM, lateralM } = geoToStation(map, { latitude, longitude });
      if (lateralM < -OFF_ROAD_M || lateralM > map.laneCount * map.laneWidthM + OFF_ROAD_M) return undefined;
      if (stationM < -OFF_ROAD_M || stationM > map.lengthM + HORIZON_M) return undefined;
      const stop = nextStopLine(map, stationM, HORIZON_M);
      let crosswalk: number | undefined;
      for (const c of map.crosswalks) {
        const d = c.stationM - stationM;
        if (d > 0 && d <= HORIZON_M && (crosswalk === undefined || d < crosswalk)) crosswalk = d;
      }
      return {
        stopLineDistanceM: stop ? stop.stationM - stationM : undefined,
        stopLineId: stop?.id,
        speedLimitMps: speedLimitAt(map, stationM),
        advisorySpeedMps: conditionsSpeedAt(map, stationM),
        inTunnel: inTunnel(map, stationM),
        crosswalkDistanceM: crosswalk,
        laneCount: map.laneCount,
        lane: laneAt(map, lateralM),
        laneOffsetM: laneAt(map, lateralM) !== undefined ? lateralM - laneCentre(map, laneAt(map, lateralM)!) : undefined,
      };
    },
  };
}
