/** Builds fusiond.GroundTruth messages (plain objects, proto field names) from the world. */
import { inTunnel, speedLimitAt, weatherAt } from "../domain/road-map.ts";
import type { Encodable, GroundTruthMessage, Weather } from "../schemas/messages.ts";
import { nsToTimestamp } from "../schemas/time.ts";
import type { ExpertLabel } from "./expert.ts";
import { stopLineGap } from "./world/rules.ts";
import type { Utterance, World } from "./world/types.ts";
import { egoLeader } from "./world/world.ts";

export const NEAR_MISS_TTC = 1.5;

export interface TruthContext {
  stampNs: bigint;
  step: number;
  label: ExpertLabel;
  /** Utterances whose audio started in this step, with their message stamps and clip names. */
  utterances: { u: Utterance; stampNs: bigint; clip: string }[];
  collision: boolean;
  scenario: string;
}

export function groundTruth(w: World, c: TruthContext): Encodable<GroundTruthMessage> {
  const e = w.ego;
  const objects: NonNullable<Encodable<GroundTruthMessage>["objects"]> = [];
  for (const v of w.vehicles) {
    const x = v.s - e.s;
    if (x < -60 || x > 200) continue;
    objects.push({ id: v.id, kind: v.stopped ? "STOPPED_VEHICLE" : "VEHICLE", x_m: x, y_m: v.d - e.d, speed_mps: v.v, lane_index: v.lane });
  }
  for (const p of w.pedestrians) {
    if (p.state !== "crossing") continue;
    const x = p.s - e.s;
    if (x < -20 || x > 150) continue;
    objects.push({ id: p.id, kind: "PEDESTRIAN", x_m: x, y_m: p.d - e.d, speed_mps: Math.abs(p.vd), lane_index: Math.floor(p.d / w.map.laneWidthM) });
  }
  const lead = egoLeader(w);
  const closing = lead ? e.v - lead.v : 0;
  const ttc = lead && closing > 0.1 ? Math.max(0, lead.gap) / closing : undefined;
  const line = stopLineGap(w.map, e.s + e.lengthM / 2, new Set(), 1e6);
  const speaking = w.utterances.find((u) => u.startS <= w.t && w.t < u.startS + u.leadS + u.speechS + u.tailS);
  const vi = w.voice;
  const pending = vi.hold === "stop" ? "stop" : vi.hold === "pull_over" ? "pull over" : vi.laneRequest > 0 ? "change lane left" : vi.laneRequest < 0 ? "change lane right" : "";
  const lastU = speaking ?? [...w.utterances].reverse().find((u) => u.command === pending);
  const msg: Encodable<GroundTruthMessage> = {
    stamp: nsToTimestamp(c.stampNs),
    step: c.step,
    episode_id: w.episodeId,
    station_m: e.s,
    lateral_m: e.d,
    lane_index: e.lane,
    speed_mps: e.v,
    weather: weatherAt(w.map, e.s).weather.toUpperCase() as keyof typeof Weather,
    in_tunnel: inTunnel(w.map, e.s),
    speed_limit_mps: speedLimitAt(w.map, e.s),
    voice_command: speaking?.command ?? pending,
    voice_snr_db: lastU?.snrDb ?? 0,
    objects,
    expert_action: c.label.action,
    expert_target_speed_mps: c.label.targetSpeedMps,
    collision: c.collision,
    near_miss: ttc !== undefined && ttc < NEAR_MISS_TTC,
    lane_count: w.map.laneCount,
    voice_utterances: c.utterances.map(({ u, stampNs, clip }) => ({
      stamp: nsToTimestamp(stampNs),
      command: u.command,
      snr_db: u.snrDb,
      speech_offset_s: u.leadS,
      speech_duration_s: u.speechS,
      clip,
      gain_db: u.gainDb,
    })),
    expert_reason: c.label.reason,
    ego_accel_mps2: e.a,
    ego_jerk_mps3: e.jerk,
    ego_action: e.command.action,
    scenario: c.scenario,
    route_length_m: w.map.lengthM,
  };
  if (line) msg.stop_line_distance_m = line.gap;
  if (ttc !== undefined) msg.ttc_s = ttc;
  return msg;
}
