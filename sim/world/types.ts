/**
 * The simulated world's state. Stations are metres along the route (domain/road-map.ts), lateral offsets metres
 * left of the road's right edge, speeds m/s, accelerations m/s², times seconds since the episode start.
 * A vehicle's station is its centre; its front bumper is at station + length / 2.
 */
import { ACTION_NAMES, type ActionName } from "../../schemas/messages.ts";
import type { RoadMap } from "../../domain/road-map.ts";
import type { Rng } from "../rng.ts";

/** The DrivingAction enum of fusiond.DrivingDecision, by name (the codec accepts names): the proto's list. */
export const DRIVING_ACTIONS = ACTION_NAMES;
export type DrivingAction = ActionName;

/** Voice commands the cabin microphone can hear (the phrase spoken): the contract in domain/voice-intent.ts. */
import { VOICE_COMMANDS, type VoiceCommand } from "../../domain/voice-intent.ts";
export { VOICE_COMMANDS, type VoiceCommand };

/** What the ego is told to do for the next decision period. */
export interface EgoCommand {
  action: DrivingAction;
  /** Target speed, m/s; NaN when the decider gave none (the action's default acceleration applies). */
  targetSpeedMps: number;
}

export interface LaneChange {
  fromD: number;
  toD: number;
  /** Seconds since the change started. */
  elapsedS: number;
  durationS: number;
}

export interface Vehicle {
  id: number;
  /** Broken down: never moves. */
  stopped: boolean;
  s: number;
  d: number;
  v: number;
  a: number;
  lengthM: number;
  widthM: number;
  /** Lane by centre, and the lane it is heading for (differs during a lane change). */
  lane: number;
  targetLane: number;
  change: LaneChange | undefined;
  /** Desired speed as a fraction of the local limit. */
  speedFactor: number;
  /** Seconds before MOBIL may consider another change. */
  cooldownS: number;
  /** Stop lines this vehicle has already stopped at. */
  clearedStopLines: Set<number>;
  /** Scripted cut-in in progress (ignores MOBIL's safety criterion). */
  cutIn: boolean;
  /** Body colour (camera). */
  rgb: [number, number, number];
  /** Cached IDM parameters (traffic.ts). */
  idm?: { v0: number; T: number; s0: number; a: number; b: number };
}

export interface Pedestrian {
  id: number;
  crosswalkId: number;
  s: number;
  d: number;
  /** Lateral walking speed, m/s (positive: to the left). */
  vd: number;
  state: "waiting" | "crossing" | "done";
}

export interface Ego {
  s: number;
  d: number;
  v: number;
  a: number;
  /** Jerk of the last physics step, m/s³. */
  jerk: number;
  lengthM: number;
  widthM: number;
  lane: number;
  change: LaneChange | undefined;
  /** Heading relative to the road (rad, + left) and yaw rate (rad/s). */
  heading: number;
  yawRate: number;
  steering: number;
  /** Pulled over onto the shoulder (target lateral offset is the shoulder). */
  pulledOver: boolean;
  /** The command being executed. */
  command: EgoCommand;
}

/** One spoken utterance: scheduled by the world, rendered to audio by the voice sensor. */
export interface Utterance {
  id: number;
  command: VoiceCommand;
  /** Which clip of that command (index into the clip catalog's list for it). */
  variant: number;
  /** Start of the audio message (noise lead-in first), s. */
  startS: number;
  /** Noise-only lead-in before the speech, s. */
  leadS: number;
  speechS: number;
  /** Noise-only tail after the speech, s. */
  tailS: number;
  snrDb: number;
  /** Speech level relative to the clip's nominal level, dB. */
  gainDb: number;
  /** The command has been heard (it takes effect once, when its speech ends). */
  heard: boolean;
}

export interface CutInEvent {
  kind: "cut_in";
  /** Ego station that triggers it. */
  triggerS: number;
  fromLeft: boolean;
  gapM: number;
  /** Cutting vehicle's speed relative to the ego, m/s. */
  dv: number;
  fired: boolean;
}

export interface PedestrianEvent {
  kind: "pedestrian";
  crosswalkId: number;
  /** Ego distance to the crosswalk that makes the pedestrian step out. */
  triggerDistM: number;
  fromRight: boolean;
  speedMps: number;
  fired: boolean;
}

export interface VoiceEvent {
  kind: "voice";
  atS: number;
  command: VoiceCommand;
  fired: boolean;
}

export type ScriptedEvent = CutInEvent | PedestrianEvent | VoiceEvent;

/** Voice-requested state the expert (and the scorer) track. */
export interface VoiceIntent {
  /** The last command heard, and when it became audible (the end of its utterance), s. */
  last: VoiceCommand | undefined;
  heardAtS: number;
  /** Cruise-speed offset requested by "slow down"/"speed up", m/s (≤ 0: never above the limit). */
  speedOffsetMps: number;
  /** Holding still after "stop" or "pull over" until "continue". */
  hold: "none" | "stop" | "pull_over";
  /**
   * Time the request has been carried out (stopped; for "pull over", stopped on the shoulder), s; how long the
   * passenger then waits before "continue"; and when the hold began (a passenger gives up on a pull-over the
   * traffic never allows after PULL_OVER_PATIENCE_S and says "continue").
   */
  heldS: number;
  holdForS: number;
  holdSinceS: number;
  /** A requested lane change (+1 left, -1 right, 0 none) and when the request lapses, s. */
  laneRequest: -1 | 0 | 1;
  laneRequestUntilS: number;
}

export interface World {
  map: RoadMap;
  seed: number;
  episodeId: string;
  /** Seconds since the episode start; physics steps so far. */
  t: number;
  tick: number;
  dtS: number;
  durationS: number;
  ego: Ego;
  vehicles: Vehicle[];
  pedestrians: Pedestrian[];
  events: ScriptedEvent[];
  /** Utterances started so far (the voice sensor renders each once). */
  utterances: Utterance[];
  voice: VoiceIntent;
  /** Speech length of each clip, by command, s (from the clip catalog; 1 s when unknown). */
  clipSpeechS: Partial<Record<VoiceCommand, number[]>>;
  nextId: number;
  /** Traffic density target, vehicles per km per lane. */
  densityPerKmLane: number;
  rng: Rng;
  /** Stop lines the ego has come to a full stop at (within 8 m before the line). */
  egoStoppedAt: Set<number>;
  /** Ego events this physics step. */
  collision: boolean;
  collidedWith: number[];
  done: boolean;
}
