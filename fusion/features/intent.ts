/**
 * The voice intent tracker: spoken commands → the standing request they make (hold still, pull over, a
 * lane change, a cruise-speed offset), kept for as long as it stands. A command stays in a frame's voice
 * slot only for the aligner's voice time-to-live (5 s), but "stop" holds until "continue", "slow down"
 * until the next speed request, and a lane request for LANE_REQUEST_S: without this memory the label the
 * expert gives (from the same request, domain/voice-intent.ts) cannot be learnt from a frame.
 *
 * Stateful by nature, so it is kept by whoever sees frames in order: the DecisionEngine at inference,
 * the labelling loop in training; both feed it the same way (`hear` once per utterance, at the first
 * frame that holds it; `features` at every frame).
 */
import { applyVoiceCommand, isVoiceCommand, lapseVoiceRequest, LANE_REQUEST_S, MIN_SPEED_OFFSET_MPS, type VoiceRequest } from "../../domain/voice-intent.ts";

/** Spoken commands a recogniser tells apart (index 0: no command / not understood); the pretraining task's classes. */
export const COMMAND_VOCAB = ["", "stop", "pull over", "change lane left", "change lane right", "continue", "slow down", "speed up"] as const;

/** [tracking, hold stop, hold pull over, speed offset, lane left, lane right, lane request time left, time since the last command]. */
export const INTENT_FEATURES = 8;
/** "Time since the last command" saturates here, s. */
const SINCE_CAP_S = 30;

export class VoiceIntentTracker {
  private readonly r: VoiceRequest = { speedOffsetMps: 0, hold: "none", laneRequest: 0, laneRequestUntilS: 0 };
  private lastHeardNs: bigint | undefined;
  private lastUtteranceNs: bigint | undefined;
  heard = 0;

  /** True when the utterance stamped `utteranceNs` has not been heard yet (each is heard once). */
  isNew(utteranceNs: bigint): boolean {
    return this.lastUtteranceNs === undefined || utteranceNs > this.lastUtteranceNs;
  }

  /**
   * An utterance, recognised as `command` (anything else, e.g. "" for not understood, changes nothing),
   * first seen by the frame at atNs.
   */
  hear(utteranceNs: bigint, command: string, atNs: bigint): void {
    if (!this.isNew(utteranceNs)) return;
    this.lastUtteranceNs = utteranceNs;
    if (!isVoiceCommand(command)) return;
    applyVoiceCommand(this.r, command, Number(atNs) / 1e9);
    this.lastHeardNs = atNs;
    this.heard++;
  }

  /** The standing request at atNs (lapsed requests removed). */
  request(atNs: bigint): Readonly<VoiceRequest> {
    lapseVoiceRequest(this.r, Number(atNs) / 1e9);
    return this.r;
  }

  features(atNs: bigint): Float32Array {
    const r = this.request(atNs);
    const tS = Number(atNs) / 1e9;
    const since = this.lastHeardNs === undefined ? SINCE_CAP_S : Math.min(SINCE_CAP_S, Number(atNs - this.lastHeardNs) / 1e9);
    return Float32Array.from([
      1,
      r.hold === "stop" ? 1 : 0,
      r.hold === "pull_over" ? 1 : 0,
      r.speedOffsetMps / -MIN_SPEED_OFFSET_MPS,
      r.laneRequest > 0 ? 1 : 0,
      r.laneRequest < 0 ? 1 : 0,
      r.laneRequest !== 0 ? Math.max(0, r.laneRequestUntilS - tS) / LANE_REQUEST_S : 0,
      since / SINCE_CAP_S,
    ]);
  }
}
