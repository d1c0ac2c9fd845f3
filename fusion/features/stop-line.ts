/**
 * Whether the upcoming stop line has been served (issue #20). The expert stops for a stop line until the car
 * has stood still just before it (sim/world/world.ts egoStoppedAt: below 0.3 m/s within 8 m of the line), and
 * then drives over it; a frame near a line at low speed is therefore either "stop" (arriving) or "go" (served,
 * pulling away) — not observable from one frame. This tracker remembers, from the frames in order, the ego's
 * lowest CAN speed since it came within STOP_ZONE_M of the next stop line (GNSS + map), and which lines it has
 * stood at.
 *
 * Stateful by nature, so it is kept by whoever sees frames in order, as the voice request is (intent.ts): the
 * DecisionEngine at inference (daemon, replay, evaluation), the labelling loop in training; both feed it every
 * frame with observeStopLine (the frame's own GNSS map context and CAN speed, the same functions as the
 * features) and write its features into the ego input with withStopState.
 */
import type { FusedFrame } from "../../schemas/index.ts";
import { EGO_FEATURES, EGO_MANEUVER_FEATURES, EGO_VS_MAP_FEATURES, STOP_STATE_FEATURES, type FeatureConfig } from "./config.ts";
import { egoFeatures } from "./ego.ts";
import { gnssFeatures, type MapContext, type MapView } from "./gnss.ts";

/**
 * Map distance (GNSS antenna to the line) within which standing still serves the line, m: the simulator's 8 m
 * from the front bumper, plus the antenna's ~2.3 m behind it and GNSS noise.
 */
export const STOP_ZONE_M = 12;
/** Below this CAN speed the car stands at the line, m/s (the simulator: 0.3, plus CAN noise). */
export const SERVED_SPEED_MPS = 0.5;
/** The lowest speed feature saturates here, m/s. */
const SPEED_SCALE_MPS = 10;
/**
 * The stop line's distance, on a scale that reaches past the expert's 150-m horizon (sim/world/rules.ts
 * stopLineGap). The GNSS input's own distance saturates at 100 m: at cruise speed the expert says STOP from
 * 150 m out (a third of its stop-line STOP steps on fresh drives were 100–150 m from the line), where that
 * input cannot tell a line at 120 m from one at 190 m.
 */
export const STOP_DISTANCE_SCALE_M = 200;

export class StopLineTracker {
  private mapId: string | undefined;
  /** Key of the line the lowest speed belongs to. */
  private line: string | undefined;
  private lowestMps = Infinity;
  private inZone = false;
  /** This frame's distance to the next stop line, m (undefined: none ahead, or no map context in this frame). */
  private distanceM: number | undefined;
  /** Without line ids (a map view that gives none): lines told apart by the distance jumping up. */
  private unnamed = 0;
  private lastDistanceM: number | undefined;
  /** Lines stood at (GNSS jitter around a line may name the next one for a frame and then this one again). */
  private readonly served = new Set<string>();

  /** One frame: its map context (undefined: no fix or off the map, nothing learnt) and CAN speed. */
  update(mapId: string | undefined, context: MapContext | undefined, speedMps: number | undefined): void {
    this.distanceM = mapId === undefined ? undefined : context?.stopLineDistanceM;
    if (!context || mapId === undefined) return;
    if (mapId !== this.mapId) {
      this.mapId = mapId;
      this.served.clear();
      this.line = undefined;
    }
    const d = context.stopLineDistanceM;
    if (context.stopLineId === undefined && d !== undefined && this.lastDistanceM !== undefined && d > this.lastDistanceM + 5) this.unnamed++;
    this.lastDistanceM = d;
    const key = d === undefined ? undefined : context.stopLineId !== undefined ? `${context.stopLineId}` : `?${this.unnamed}`;
    if (key !== this.line) {
      this.line = key;
      this.lowestMps = Infinity;
    }
    this.inZone = d !== undefined && d <= STOP_ZONE_M;
    if (this.inZone && speedMps !== undefined) {
      this.lowestMps = Math.min(this.lowestMps, speedMps);
      if (this.lowestMps < SERVED_SPEED_MPS && key !== undefined) this.served.add(key);
    }
  }

  /**
   * [within the stop zone of the next stop line, that line served, lowest speed in its zone / 10 (1: not in it
   * yet), this frame's distance to it / 200 m (1: none ahead or unknown)].
   */
  features(): Float32Array {
    const served = this.line !== undefined && this.served.has(this.line);
    const d = this.distanceM;
    return Float32Array.of(
      this.inZone ? 1 : 0,
      served ? 1 : 0,
      Number.isFinite(this.lowestMps) ? Math.min(1, this.lowestMps / SPEED_SCALE_MPS) : 1,
      d !== undefined ? Math.max(0, Math.min(1, d / STOP_DISTANCE_SCALE_M)) : 1,
    );
  }
}

/**
 * Feeds one frame to the tracker: the frame's GNSS map context and CAN speed, computed by the feature functions
 * themselves (so training, which does not extract every frame's features, sees what inference sees).
 */
export function observeStopLine(tracker: StopLineTracker, frame: FusedFrame, map: MapView | undefined): void {
  const gnss = frame.present.gnss ? frame.slots.gnss?.message : undefined;
  const ego = frame.present.ego ? frame.slots.ego?.message : undefined;
  const context = gnss ? gnssFeatures(gnss, map).context : undefined;
  tracker.update(map?.id, context, ego ? egoFeatures(ego).speedMps : undefined);
}

/** Where the stop state starts in the ego input of a config that has it (stopServed), else undefined. */
export function stopStateOffset(cfg: FeatureConfig): number | undefined {
  if (cfg.stopServed !== true) return undefined;
  return EGO_FEATURES + (cfg.egoManeuver === true ? EGO_MANEUVER_FEATURES : 0) + (cfg.egoVsMap === true ? EGO_VS_MAP_FEATURES : 0);
}

/** Writes the tracker's features into an ego input of config `cfg` (in place; nothing when the ego is missing or the config has none). */
export function withStopState(ego: Float32Array, egoPresent: boolean, cfg: FeatureConfig, state: Float32Array): void {
  const at = stopStateOffset(cfg);
  if (at === undefined || !egoPresent) return;
  if (state.length !== STOP_STATE_FEATURES || ego.length !== at + STOP_STATE_FEATURES) throw new Error(`stop state: ego input has ${ego.length} values, expected ${at + STOP_STATE_FEATURES}`);
  ego.set(state, at);
}
