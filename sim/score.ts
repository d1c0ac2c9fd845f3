/**
 * Episode scoring: collisions, near misses (time-to-collision < 1.5 s), stop-line and speed-limit
 * violations, voice-command compliance, route completion and comfort (jerk). Feed it the world after every
 * physics step; events are counted at their onset, not per step.
 */
import { speedLimitAt } from "../schemas/map.ts";
import { STANDSTILL_MPS } from "./world/rules.ts";
import type { VoiceCommand, World } from "./world/types.ts";
import { egoLeader } from "./world/world.ts";

export const NEAR_MISS_TTC_S = 1.5;
/** Speeding counts above the limit plus this, m/s. */
export const SPEEDING_MARGIN_MPS = 1;

export interface VoiceCheck {
  command: VoiceCommand;
  heardAtS: number;
  /** complied, failed, or excused (the request could not apply, e.g. no lane to the left). */
  outcome: "pending" | "complied" | "failed" | "excused";
}

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
  /** complied / (commands not excused); 1 when there were none. */
  voiceCompliance: number;
  voice: VoiceCheck[];
  jerkRms: number;
  maxAbsJerk: number;
}

interface Pending extends VoiceCheck {
  deadlineS: number;
  v0: number;
  lane0: number;
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
  private lastHeard = -Infinity;
  private readonly checks: Pending[] = [];
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
    this.voice(w, limit, lead);
  }

  private voice(w: World, limit: number, lead: { gap: number; v: number } | undefined): void {
    const e = w.ego;
    const vi = w.voice;
    if (vi.last && vi.heardAtS > this.lastHeard) {
      this.lastHeard = vi.heardAtS;
      const c: Pending = { command: vi.last, heardAtS: vi.heardAtS, outcome: "pending", deadlineS: vi.heardAtS + 12, v0: e.v, lane0: e.lane };
      if (c.command === "pull over") c.deadlineS = vi.heardAtS + 30;
      if (c.command === "change lane left" || c.command === "change lane right") c.deadlineS = vi.heardAtS + 15;
      const blocked = lead !== undefined && lead.gap < 2.5 * Math.max(e.v, 3);
      if (c.command === "change lane left" && e.lane >= w.map.laneCount - 1) c.outcome = "excused";
      if (c.command === "change lane right" && e.lane === 0) c.outcome = "excused";
      if (c.command === "speed up" && (e.v >= limit - 1.5 || blocked)) c.outcome = "excused";
      if (c.command === "slow down" && e.v < 4) c.outcome = "excused";
      this.checks.push(c);
    }
    for (const c of this.checks) {
      if (c.outcome !== "pending") continue;
      let ok = false;
      switch (c.command) {
        case "stop":
          ok = e.v < STANDSTILL_MPS;
          break;
        case "pull over":
          ok = e.lane === 0 && e.v < STANDSTILL_MPS && e.pulledOver;
          break;
        case "slow down":
          ok = e.v <= c.v0 - 2 || e.v < 3;
          break;
        case "speed up":
          ok = e.v >= Math.min(c.v0 + 1.5, limit - 1.5);
          break;
        case "change lane left":
          ok = e.lane > c.lane0;
          break;
        case "change lane right":
          ok = e.lane < c.lane0;
          break;
        case "continue":
          ok = e.v > 1;
          break;
      }
      if (ok) c.outcome = "complied";
      else if (w.t > c.deadlineS) c.outcome = "failed";
    }
  }

  result(): EpisodeScore {
    const w = this.w;
    if (!w) throw new Error("EpisodeScorer.result() before any observe()");
    const voice = this.checks.map(({ command, heardAtS, outcome }) => ({ command, heardAtS, outcome }));
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
