/**
 * One evaluation from start to report: each model open loop (and its ablation), closed loop, then the
 * comparisons of every further model against the first. The command (bin/commands/eval.ts) parses flags,
 * draws progress and writes files; this composes the runners and scoring.
 */
import { DEFAULT_SUPERVISOR } from "../../fusion/index.ts";
import { scoreClosedLoop } from "../../replay/eval/closed-loop.ts";
import { compareClosedLoop, compareOpenLoop } from "../../replay/eval/compare.ts";
import { episodeConfusions, type DecisionRecord } from "../../replay/eval/open-loop.ts";
import { REPORT_SCHEMA, checkReport, type AblationRow, type Comparison, type EvalReport, type ModelReport, type OpenLoopReport } from "../../replay/eval/report.ts";
import { buildTimeline } from "../../replay/eval/timeline.ts";
import type { BackendChoice } from "../../fusion/index.ts";
import type { Modality } from "../../schemas/index.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import { runClosedLoopSuite, runEpisodeInProcess, type EpisodeResult, type SuiteProgress } from "./closed-loop.ts";
import { loadEvalModel, unusedModalities, type EvalModel } from "./decider.ts";
import { runOpenLoop, type OpenLoopOptions } from "./open-loop.ts";

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
  log?: (line: string) => void;
  onOpenLoopProgress?: (model: string, files: number, file: number, decisions: number) => void;
  onClosedLoopProgress?: (model: string, p: SuiteProgress) => void;
  now?: () => number;
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

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const load = o.load ?? ((dir: string) => loadEvalModel(dir, o.backend));
  const log = o.log ?? (() => {});
  const models: ModelReport[] = [];
  const records: DecisionRecord[][] = [];
  const episodes: EpisodeResult[][] = [];
  let timelineIndex: number | undefined;
  for (const dir of o.models) {
    const model = await load(dir);
    const mask: Modality[] = o.maskUnused ? unusedModalities(model.spec) : [];
    const mr: ModelReport = { model: model.info };
    try {
      log(`${model.info.id}: ${model.info.strategy}, reads ${model.info.modalities.join("+")}, backend ${model.info.backend}${mask.length ? `; masked: ${mask.join(", ")}` : ""}`);
      if (o.data.length) {
        const r = await runOpenLoop(o.data, model, {
          ...o.openLoopOptions,
          mask,
          ...(o.timelineEpisode ? { timelineEpisode: o.timelineEpisode } : {}),
          onProgress: (f, n, d) => o.onOpenLoopProgress?.(model.info.id, n, f, d),
        });
        mr.openLoop = r.report;
        records.push(r.records);
        if (o.ablation) {
          // The model itself answers without each sensor: the switch to a fallback is off (critical: []).
          const supervisor = { ...DEFAULT_SUPERVISOR, critical: [] };
          const full = (await runOpenLoop(o.data, model, { ...o.openLoopOptions, mask, supervisor })).report;
          const rows: AblationRow[] = [ablationRow("all sensors", "full", model.info.id, full, full)];
          for (const m of model.spec.modalities) {
            log(`${model.info.id}: ablation without ${m}`);
            const r2 = (await runOpenLoop(o.data, model, { ...o.openLoopOptions, mask: [...mask, m], supervisor })).report;
            rows.push(ablationRow(`without ${m}`, "masked", model.info.id, r2, full));
          }
          for (const b of o.baselines) {
            const bm = await load(b);
            try {
              log(`${model.info.id}: ablation baseline ${bm.info.id}`);
              const r3 = (await runOpenLoop(o.data, bm, { ...o.openLoopOptions, mask: o.maskUnused ? unusedModalities(bm.spec) : [], supervisor })).report;
              rows.push(ablationRow(`baseline ${bm.info.id} (${bm.info.modalities.join("+")})`, "baseline", bm.info.id, r3, full));
            } finally {
              bm.close();
            }
          }
          mr.ablation = rows;
        }
      }
      if (o.scenarios.length) {
        const results = await runClosedLoopSuite(o.scenarios, model, {
          mask,
          parallel: o.parallel,
          ...(o.runEpisode ? { runEpisode: o.runEpisode } : {}),
          onProgress: (p) => o.onClosedLoopProgress?.(model.info.id, p),
        });
        episodes.push(results);
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
            masked: mask,
            ...(shown ? { timeline: buildTimeline(`${shown.row.scenario} (seed ${shown.row.seed})`, "closed-loop", shown.points) } : {}),
          },
        );
      }
    } finally {
      model.close();
    }
    models.push(mr);
  }
  const comparisons: Comparison[] = [];
  const bo = { iterations: o.bootstrap.iterations, level: o.bootstrap.level, seed: o.bootstrap.seed };
  for (let i = 1; i < models.length; i++) {
    const names = { baseline: models[0]!.model.id, model: models[i]!.model.id };
    const [r0, ri, e0, ei] = [records[0], records[i], episodes[0], episodes[i]];
    if (r0 && ri) comparisons.push(...compareOpenLoop(names, episodeConfusions(r0), episodeConfusions(ri), bo));
    if (e0 && ei) comparisons.push(...compareClosedLoop(names, e0.map((e) => e.row), ei.map((e) => e.row), bo));
  }
  const first = models[0];
  const report = checkReport({
    schema: REPORT_SCHEMA,
    created: new Date().toISOString(),
    command: o.command,
    fusiondVersion: o.version,
    wallS: (now() - t0) / 1000,
    models,
    ...(first?.openLoop ? { openLoop: first.openLoop } : {}),
    ...(first?.closedLoop ? { closedLoop: first.closedLoop } : {}),
    comparisons,
    bootstrap: bo,
  } satisfies EvalReport);
  return { report, records, episodes };
}
