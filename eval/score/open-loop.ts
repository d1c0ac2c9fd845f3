/**
 * Open-loop scoring: decisions made on recorded frames against the expert's label of the same step,
 * overall, per class, per condition, the hazard ranking, and latency. Pure: eval/run makes the records.
 */
import { ACTION_NAMES } from "../../schemas/index.ts";
import { addConfusion, confusionOf, emptyConfusion, metricsFromConfusion, type ClassificationMetrics } from "../../fusion/train/metrics.ts";
import { CONDITION_DIMENSIONS, orderedValues, type Conditions } from "./conditions.ts";
import { bootstrap, type BootstrapOptions } from "./bootstrap.ts";
import { distribution } from "./distribution.ts";
import { meanAveragePrecision } from "./ranking.ts";
import type { OpenLoopIntervals, OpenLoopReport, SliceMetrics } from "./report.ts";

/** fusiond.DrivingAction in enum order (value i + 1), the classes decisions are scored on. */
export const ACTION_CLASSES = ACTION_NAMES;
/** The classes whose probability ranks danger: the hazard ranking's AP is computed for each. */
export const HAZARD_CLASSES = ["BRAKE_HARD", "STOP", "DECELERATE"] as const;

/** One decision joined to its label. */
export interface DecisionRecord {
  episode: string;
  /** Seconds from the start of its recording (for the timeline). */
  tS: number;
  /** Class index of the expert's action. */
  truth: number;
  /** Class index of the decision (after the supervisor). */
  pred: number;
  /** The model's class probabilities (in ACTION_CLASSES order); absent when a rule decided without a model. */
  probs?: readonly number[];
  conditions: Conditions;
  alignMs: number;
  inferenceMs: number;
  override: string;
  /** Per modality: "ok" | "stale" | "missing" in the frame the decision saw. */
  sensors: Record<string, "ok" | "stale" | "missing">;
}

export interface OpenLoopInput {
  files: string[];
  decisions: number;
  durationS: number;
  masked: string[];
}

/** Ranking score of a class for one record: its probability, or 1/0 for the action a rule chose. */
export const scoreOf = (r: DecisionRecord, cls: number): number => (r.probs ? (r.probs[cls] ?? 0) : r.pred === cls ? 1 : 0);

function hazardAP(records: readonly DecisionRecord[]): { ap: Record<string, number | null>; meanAP: number | null } {
  const scores: Record<string, number[]> = {};
  for (const h of HAZARD_CLASSES) {
    const c = ACTION_CLASSES.indexOf(h);
    scores[h] = records.map((r) => scoreOf(r, c));
  }
  return meanAveragePrecision(scores, records.map((r) => ACTION_CLASSES[r.truth] ?? ""));
}

export function sliceMetrics(records: readonly DecisionRecord[]): SliceMetrics & { metrics: ClassificationMetrics } {
  const m = metricsFromConfusion(confusionOf(records.map((r) => r.truth), records.map((r) => r.pred), ACTION_CLASSES.length));
  return {
    n: m.n,
    accuracy: m.accuracy,
    macroF1: m.macroF1,
    macroPrecision: m.macroPrecision,
    macroRecall: m.macroRecall,
    meanAP: hazardAP(records).meanAP,
    metrics: m,
  };
}

export function scoreOpenLoop(records: readonly DecisionRecord[], input: OpenLoopInput): OpenLoopReport {
  const { metrics: m, ...overall } = sliceMetrics(records);
  const byCondition: OpenLoopReport["byCondition"] = {};
  for (const dim of CONDITION_DIMENSIONS) {
    const groups = byValue(records, dim);
    byCondition[dim] = Object.fromEntries(
      orderedValues(dim, groups.keys()).map((v) => {
        const { metrics: sm, ...slice } = sliceMetrics(groups.get(v)!);
        return [v, { ...slice, confusion: sm.confusion }];
      }),
    );
  }
  // Situations (the expert's reason), largest first: which situations lose most.
  const situations = byValue(records, "situation");
  const bySituation = Object.fromEntries(
    [...situations.entries()].sort((a, b) => b[1].length - a[1].length).map(([v, rs]) => {
      const { metrics: sm, ...slice } = sliceMetrics(rs);
      return [v, { ...slice, confusion: sm.confusion }];
    }),
  );
  const overrides: Record<string, number> = {};
  for (const r of records) overrides[r.override] = (overrides[r.override] ?? 0) + 1;
  const hazard = hazardAP(records);
  return {
    data: { files: input.files, decisions: input.decisions, labelled: records.length, episodes: new Set(records.map((r) => r.episode)).size, durationS: input.durationS },
    masked: input.masked,
    classes: [...ACTION_CLASSES],
    ...overall,
    perClass: Object.fromEntries(ACTION_CLASSES.map((c, i) => [c, m.perClass[i]!])),
    confusion: m.confusion,
    hazard: { classes: [...HAZARD_CLASSES], ...hazard },
    latency: {
      alignMs: distribution(records.map((r) => r.alignMs)),
      inferenceMs: distribution(records.map((r) => r.inferenceMs)),
      totalMs: distribution(records.map((r) => r.alignMs + r.inferenceMs)),
    },
    byCondition,
    ...(situations.size ? { bySituation } : {}),
    overrides,
  };
}

/** Per-episode confusion matrices, the sufficient statistics of the open-loop bootstrap. */
export function episodeConfusions(records: readonly DecisionRecord[]): Map<string, number[][]> {
  const out = new Map<string, number[][]>();
  for (const r of records) {
    let c = out.get(r.episode);
    if (!c) out.set(r.episode, (c = emptyConfusion(ACTION_CLASSES.length)));
    if (r.truth >= 0 && r.pred >= 0) c[r.truth]![r.pred]!++;
  }
  return out;
}

/** Pools per-episode confusions under bootstrap weights. */
export function pooledConfusion(units: readonly (readonly (readonly number[])[])[], weights: readonly number[]): number[][] {
  const into = emptyConfusion(ACTION_CLASSES.length);
  units.forEach((u, i) => {
    if (weights[i]) addConfusion(into, u, weights[i]);
  });
  return into;
}

/** Groups records by the value of one condition dimension. */
function byValue(records: readonly DecisionRecord[], dim: keyof Conditions): Map<string, DecisionRecord[]> {
  const groups = new Map<string, DecisionRecord[]>();
  for (const r of records) {
    const v = r.conditions[dim];
    if (v === undefined) continue;
    let g = groups.get(v);
    if (!g) groups.set(v, (g = []));
    g.push(r);
  }
  return groups;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * Bootstrap intervals of one model's accuracy and macro-F1, overall and per condition value. The unit is the
 * episode (decisions of one episode are not independent): each resample draws episodes with replacement and
 * pools their confusion matrices. A condition's interval resamples the episodes that have decisions in it.
 */
export function openLoopIntervals(records: readonly DecisionRecord[], options: BootstrapOptions = {}): OpenLoopIntervals {
  const interval = (recs: readonly DecisionRecord[]) => {
    const units = [...episodeConfusions(recs).values()];
    const stat = (f: "accuracy" | "macroF1") => (w: readonly number[]) => metricsFromConfusion(pooledConfusion(units, w))[f];
    const acc = bootstrap(units.length, stat("accuracy"), options);
    const f1 = bootstrap(units.length, stat("macroF1"), options);
    return { episodes: units.length, accuracy: [finiteOrNull(acc.lo), finiteOrNull(acc.hi)] as [number | null, number | null], macroF1: [finiteOrNull(f1.lo), finiteOrNull(f1.hi)] as [number | null, number | null] };
  };
  const all = interval(records);
  const byCondition: OpenLoopIntervals["byCondition"] = {};
  for (const dim of CONDITION_DIMENSIONS) {
    const groups = byValue(records, dim);
    byCondition[dim] = Object.fromEntries(orderedValues(dim, groups.keys()).map((v) => [v, interval(groups.get(v)!)]));
  }
  return { unit: "episode", level: options.level ?? 0.95, iterations: options.iterations ?? 2000, ...all, byCondition };
}
