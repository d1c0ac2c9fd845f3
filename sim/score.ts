/**
 * Episode scoring: collisions, near misses (time-to-collision < 1.5 s), stop-line and speed-limit
 * violations, voice-command compliance (judged against the expert: voice-compliance.ts), route completion
 * and comfort (jerk). Feed it the world after every physics step; events are counted at their onset.
 */
import { speedLimitAt } from "../domain/road-map.ts";
import { VoiceCompliance, type VoiceCheck } from "./voice-compliance.ts";
import type { World } from "./world/types.ts";
import { egoLeader } from "./world/world.ts";

export type { VoiceCheck } from "./voice-compliance.ts";

export const NEAR_MISS_TTC_S = 1.5;
/** Speeding counts above the limit plus this, m/s. */
export const SPEEDING_MARGIN_MPS = 1;

export interface EpisodeScore {
  episodeId: string;
  durationS: number;
  distanceM: number;
  routeCompletion: number;
  completed: boolean;
  collisions: number;
  nearMisses: number;
  minTtcS: number;
  stopLinesPassed: number;
  stopLineViolations: number;
  speedLimitViolations: number;
  speedingS: number;
  voiceCommands: number;
  voiceComplied: number;
  /** complied / (complied + failed): excused and pending commands count neither way; 1 when none was judged. */
  voiceCompliance: number;
  voice: VoiceCheck[];
  jerkRms: number;
  maxAbsJerk: number;
}

export class EpisodeScorer {
  private collisions = 0;
  private nearMisses = 0;
  private minTtc = Infinity;
  private inCollision = false;
  private inNearMiss = false;
  private speeding = false;
  private speedingS = 0;
  private speedViolations = 0;
  private stopPassed = 0;
  private stopViolations = 0;
  private jerk2 = 0;
  private maxJerk = 0;
  private n = 0;
  private lastFront: number | undefined;
  private readonly voice = new VoiceCompliance();
  private startS: number | undefined;
  private w: World | undefined;

  observe(w: World): void {
    this.w = w;
    const e = w.ego;
    this.startS ??= e.s;
    if (w.collision && !this.inCollision) this.collisions++;
    this.inCollision = w.collision;
    const lead = egoLeader(w);
    const closing = lead ? e.v - lead.v : 0;
    const ttc = lead && closing > 0.1 ? Math.max(0, lead.gap) / closing : Infinity;
    this.minTtc = Math.min(this.minTtc, ttc);
    const near = ttc < NEAR_MISS_TTC_S;
    if (near && !this.inNearMiss) this.nearMisses++;
    this.inNearMiss = near;
    const limit = speedLimitAt(w.map, e.s);
    const over = e.v > limit + SPEEDING_MARGIN_MPS;
    if (over) this.speedingS += w.dtS;
    if (over && !this.speeding) this.speedViolations++;
    this.speeding = over;
    const front = e.s + e.lengthM / 2;
    if (this.lastFront !== undefined) {
      for (const l of w.map.stopLines) {
        if (this.lastFront < l.stationM && front >= l.stationM) {
          this.stopPassed++;
          if (!w.egoStoppedAt.has(l.id)) this.stopViolations++;
        }
      }
    }
    this.lastFront = front;
    this.jerk2 += e.jerk * e.jerk;
    this.maxJerk = Math.max(this.maxJerk, Math.abs(e.jerk));
    this.n++;
    this.voice.observe(w);
  }

  result(): EpisodeScore {
    const w = this.w;
    if (!w) throw new Error("EpisodeScorer.result() before any observe()");
    const voice: VoiceCheck[] = this.voice.result();
    const judged = voice.filter((c) => c.outcome === "complied" || c.outcome === "failed");
    const complied = judged.filter((c) => c.outcome === "complied").length;
    const distanceM = w.ego.s - (this.startS ?? 0);
    return {
      episodeId: w.episodeId,
      durationS: w.t,
      distanceM,
      routeCompletion: Math.min(1, Math.max(0, w.ego.s / w.map.lengthM)),
      completed: w.ego.s >= w.map.lengthM,
      collisions: this.collisions,
      nearMisses: this.nearMisses,
      minTtcS: this.minTtc,
      stopLinesPassed: this.stopPassed,
      stopLineViolations: this.stopViolations,
      speedLimitViolations: this.speedViolations,
      speedingS: this.speedingS,
      voiceCommands: voice.length,
      voiceComplied: complied,
      voiceCompliance: judged.length ? complied / judged.length : 1,
      voice,
      jerkRms: this.n ? Math.sqrt(this.jerk2 / this.n) : 0,
      maxAbsJerk: this.maxJerk,
    };
  }
}
