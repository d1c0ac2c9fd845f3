/**
 * Closed-loop scoring: the simulator's episode scores pooled over a suite (collisions per 100 km, near
 * misses, rule violations, voice compliance, route completion, comfort), and the same events attributed to
 * the condition they happened in, step by step from each GroundTruth. Pure: eval/run runs the episodes.
 */
import type { TruthMessage } from "../../schemas/index.ts";
import type { EpisodeScore } from "../../sim/score.ts";
import { CONDITION_DIMENSIONS, conditionsOf, orderedValues, type ConditionDimension } from "./conditions.ts";
import type { ClosedLoopReport, ConditionDriving, EpisodeRow, Timeline } from "./report.ts";

interface Acc {
  m: number;
  s: number;
  collisions: number;
  nearMisses: number;
}

export const per100km = (events: number, km: number): number | null => (km > 0 ? (events / km) * 100 : null);

const toDriving = (a: Acc): ConditionDriving => ({
  km: a.m / 1000,
  durationS: a.s,
  collisions: a.collisions,
  collisionsPer100km: per100km(a.collisions, a.m / 1000),
  nearMisses: a.nearMisses,
  nearMissesPer100km: per100km(a.nearMisses, a.m / 1000),
});

/**
 * Follows one episode step by step from its GroundTruth messages: distance and time per condition (the
 * interval after a step counts for that step's condition), collision and near-miss onsets where they began.
 */
export class ConditionTracker {
  private readonly acc = new Map<string, Acc>();
  private last: { stationM: number; tS: number; keys: string[] } | undefined;
  private inCollision = false;
  private inNearMiss = false;
  collisions = 0;
  nearMisses = 0;

  /** `tS`: the step's time, s. */
  observe(truth: Partial<TruthMessage>, tS: number): { collisionOnset: boolean } {
    const c = conditionsOf(truth);
    const keys = CONDITION_DIMENSIONS.map((d) => `${d}\u0000${c[d]}`);
    const stationM = Number(truth.station_m ?? 0);
    if (this.last) {
      const dm = Math.max(0, stationM - this.last.stationM);
      const ds = Math.max(0, tS - this.last.tS);
      for (const k of this.last.keys) {
        const a = this.get(k);
        a.m += dm;
        a.s += ds;
      }
    } else for (const k of keys) this.get(k);
    const collision = Boolean(truth.collision);
    const near = Boolean(truth.near_miss);
    const collisionOnset = collision && !this.inCollision;
    if (collisionOnset) {
      this.collisions++;
      for (const k of keys) this.get(k).collisions++;
    }
    if (near && !this.inNearMiss) {
      this.nearMisses++;
      for (const k of keys) this.get(k).nearMisses++;
    }
    this.inCollision = collision;
    this.inNearMiss = near;
    this.last = { stationM, tS, keys };
    return { collisionOnset };
  }

  private get(k: string): Acc {
    let a = this.acc.get(k);
    if (!a) this.acc.set(k, (a = { m: 0, s: 0, collisions: 0, nearMisses: 0 }));
    return a;
  }

  byCondition(): EpisodeRow["byCondition"] {
    const out: EpisodeRow["byCondition"] = {};
    for (const dim of CONDITION_DIMENSIONS) out[dim] = {};
    for (const [k, a] of this.acc) {
      const [dim, value] = k.split("\u0000") as [ConditionDimension, string];
      out[dim]![value] = toDriving(a);
    }
    return out;
  }
}

export interface EpisodeRunInfo {
  scenario: string;
  seed: number;
  weather: string[];
  score: EpisodeScore;
  byCondition: EpisodeRow["byCondition"];
  decisions: number;
  stepsWithoutDecision: number;
  aborted: boolean;
}

export function episodeRow(e: EpisodeRunInfo): EpisodeRow {
  const s = e.score;
  const judged = s.voice.filter((v) => v.outcome === "complied" || v.outcome === "failed");
  return {
    scenario: e.scenario,
    seed: e.seed,
    weather: e.weather,
    km: s.distanceM / 1000,
    durationS: s.durationS,
    collisions: s.collisions,
    nearMisses: s.nearMisses,
    stopLinesPassed: s.stopLinesPassed,
    stopLineViolations: s.stopLineViolations,
    speedLimitViolations: s.speedLimitViolations,
    speedingS: s.speedingS,
    voiceCommands: s.voice.length,
    voiceComplied: judged.filter((v) => v.outcome === "complied").length,
    voiceJudged: judged.length,
    routeCompletion: s.routeCompletion,
    completed: s.completed,
    jerkRms: s.jerkRms,
    maxAbsJerk: s.maxAbsJerk,
    decisions: e.decisions,
    stepsWithoutDecision: e.stepsWithoutDecision,
    aborted: e.aborted,
    byCondition: e.byCondition,
  };
}

const sum = (rows: readonly EpisodeRow[], f: (r: EpisodeRow) => number): number => rows.reduce((a, r) => a + f(r), 0);

/** Pools condition figures over episodes (the per-100-km rates are recomputed from the pooled sums). */
export function poolConditions(rows: readonly EpisodeRow[]): ClosedLoopReport["byCondition"] {
  const out: ClosedLoopReport["byCondition"] = {};
  for (const dim of CONDITION_DIMENSIONS) {
    const acc = new Map<string, Acc>();
    for (const r of rows) {
      for (const [v, d] of Object.entries(r.byCondition[dim] ?? {})) {
        let a = acc.get(v);
        if (!a) acc.set(v, (a = { m: 0, s: 0, collisions: 0, nearMisses: 0 }));
        a.m += d.km * 1000;
        a.s += d.durationS;
        a.collisions += d.collisions;
        a.nearMisses += d.nearMisses;
      }
    }
    out[dim] = Object.fromEntries(orderedValues(dim, acc.keys()).map((v) => [v, toDriving(acc.get(v)!)]));
  }
  return out;
}

export function scoreClosedLoop(
  rows: readonly EpisodeRow[],
  meta: { suite: string; transport: "in-process" | "mqtt"; masked: string[]; timeline?: Timeline },
): ClosedLoopReport {
  const km = sum(rows, (r) => r.km);
  const collisions = sum(rows, (r) => r.collisions);
  const nearMisses = sum(rows, (r) => r.nearMisses);
  const judged = sum(rows, (r) => r.voiceJudged);
  const complied = sum(rows, (r) => r.voiceComplied);
  return {
    suite: meta.suite,
    transport: meta.transport,
    masked: meta.masked,
    episodes: rows.length,
    km,
    durationS: sum(rows, (r) => r.durationS),
    collisions,
    collisionsPer100km: per100km(collisions, km),
    nearMisses,
    nearMissesPer100km: per100km(nearMisses, km),
    stopLinesPassed: sum(rows, (r) => r.stopLinesPassed),
    stopLineViolations: sum(rows, (r) => r.stopLineViolations),
    speedLimitViolations: sum(rows, (r) => r.speedLimitViolations),
    speedingS: sum(rows, (r) => r.speedingS),
    voiceCommands: sum(rows, (r) => r.voiceCommands),
    voiceComplied: complied,
    voiceCompliance: judged ? complied / judged : null,
    routeCompletion: rows.length ? sum(rows, (r) => r.routeCompletion) / rows.length : 0,
    completed: rows.filter((r) => r.completed).length,
    comfort: { jerkRmsMean: rows.length ? sum(rows, (r) => r.jerkRms) / rows.length : 0, maxAbsJerk: Math.max(0, ...rows.map((r) => r.maxAbsJerk)) },
    decisions: sum(rows, (r) => r.decisions),
    stepsWithoutDecision: sum(rows, (r) => r.stepsWithoutDecision),
    aborted: rows.filter((r) => r.aborted).length,
    byCondition: poolConditions(rows),
    perEpisode: [...rows],
    ...(meta.timeline ? { timeline: meta.timeline } : {}),
  };
}
