/**
 * The evaluation report: one JSON document with a stable schema (documented in docs/eval.md). Fields are
 * only added, never renamed or removed; `schema` names the version. The zod schema is the source of truth:
 * `fusiond eval` validates what it writes, and consumers may validate what they read.
 */
import { z } from "zod";

export const REPORT_SCHEMA = "fusiond.eval/1";

const num = z.number();
const nullableNum = z.number().nullable();

export const DistributionSchema = z.object({
  n: num,
  mean: num,
  p50: num,
  p90: num,
  p99: num,
  max: num,
  histogram: z.object({ edges: z.array(num), counts: z.array(num) }),
});
export type Distribution = z.infer<typeof DistributionSchema>;

export const ClassScoresSchema = z.object({
  precision: nullableNum,
  recall: nullableNum,
  f1: nullableNum,
  support: num,
  predicted: num,
});

/** Open-loop figures of one slice of the data (everything, or one condition). */
export const SliceMetricsSchema = z.object({
  n: num,
  accuracy: num,
  macroF1: num,
  macroPrecision: num,
  macroRecall: num,
  /** Mean AP over the hazard classes with a positive in the slice (null: none). */
  meanAP: nullableNum,
  /** The slice's confusion matrix (rows: expert action, columns: decision); in open-loop byCondition slices. */
  confusion: z.array(z.array(num)).optional(),
});

const Ci = z.tuple([nullableNum, nullableNum]);
const IntervalSliceSchema = z.object({
  /** Episodes resampled (those with decisions in the slice). */
  episodes: num,
  accuracy: Ci,
  macroF1: Ci,
});

/** Percentile bootstrap intervals of one model's open-loop scores, resampling episodes (eval/score/open-loop.ts). */
export const OpenLoopIntervalsSchema = IntervalSliceSchema.extend({
  unit: z.literal("episode"),
  level: num,
  iterations: num,
  /** dimension → value → intervals of that slice. */
  byCondition: z.record(z.string(), z.record(z.string(), IntervalSliceSchema)),
});
export type OpenLoopIntervals = z.infer<typeof OpenLoopIntervalsSchema>;
export type SliceMetrics = z.infer<typeof SliceMetricsSchema>;

export const TimelineSchema = z.object({
  /** Episode shown, and where its steps come from. */
  episode: z.string(),
  source: z.enum(["open-loop", "closed-loop"]),
  /** Seconds from the episode's first step. */
  t: z.array(num),
  /** Action names. */
  decision: z.array(z.string()),
  expert: z.array(z.string()),
  /** Per modality, per step: "ok", "stale" (present, older than 0.5 s), "missing". */
  sensors: z.record(z.string(), z.array(z.enum(["ok", "stale", "missing"]))),
  speedMps: z.array(num).optional(),
  /** Steps (indices into t) with a collision onset. */
  collisions: z.array(num).optional(),
});
export type Timeline = z.infer<typeof TimelineSchema>;

export const OpenLoopSchema = z.object({
  data: z.object({
    files: z.array(z.string()),
    /** Decisions made (one per fused frame). */
    decisions: num,
    /** Decisions joined to an expert label (the rest had no GroundTruth within 100 ms). */
    labelled: num,
    episodes: num,
    /** Recorded time covered, s. */
    durationS: num,
  }),
  /** Modalities removed from every frame before the decision (ablation, or the model does not read them). */
  masked: z.array(z.string()),
  classes: z.array(z.string()),
  n: num,
  accuracy: num,
  macroF1: num,
  macroPrecision: num,
  macroRecall: num,
  perClass: z.record(z.string(), ClassScoresSchema),
  /** Rows: expert action, columns: decision, both in `classes` order. */
  confusion: z.array(z.array(num)),
  hazard: z.object({
    classes: z.array(z.string()),
    /** AP of each hazard class's probability (one against the rest); null when the class never occurs. */
    ap: z.record(z.string(), nullableNum),
    meanAP: nullableNum,
  }),
  latency: z.object({
    /** Last needed input received → frame emitted by the aligner (virtual time: as on the vehicle). */
    alignMs: DistributionSchema,
    /** Model call, wall clock of this machine. */
    inferenceMs: DistributionSchema,
    /** alignMs + inferenceMs: the decision latency. */
    totalMs: DistributionSchema,
  }),
  /** dimension (weather, tunnel, voice, traffic) → value → metrics. */
  byCondition: z.record(z.string(), z.record(z.string(), SliceMetricsSchema)),
  /** Situation (why the expert chose its label: GroundTruth.expert_reason, e.g. follow, stop_line) → metrics, largest first. */
  bySituation: z.record(z.string(), SliceMetricsSchema).optional(),
  /** Decisions by the supervisor's override reason (OVERRIDE_NONE: the model's own action). */
  overrides: z.record(z.string(), num),
  /** Bootstrap intervals of accuracy and macro-F1, overall and per condition (absent in ablation rows' runs). */
  intervals: OpenLoopIntervalsSchema.optional(),
  timeline: TimelineSchema.optional(),
});
export type OpenLoopReport = z.infer<typeof OpenLoopSchema>;

export const ConditionDrivingSchema = z.object({
  km: num,
  durationS: num,
  collisions: num,
  collisionsPer100km: nullableNum,
  nearMisses: num,
  nearMissesPer100km: nullableNum,
});
export type ConditionDriving = z.infer<typeof ConditionDrivingSchema>;

export const EpisodeRowSchema = z.object({
  scenario: z.string(),
  seed: num,
  weather: z.array(z.string()),
  km: num,
  durationS: num,
  collisions: num,
  nearMisses: num,
  stopLinesPassed: num,
  stopLineViolations: num,
  speedLimitViolations: num,
  speedingS: num,
  voiceCommands: num,
  voiceComplied: num,
  voiceJudged: num,
  routeCompletion: num,
  completed: z.boolean(),
  jerkRms: num,
  maxAbsJerk: num,
  decisions: num,
  stepsWithoutDecision: num,
  aborted: z.boolean(),
  /** Condition at each step (from its GroundTruth): dimension → value → distance, time and events there. */
  byCondition: z.record(z.string(), z.record(z.string(), ConditionDrivingSchema)),
});
export type EpisodeRow = z.infer<typeof EpisodeRowSchema>;

export const ClosedLoopSchema = z.object({
  suite: z.string(),
  transport: z.enum(["in-process", "mqtt"]),
  masked: z.array(z.string()),
  episodes: num,
  km: num,
  durationS: num,
  collisions: num,
  collisionsPer100km: nullableNum,
  nearMisses: num,
  nearMissesPer100km: nullableNum,
  stopLinesPassed: num,
  stopLineViolations: num,
  speedLimitViolations: num,
  speedingS: num,
  voiceCommands: num,
  voiceComplied: num,
  /** complied / judged over all episodes (excused requests not judged); null when none was judged. */
  voiceCompliance: nullableNum,
  /** Mean over episodes of the route fraction driven. */
  routeCompletion: num,
  completed: num,
  comfort: z.object({ jerkRmsMean: num, maxAbsJerk: num }),
  decisions: num,
  stepsWithoutDecision: num,
  aborted: num,
  /** dimension → value → pooled over episodes. */
  byCondition: z.record(z.string(), z.record(z.string(), ConditionDrivingSchema)),
  perEpisode: z.array(EpisodeRowSchema),
  timeline: TimelineSchema.optional(),
});
export type ClosedLoopReport = z.infer<typeof ClosedLoopSchema>;

export const AblationRowSchema = z.object({
  /** "all sensors", "without camera", …, or "baseline <model id>". */
  name: z.string(),
  kind: z.enum(["full", "masked", "baseline"]),
  model: z.string(),
  masked: z.array(z.string()),
  accuracy: num,
  macroF1: num,
  meanAP: nullableNum,
  /** Differences to the full model on the same frames. */
  deltaAccuracy: num,
  deltaMacroF1: num,
  byWeatherMacroF1: z.record(z.string(), num),
});
export type AblationRow = z.infer<typeof AblationRowSchema>;

export const ModelInfoSchema = z.object({
  id: z.string(),
  hash: z.string(),
  dir: z.string(),
  strategy: z.string(),
  modalities: z.array(z.string()),
  backend: z.string(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const ModelReportSchema = z.object({
  model: ModelInfoSchema,
  openLoop: OpenLoopSchema.optional(),
  ablation: z.array(AblationRowSchema).optional(),
  closedLoop: ClosedLoopSchema.optional(),
});
export type ModelReport = z.infer<typeof ModelReportSchema>;

export const ComparisonSchema = z.object({
  /** e.g. "openLoop.macroF1", "closedLoop.collisionsPer100km", "closedLoop.byCondition.weather.FOG.collisionsPer100km". */
  metric: z.string(),
  baseline: z.string(),
  model: z.string(),
  baselineValue: nullableNum,
  modelValue: nullableNum,
  /** model − baseline, with its paired bootstrap interval over episodes. */
  difference: nullableNum,
  ci: z.tuple([nullableNum, nullableNum]),
  /** For counts: 1 − model/baseline (0.5 = half as many), with its interval; absent for scores. */
  reduction: z.object({ value: nullableNum, ci: z.tuple([nullableNum, nullableNum]) }).optional(),
  level: num,
  iterations: num,
  units: num,
});
export type Comparison = z.infer<typeof ComparisonSchema>;

/** A unit of work (one recording, one episode) that gave no result: left out of the figures, listed here. */
export const FailureSchema = z.object({
  kind: z.enum(["open-loop", "closed-loop"]),
  /** Model id. */
  model: z.string(),
  /** The recording as given, or "scenario (seed N)". */
  unit: z.string(),
  /** What went wrong, as the runner said it. */
  reason: z.string(),
});
export type Failure = z.infer<typeof FailureSchema>;

export const EvalReportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  created: z.string(),
  command: z.string(),
  fusiondVersion: z.string(),
  /** Wall time of the whole evaluation, s. */
  wallS: num,
  /** One per model, the baseline (the first --model / --compare directory) first. */
  models: z.array(ModelReportSchema),
  /** The first model's open-loop and closed-loop results, repeated here for convenience. */
  openLoop: OpenLoopSchema.optional(),
  closedLoop: ClosedLoopSchema.optional(),
  /** Each further model against the first (only with several models). */
  comparisons: z.array(ComparisonSchema),
  bootstrap: z.object({ iterations: num, level: num, seed: num }),
  /** Units that failed (absent when none did); the command then exits 1. */
  failures: z.array(FailureSchema).optional(),
  /**
   * Present when units of the held-out test split were evaluated: how many, and the models whose card says they
   * already saw it at training — for those, this is a second look (docs/eval.md, "Protocol").
   */
  testSplit: z.object({ episodes: num, secondLooks: z.array(z.object({ model: z.string(), firstLook: z.string() })) }).optional(),
});
export type EvalReport = z.infer<typeof EvalReportSchema>;

/** Throws a readable error when a report does not match the schema (a bug in whoever made it). */
export function checkReport(report: unknown): EvalReport {
  const r = EvalReportSchema.safeParse(report);
  if (!r.success) throw new Error(`evaluation report does not match ${REPORT_SCHEMA}: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return r.data;
}
