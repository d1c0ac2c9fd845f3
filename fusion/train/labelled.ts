/**
 * Fused frames + the simulator's ground truth → labelled samples. Pure: the caller reads the recording
 * and aligns it (train/data.ts, with the pipeline's aligner), this joins each frame to the truth of
 * its step and derives the labels: the expert's action, and for pretraining, "obstacle ahead" and the
 * spoken command of the voice slot.
 */
import { enumName, timestampToNs, Weather, type FusedFrame, type TruthMessage } from "../../schemas/index.ts";

/** A GroundTruth as labelling reads it: decoded or built by the simulator, any field possibly absent. */
export type TruthLike = Partial<TruthMessage>;
import { classIndexOf } from "../actions.ts";
import { extractFeatures, type FeatureContext } from "../features/frame.ts";
import type { LabelledSample } from "./dataset.ts";

import { COMMAND_VOCAB, VoiceIntentTracker } from "../features/intent.ts";
import { observeStopLine, StopLineTracker } from "../features/stop-line.ts";

export { COMMAND_VOCAB };
export const commandIndex = (c: string): number => Math.max(0, COMMAND_VOCAB.indexOf(c as (typeof COMMAND_VOCAB)[number]));

/** Obstacle ahead: an object in the ego lane (|y| < half lane) between 0 and this many metres ahead. */
export const OBSTACLE_RANGE_M = 50;

export interface TruthIndex {
  /** Truth messages sorted by stamp. */
  stamps: bigint[];
  truths: TruthLike[];
  /** RawAudio stamp → command spoken in it. */
  utterances: Map<bigint, string>;
}

export function indexTruths(truths: readonly TruthLike[]): TruthIndex {
  const sorted = [...truths].sort((a, b) => (stampOf(a) < stampOf(b) ? -1 : stampOf(a) > stampOf(b) ? 1 : 0));
  const utterances = new Map<bigint, string>();
  for (const t of sorted) {
    for (const u of t.voice_utterances ?? []) {
      utterances.set(timestampToNs(u.stamp), String(u.command ?? ""));
    }
  }
  return { stamps: sorted.map(stampOf), truths: sorted, utterances };
}

const stampOf = (t: TruthLike): bigint => timestampToNs(t.stamp);

/** The truth of the step at or just before `stampNs` (within maxGapNs), or undefined. */
export function truthAt(index: TruthIndex, stampNs: bigint, maxGapNs = 100_000_000n): TruthLike | undefined {
  let lo = 0;
  let hi = index.stamps.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index.stamps[mid]! <= stampNs) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0 || stampNs - index.stamps[found]! > maxGapNs) return undefined;
  return index.truths[found];
}

export function obstacleAhead(truth: TruthLike, laneHalfWidthM = 1.75): number {
  const objects = truth.objects ?? [];
  return objects.some((o) => {
    const x = Number(o.x_m);
    const y = Number(o.y_m);
    return x > 0 && x < OBSTACLE_RANGE_M && Math.abs(y) < laneHalfWidthM;
  })
    ? 1
    : 0;
}

export function weatherName(v: unknown): string {
  return typeof v === "number" ? (enumName(Weather, v) ?? String(v)) : String(v ?? "");
}

/**
 * One sample per `every`-th frame (in stamp order) that has a truth with an expert label; frames without
 * are skipped and counted. Every frame feeds the voice intent tracker (one per group, i.e. episode), as the
 * DecisionEngine's does at inference — here with the command actually spoken (the recogniser's training
 * label) where inference has the recogniser's answer. Every frame feeds the stop-line tracker too (stop-line.ts), with
 * the map of its episode, as the DecisionEngine's does.
 */
export function labelFrames(
  frames: Iterable<FusedFrame>,
  truths: TruthIndex,
  ctx: FeatureContext | ((truth: TruthLike) => FeatureContext),
  group: (truth: TruthLike) => string,
  every = 1,
): { samples: LabelledSample[]; skipped: number } {
  const samples: LabelledSample[] = [];
  let skipped = 0;
  let i = -1;
  let tracker = new VoiceIntentTracker();
  let stopLine = new StopLineTracker();
  let lastGroup: string | undefined;
  let base: FeatureContext | undefined = typeof ctx === "function" ? undefined : ctx;
  for (const frame of frames) {
    i++;
    const truth = truthAt(truths, frame.stampNs);
    if (truth) {
      const g = group(truth);
      if (lastGroup !== undefined && g !== lastGroup) {
        tracker = new VoiceIntentTracker();
        stopLine = new StopLineTracker();
      }
      lastGroup = g;
      if (typeof ctx === "function") base = ctx(truth);
    }
    // The decision engine holds one map per episode (eval) or one for the drive (daemon): frames before the
    // first truth have none here, as a frame off its map has no context there.
    if (base?.config?.stopServed === true) observeStopLine(stopLine, frame, base.map);
    const voice = frame.present.voice ? frame.slots.voice : undefined;
    if (voice && tracker.isNew(voice.stampNs)) tracker.hear(voice.stampNs, truths.utterances.get(voice.stampNs) ?? "", frame.stampNs);
    if (i % every !== 0) continue;
    const label = truth ? classIndexOf(truth.expert_action) : -1;
    if (!truth || label < 0) {
      skipped++;
      continue;
    }
    const features = extractFeatures(frame, { ...base, intent: tracker.features(frame.stampNs), stopState: stopLine.features() });
    samples.push({
      inputs: features.inputs,
      label,
      group: group(truth),
      tags: { weather: weatherName(truth.weather), inTunnel: Boolean(truth.in_tunnel) },
      aux: { obstacleAhead: obstacleAhead(truth), command: voice ? commandIndex(truths.utterances.get(voice.stampNs) ?? "") : 0 },
    });
  }
  return { samples, skipped };
}
