/**
 * One evaluation from start to report: each model open loop (and its ablation), closed loop, then the
 * comparisons of every further model against the first. The command (bin/commands/eval.ts) parses flags,
 * draws progress and writes files; this composes the runners and scoring.
 */
import { DEFAULT_SUPERVISOR } from "../../fusion/index.ts";
import { scoreClosedLoop } from "../score/closed-loop.ts";
import { compareClosedLoop, compareOpenLoop } from "../score/compare.ts";
import { episodeConfusions, openLoopIntervals, type DecisionRecord } from "../score/open-loop.ts";
import { REPORT_SCHEMA, checkReport, type AblationRow, type Comparison, type EvalReport, type ModelReport, type OpenLoopReport } from "../score/report.ts";
import { buildTimeline } from "../score/timeline.ts";
import type { BackendChoice } from "../../fusion/index.ts";
import { FusiondError, type Modality } from "../../schemas/index.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import type { ModelInfo, Failure } from "../score/report.ts";
import type { InputSpec } from "../../fusion/index.ts";
import { runClosedLoopSuite, runEpisodeInProcess, type EpisodeResult, type SuiteProgress } from "./closed-loop.ts";
import { loadEvalModel, unusedModalities, type EvalModel } from "./decider.ts";
import { EXPERT_MODEL_ID, isExpert } from "./expert.ts";
import { readFirstTestLook, testSplitUnits } from "./test-split.ts";
import { mergeOpenLoop, openLoopFile, type OpenLoopFilePart, type OpenLoopOptions } from "./open-loop.ts";

export interface EvaluateOptions {
  /** Model directories; the first is the baseline of the comparisons. */
  models: string[];
  /** Recordings for open loop (none: no open loop). */
  data: string[];
  /** Scenarios for closed loop (none: no closed loop). */
  scenarios: ScenarioSpec[];
  suiteName: string;
  ablation: boolean;
  /** Single-modality (or any) baseline models for the ablation table. */
  baselines: string[];
  backend: BackendChoice;
  /** Mask the modalities a model does not read (default true). */
  maskUnused: boolean;
  bootstrap: { iterations: number; level: number; seed: number };
  parallel: number;
  timelineEpisode?: string;
  /** Closed loop over MQTT instead of in process. */
  runEpisode?: typeof runEpisodeInProcess;
  transport: "in-process" | "mqtt";
  command: string;
  version: string;
  /** Passed to every open-loop run (tests: recordings from memory). */
  openLoopOptions?: Pick<OpenLoopOptions, "open">;
  /** Loads a model (tests inject fakes). */
  load?: (dir: string) => Promise<EvalModel>;
  /** Where the units run (default: in this process, inProcessRunner). */
  runner?: EvalRunner;
  log?: (line: string) => void;
  onOpenLoopProgress?: (model: string, files: number, file: number, decisions: number) => void;
  onClosedLoopProgress?: (model: string, p: SuiteProgress) => void;
  now?: () => number;
}

/** A model as the evaluation plans with it: what it is and what it reads. */
export interface ModelHandle {
  info: ModelInfo;
  spec: InputSpec;
}

/** The result of one unit of work, or why there is none. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** How an open-loop pass over the recordings decides: which sensors are masked, which supervisor. */
export interface OpenLoopSettings {
  mask: Modality[];
  /** The ablation's supervisor: the daemon's with no critical sensors (the model itself answers without one). */
  ablation: boolean;
}

/**
 * Runs the units of an evaluation — one recording open loop, one closed-loop episode — in this process or
 * on a fleet of workers. Both run exactly openLoopFile / runEpisodeInProcess; evaluate() merges.
 */
export interface EvalRunner {
  /** true: every pass may run at the same time (a fleet); false: one after another, one model loaded at a time. */
  readonly concurrent: boolean;
  model(dir: string): Promise<ModelHandle>;
  release(model: ModelHandle): void;
  openLoop(files: readonly string[], model: ModelHandle, s: OpenLoopSettings, onProgress?: (files: number, file: number, decisions: number) => void): Promise<Outcome<OpenLoopFilePart>[]>;
  closedLoop(specs: readonly ScenarioSpec[], model: ModelHandle, s: { mask: Modality[]; parallel: number }, onProgress?: (p: SuiteProgress) => void): Promise<Outcome<EpisodeResult>[]>;
}

/** The daemon's supervisor with no critical sensors: the ablation's (the switch to a fallback is off). */
export const ABLATION_SUPERVISOR = { ...DEFAULT_SUPERVISOR, critical: [] };

/** Why a unit failed, as one line. */
export const reasonOf = (err: unknown): string => {
  const e = err as { message?: string; code?: string };
  return `${e?.message ?? String(err)}${e?.code ? ` [${e.code}]` : ""}`;
};

/** The single-process runner: models loaded here, units run here (episodes `parallel` at a time). */
export function inProcessRunner(o: Pick<EvaluateOptions, "backend" | "load" | "openLoopOptions" | "runEpisode">): EvalRunner {
  const load = o.load ?? ((dir: string) => loadEvalModel(dir, o.backend));
  const loaded = new WeakMap<ModelHandle, EvalModel>();
  const get = (m: ModelHandle): EvalModel => loaded.get(m) ?? (m as EvalModel);
  return {
    concurrent: false,
    async model(dir) {
      const m = await load(dir);
      loaded.set(m, m);
      return m;
    },
    release: (m) => get(m).close(),
    async openLoop(files, m, s, onProgress) {
      const model = get(m);
      const out: Outcome<OpenLoopFilePart>[] = [];
      let decisions = 0;
      for (const [fi, file] of files.entries()) {
        try {
          const part = await openLoopFile(file, model, { ...o.openLoopOptions, mask: s.mask, ...(s.ablation ? { supervisor: ABLATION_SUPERVISOR } : {}) }, (n) => onProgress?.(files.length, fi, decisions + n));
          decisions += part.decisions;
          out.push({ ok: true, value: part });
        } catch (err) {
          out.push({ ok: false, reason: reasonOf(err) });
        }
      }
      return out;
    },
    async closedLoop(specs, m, s, onProgress) {
      const failed = new Map<number, string>();
      const results = await runClosedLoopSuite(specs, get(m), {
        mask: s.mask,
        parallel: s.parallel,
        ...(o.runEpisode ? { runEpisode: o.runEpisode } : {}),
        onFailure: (i, err) => failed.set(i, reasonOf(err)),
        ...(onProgress ? { onProgress } : {}),
      });
      return specs.map((_, i) => (failed.has(i) ? { ok: false, reason: failed.get(i)! } : { ok: true, value: results[i]! }));
    },
  };
}

export interface EvaluateResult {
  report: EvalReport;
  records: DecisionRecord[][];
  episodes: EpisodeResult[][];
}

function ablationRow(name: string, kind: AblationRow["kind"], model: string, r: OpenLoopReport, full: OpenLoopReport): AblationRow {
  return {
    name,
    kind,
    model,
    masked: r.masked,
    accuracy: r.accuracy,
    macroF1: r.macroF1,
    meanAP: r.hazard.meanAP,
    deltaAccuracy: r.accuracy - full.accuracy,
    deltaMacroF1: r.macroF1 - full.macroF1,
    byWeatherMacroF1: Object.fromEntries(Object.entries(r.byCondition["weather"] ?? {}).map(([k, v]) => [k, v.macroF1])),
  };
}

/** A scenario as a failure names it. */
export const episodeUnit = (spec: ScenarioSpec): string => `${spec.name} (seed ${spec.seed})`;

/** What one model's passes gave, before scoring. */
interface Gathered {
  info: ModelInfo;
  mask: Modality[];
  openLoop?: Outcome<OpenLoopFilePart>[];
  ablationFull?: Outcome<OpenLoopFilePart>[];
  ablationMasked?: Array<[Modality, Outcome<OpenLoopFilePart>[]]>;
  ablationBaselines?: Array<{ info: ModelInfo; mask: Modality[]; parts: Outcome<OpenLoopFilePart>[] }>;
  closedLoop?: Outcome<EpisodeResult>[];
}

async function gatherModel(dir: string, o: EvaluateOptions, runner: EvalRunner, log: (line: string) => void): Promise<Gathered> {
  const model = await runner.model(dir);
  // The expert reads no sensor: nothing to mask, and no open loop (its decisions are the labels).
  const expert = isExpert(model.info);
  const mask: Modality[] = o.maskUnused && !expert ? unusedModalities(model.spec) : [];
  const g: Gathered = { info: model.info, mask };
  const all = <T,>(tasks: Array<() => Promise<T>>): Promise<T[]> =>
    runner.concurrent ? Promise.all(tasks.map((t) => t())) : tasks.reduce<Promise<T[]>>(async (acc, t) => [...(await acc), await t()], Promise.resolve([]));
  try {
    log(`${model.info.id}: ${model.info.strategy}, reads ${model.info.modalities.join("+") || "no sensor (the simulator's truth)"}, backend ${model.info.backend}${mask.length ? `; masked: ${mask.join(", ")}` : ""}`);
    const tasks: Array<() => Promise<unknown>> = [];
    if (o.data.length && expert) log(`${model.info.id}: no open loop — its decisions are the labels (a score of 1 by construction); closed loop only`);
    if (o.data.length && !expert) {
      tasks.push(async () => {
        g.openLoop = await runner.openLoop(o.data, model, { mask, ablation: false }, (n, f, d) => o.onOpenLoopProgress?.(model.info.id, n, f, d));
      });
      if (o.ablation) {
        tasks.push(async () => {
          g.ablationFull = await runner.openLoop(o.data, model, { mask, ablation: true });
        });
        g.ablationMasked = [];
        model.spec.modalities.forEach((m, i) =>
          tasks.push(async () => {
            log(`${model.info.id}: ablation without ${m}`);
            g.ablationMasked![i] = [m, await runner.openLoop(o.data, model, { mask: [...mask, m], ablation: true })];
          }),
        );
        g.ablationBaselines = [];
        o.baselines.forEach((b, i) =>
          tasks.push(async () => {
            const bm = await runner.model(b);
            try {
              if (isExpert(bm.info)) return log(`ablation baseline ${bm.info.id} left out: it has no open loop (its decisions are the labels)`);
              log(`${model.info.id}: ablation baseline ${bm.info.id}`);
              const bmask = o.maskUnused ? unusedModalities(bm.spec) : [];
              g.ablationBaselines![i] = { info: bm.info, mask: bmask, parts: await runner.openLoop(o.data, bm, { mask: bmask, ablation: true }) };
            } finally {
              runner.release(bm);
            }
          }),
        );
      }
    }
    if (o.scenarios.length) {
      tasks.push(async () => {
        g.closedLoop = await runner.closedLoop(o.scenarios, model, { mask, parallel: o.parallel }, (p) => o.onClosedLoopProgress?.(model.info.id, p));
      });
    }
    await all(tasks);
  } finally {
    runner.release(model);
  }
  return g;
}

/** Files and parts that gave a result (in file order); failures noted. */
function scored(files: readonly string[], parts: Outcome<OpenLoopFilePart>[], model: string, failures: Failure[]): { files: string[]; parts: OpenLoopFilePart[] } {
  const out = { files: [] as string[], parts: [] as OpenLoopFilePart[] };
  parts.forEach((p, i) => {
    if (p.ok) {
      out.files.push(files[i]!);
      out.parts.push(p.value);
    } else if (!failures.some((f) => f.kind === "open-loop" && f.model === model && f.unit === files[i] && f.reason === p.reason)) {
      failures.push({ kind: "open-loop", model, unit: files[i]!, reason: p.reason });
    }
  });
  return out;
}

/**
 * Runs every unit an evaluation needs (open loop per recording, its ablation, closed loop per episode) on
 * the runner, then merges them into the report: the same merge whichever runner ran the units.
 */
export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  if (o.transport === "mqtt" && o.models.includes(EXPERT_MODEL_ID)) {
    throw new FusiondError("expert_over_mqtt", "the expert drives from the simulator's truth in process, not through a broker: run `fusiond eval --compare expert` without --mqtt", { models: o.models });
  }
  if (!o.scenarios.length && o.models.length && o.models.every((m) => m === EXPERT_MODEL_ID)) {
    throw new FusiondError("expert_without_closed_loop", "the expert has no open loop (its decisions are the labels, a score of 1 by construction): add --closed-loop, or --compare it with a model", { models: o.models });
  }
  const runner = o.runner ?? inProcessRunner(o);
  const log = o.log ?? (() => {});
  const gathered: Gathered[] = [];
  if (runner.concurrent) gathered.push(...(await Promise.all(o.models.map((dir) => gatherModel(dir, o, runner, log)))));
  else for (const dir of o.models) gathered.push(await gatherModel(dir, o, runner, log));
  const result = mergeEvaluation(o, gathered, (now() - t0) / 1000);
  return withTestSplitLooks(result, o, log);
}

/** Notes a second look at the test split (eval/run/test-split.ts): on the log and in the report. */
function withTestSplitLooks(result: EvaluateResult, o: EvaluateOptions, log: (line: string) => void): EvaluateResult {
  const episodes = testSplitUnits(o.scenarios, result.records.flat().map((r) => r.episode));
  if (!episodes) return result;
  const secondLooks = result.report.models.flatMap((m) => {
    const first = readFirstTestLook(m.model.dir);
    return first ? [{ model: m.model.id, firstLook: first }] : [];
  });
  for (const l of secondLooks) log(`warning: ${l.model} already saw the test split ${l.firstLook}: these ${episodes} test episodes are a second look — report them, never choose a model on them (docs/eval.md, "Protocol")`);
  return { ...result, report: checkReport({ ...result.report, testSplit: { episodes, secondLooks } }) };
}

function mergeEvaluation(o: EvaluateOptions, gathered: readonly Gathered[], wallS: number): EvaluateResult {
  const models: ModelReport[] = [];
  // Per model, in model order (a model without open loop, the expert, leaves its slot empty).
  const recordsOf: Array<DecisionRecord[] | undefined> = [];
  const episodesOf: Array<EpisodeResult[] | undefined> = [];
  const failures: Failure[] = [];
  let timelineIndex: number | undefined;
  const openLoopOf = (parts: Outcome<OpenLoopFilePart>[], model: string, mask: Modality[], timeline: boolean) => {
    const s = scored(o.data, parts, model, failures);
    return mergeOpenLoop(s.files, s.parts, { mask, ...(timeline && o.timelineEpisode ? { timelineEpisode: o.timelineEpisode } : {}) });
  };
  for (const g of gathered) {
    const mr: ModelReport = { model: g.info };
    const id = g.info.id;
    const slot = models.length;
    if (g.openLoop) {
      const r = openLoopOf(g.openLoop, id, g.mask, true);
      mr.openLoop = { ...r.report, intervals: openLoopIntervals(r.records, o.bootstrap) };
      recordsOf[slot] = r.records;
    }
    if (g.ablationFull) {
      const full = openLoopOf(g.ablationFull, id, g.mask, false).report;
      const rows: AblationRow[] = [ablationRow("all sensors", "full", id, full, full)];
      for (const [m, parts] of g.ablationMasked ?? []) rows.push(ablationRow(`without ${m}`, "masked", id, openLoopOf(parts, id, [...g.mask, m], false).report, full));
      for (const b of g.ablationBaselines ?? []) {
        const r3 = openLoopOf(b.parts, b.info.id, b.mask, false).report;
        rows.push(ablationRow(`baseline ${b.info.id} (${b.info.modalities.join("+")})`, "baseline", b.info.id, r3, full));
      }
      mr.ablation = rows;
    }
    if (g.closedLoop) {
      const results: EpisodeResult[] = [];
      g.closedLoop.forEach((r, i) => {
        if (r.ok) results.push(r.value);
        else failures.push({ kind: "closed-loop", model: id, unit: episodeUnit(o.scenarios[i]!), reason: r.reason });
      });
      episodesOf[slot] = results;
      // The timeline shows the same episode for every model: the first model's worst (most collisions).
      if (timelineIndex === undefined) {
        const byName = o.timelineEpisode ? results.findIndex((r) => r.row.scenario === o.timelineEpisode) : -1;
        timelineIndex = byName >= 0 ? byName : results.reduce((best, r, i) => (r.row.collisions > results[best]!.row.collisions ? i : best), 0);
      }
      const shown = results[timelineIndex];
      mr.closedLoop = scoreClosedLoop(
        results.map((r) => r.row),
        {
          suite: o.suiteName,
          transport: o.transport,
          masked: g.mask,
          ...(shown ? { timeline: buildTimeline(`${shown.row.scenario} (seed ${shown.row.seed})`, "closed-loop", shown.points) } : {}),
        },
      );
    }
    models.push(mr);
  }
  const comparisons: Comparison[] = [];
  const bo = { iterations: o.bootstrap.iterations, level: o.bootstrap.level, seed: o.bootstrap.seed };
  for (let i = 1; i < models.length; i++) {
    const names = { baseline: models[0]!.model.id, model: models[i]!.model.id };
    const [r0, ri, e0, ei] = [recordsOf[0], recordsOf[i], episodesOf[0], episodesOf[i]];
    if (r0 && ri) comparisons.push(...compareOpenLoop(names, episodeConfusions(r0), episodeConfusions(ri), bo));
    if (e0 && ei) comparisons.push(...compareClosedLoop(names, e0.map((e) => e.row), ei.map((e) => e.row), bo));
  }
  const first = models[0];
  const report = checkReport({
    schema: REPORT_SCHEMA,
    created: new Date().toISOString(),
    command: o.command,
    fusiondVersion: o.version,
    wallS,
    models,
    ...(first?.openLoop ? { openLoop: first.openLoop } : {}),
    ...(first?.closedLoop ? { closedLoop: first.closedLoop } : {}),
    comparisons,
    bootstrap: bo,
    ...(failures.length ? { failures } : {}),
  } satisfies EvalReport);
  const present = <T,>(xs: Array<T | undefined>): T[] => xs.filter((x): x is T => x !== undefined);
  return { report, records: present(recordsOf), episodes: present(episodesOf) };
}

/**
 * Open-loop scores compare decisions with the simulator's labels: recordings without any (no fusiond.GroundTruth)
 * would score 0 for no reason, so such a report is an error, with what to do.
 */
export function requireLabels(report: EvalReport): void {
  const unlabelled = report.models.find((m) => m.openLoop && m.openLoop.data.labelled === 0);
  if (unlabelled) {
    throw new FusiondError("no_labels", `--data has no expert labels (fusiond.GroundTruth): open-loop scores of ${unlabelled.model.id} would be 0 for no reason`, {
      hint: "give recordings made by fusiond sim --out (they carry the expert's label), or use --closed-loop",
    });
  }
}
