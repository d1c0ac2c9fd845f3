/**
 * What a spoken command asks of the vehicle, as standing state: the contract between the simulator's
 * world (sim/world/world.ts, which the expert labels from) and fusion's intent tracker
 * (fusion/features/intent.ts, which the models read). Both apply commands with `applyVoiceCommand`, so a
 * model sees exactly the request the expert acts on — for as long as it stands, not only while the
 * utterance is still inside a frame's voice window.
 */

/** Voice commands the cabin microphone can hear (the phrase spoken). */
export const VOICE_COMMANDS = ["stop", "pull over", "slow down", "speed up", "change lane left", "change lane right", "continue"] as const;
export type VoiceCommand = (typeof VOICE_COMMANDS)[number];

/** A lane-change request lapses after this long, s. */
export const LANE_REQUEST_S = 15;
/** "slow down"/"speed up" move the cruise speed by this much, m/s, within [MIN, MAX]. */
export const SPEED_STEP_MPS = 4;
export const MIN_SPEED_OFFSET_MPS = -12;
/** The expert drives this far below the cruise speed unless asked to speed up, m/s (the highest offset). */
export const EXPERT_MARGIN_MPS = 2;

export interface VoiceRequest {
  /** Cruise-speed offset requested by "slow down"/"speed up", m/s. */
  speedOffsetMps: number;
  /** Holding still after "stop" or "pull over" until "continue". */
  hold: "none" | "stop" | "pull_over";
  /** A requested lane change (+1 left, -1 right, 0 none) and when it lapses, s. */
  laneRequest: -1 | 0 | 1;
  laneRequestUntilS: number;
}

export const isVoiceCommand = (c: string): c is VoiceCommand => (VOICE_COMMANDS as readonly string[]).includes(c);

/** Applies a command heard at time tS (s) to the standing request. */
export function applyVoiceCommand(r: VoiceRequest, command: VoiceCommand, tS: number): void {
  switch (command) {
    case "slow down":
      r.speedOffsetMps = Math.max(MIN_SPEED_OFFSET_MPS, r.speedOffsetMps - SPEED_STEP_MPS);
      break;
    case "speed up":
      r.speedOffsetMps = Math.min(EXPERT_MARGIN_MPS, r.speedOffsetMps + SPEED_STEP_MPS);
      break;
    case "stop":
    case "pull over":
      r.hold = command === "stop" ? "stop" : "pull_over";
      break;
    case "continue":
      r.hold = "none";
      break;
    case "change lane left":
    case "change lane right":
      r.laneRequest = command === "change lane left" ? 1 : -1;
      r.laneRequestUntilS = tS + LANE_REQUEST_S;
      break;
  }
}

/** Lapses what has run out by time tS (s). */
export function lapseVoiceRequest(r: VoiceRequest, tS: number): void {
  if (r.laneRequest !== 0 && tS > r.laneRequestUntilS) r.laneRequest = 0;
}
