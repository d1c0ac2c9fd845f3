/**
 * The report as one self-contained HTML page: inline CSS and SVG, no scripts, no external assets, so it
 * opens anywhere (and in a headless browser in the tests). Pure: report in, string out.
 */
import type { ClosedLoopReport, EvalReport, ModelReport, OpenLoopReport } from "./report.ts";
import { comparisonCells, fmt, pct } from "./summary.ts";
import { confusionSvg, esc, groupedBars, histogram, timelineSvg } from "./svg.ts";

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.muted{color:#777}
figure{margin:12px 0}figcaption{font-size:12px;color:#555}svg{max-width:100%;height:auto;background:#fff}`;

function htmlTable(id: string, head: string[], rows: string[][]): string {
  return `<table id="${esc(id)}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

const figure = (svg: string, caption: string): string => `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;

function openLoopSection(models: ModelReport[]): string {
  const ms = models.filter((m) => m.openLoop);
  if (!ms.length) return "";
  const o0 = ms[0]!.openLoop!;
  const parts = [`<h2>Open loop</h2><p class="muted">${esc(o0.data.files.join(", "))}: ${o0.data.decisions} decisions, ${o0.data.labelled} with an expert label, ${o0.data.episodes} episodes, ${fmt(o0.data.durationS, 0)} s.</p>`];
  parts.push(
    htmlTable(
      "open-loop-summary",
      ["model", "decisions", "accuracy", "macro-F1", "macro precision", "macro recall", "hazard mAP", "BRAKE_HARD AP", "latency p50 ms", "p99 ms", "masked"],
      ms.map((m) => {
        const o = m.openLoop!;
        return [m.model.id, String(o.n), fmt(o.accuracy), fmt(o.macroF1), fmt(o.macroPrecision), fmt(o.macroRecall), fmt(o.hazard.meanAP), fmt(o.hazard.ap["BRAKE_HARD"]), fmt(o.latency.totalMs.p50, 1), fmt(o.latency.totalMs.p99, 1), o.masked.join(", ") || "none"];
      }),
    ),
  );
  for (const m of ms) parts.push(modelOpenLoop(m.model.id, m.openLoop!));
  for (const dim of Object.keys(o0.byCondition)) {
    const cats = [...new Set(ms.flatMap((m) => Object.keys(m.openLoop!.byCondition[dim] ?? {})))];
    parts.push(
      figure(
        groupedBars({ title: `macro-F1 by ${dim}`, categories: cats, series: ms.map((m) => ({ name: m.model.id, values: cats.map((c) => m.openLoop!.byCondition[dim]?.[c]?.macroF1 ?? null) })), max: 1 }),
        `Open-loop macro-F1 by ${dim} (n per value in the JSON report).`,
      ),
    );
  }
  for (const m of ms) {
    if (!m.ablation) continue;
    parts.push(`<h3>Ablation: ${esc(m.model.id)}</h3><p class="muted">Each modality masked in every frame (present=false, slot removed) and the model asked anyway (the switch to a fallback model is off); baselines are other models on the same frames.</p>`);
    parts.push(htmlTable(`ablation-${m.model.id}`, ["variant", "accuracy", "macro-F1", "Δ accuracy", "Δ macro-F1", "hazard mAP"], m.ablation.map((a) => [a.name, fmt(a.accuracy), fmt(a.macroF1), fmt(a.deltaAccuracy), fmt(a.deltaMacroF1), fmt(a.meanAP)])));
    const weathers = [...new Set(m.ablation.flatMap((a) => Object.keys(a.byWeatherMacroF1)))];
    parts.push(figure(groupedBars({ title: "ablation: macro-F1 by weather", categories: weathers, series: m.ablation.map((a) => ({ name: a.name, values: weathers.map((w) => a.byWeatherMacroF1[w] ?? null) })), max: 1 }), "What each sensor contributes, per weather."));
  }
  return parts.join("\n");
}

function modelOpenLoop(id: string, o: OpenLoopReport): string {
  const rows = o.classes.map((c) => {
    const s = o.perClass[c]!;
    return [c, String(s.support), String(s.predicted), fmt(s.precision), fmt(s.recall), fmt(s.f1), o.hazard.ap[c] === undefined ? "" : fmt(o.hazard.ap[c])];
  });
  return [
    `<h3>${esc(id)}: per class</h3>`,
    htmlTable(`per-class-${id}`, ["action", "support", "predicted", "precision", "recall", "F1", "AP (hazard)"], rows),
    figure(confusionSvg(o.classes, o.confusion), `Confusion matrix of ${id}: rows are the expert's action, columns the decision.`),
    figure(histogram(`decision latency ${id}`, o.latency.totalMs), "Decision latency: last needed input → frame (virtual time, as on the vehicle) + model call (this machine), ms bins."),
    o.timeline ? figure(timelineSvg(o.timeline), `Open-loop timeline of ${o.timeline.episode} with ${id}: decisions vs the expert vs sensor health.`) : "",
  ].join("\n");
}

function closedLoopSection(models: ModelReport[]): string {
  const ms = models.filter((m) => m.closedLoop);
  if (!ms.length) return "";
  const c0: ClosedLoopReport = ms[0]!.closedLoop!;
  const parts = [`<h2>Closed loop</h2><p class="muted">Suite ${esc(c0.suite)}: ${c0.episodes} episodes, ${fmt(c0.km, 2)} km, ${esc(c0.transport)}.</p>`];
  parts.push(
    htmlTable(
      "closed-loop-summary",
      ["model", "km", "collisions", "per 100 km", "near misses", "per 100 km ", "stop-line violations", "speed violations", "voice compliance", "route completion", "completed", "jerk rms", "steps without decision"],
      ms.map((m) => {
        const c = m.closedLoop!;
        return [m.model.id, fmt(c.km, 2), String(c.collisions), fmt(c.collisionsPer100km, 1), String(c.nearMisses), fmt(c.nearMissesPer100km, 1), String(c.stopLineViolations), String(c.speedLimitViolations), pct(c.voiceCompliance), pct(c.routeCompletion), `${c.completed}/${c.episodes}`, fmt(c.comfort.jerkRmsMean, 2), String(c.stepsWithoutDecision)];
      }),
    ),
  );
  for (const dim of ["weather", "tunnel", "traffic"]) {
    const cats = [...new Set(ms.flatMap((m) => Object.keys(m.closedLoop!.byCondition[dim] ?? {})))];
    if (!cats.length) continue;
    parts.push(
      figure(
        groupedBars({ title: `collisions per 100 km by ${dim}`, categories: cats, series: ms.map((m) => ({ name: m.model.id, values: cats.map((c) => m.closedLoop!.byCondition[dim]?.[c]?.collisionsPer100km ?? null) })) }),
        `Closed-loop collisions per 100 km by ${dim} (each collision counted where it began).`,
      ),
    );
  }
  parts.push(
    `<h3>Episodes</h3>`,
    htmlTable(
      "episodes",
      ["scenario", ...ms.map((m) => `${m.model.id} collisions`), ...ms.map((m) => `${m.model.id} route`)],
      c0.perEpisode.map((e, i) => [e.scenario, ...ms.map((m) => String(m.closedLoop!.perEpisode[i]?.collisions ?? "")), ...ms.map((m) => pct(m.closedLoop!.perEpisode[i]?.routeCompletion))]),
    ),
  );
  for (const m of ms) if (m.closedLoop!.timeline) parts.push(figure(timelineSvg(m.closedLoop!.timeline), `Closed-loop timeline of ${m.closedLoop!.timeline.episode} driven by ${m.model.id}: the action applied each step vs the expert's, sensor health, speed, collisions (red).`));
  return parts.join("\n");
}

export function renderHtml(r: EvalReport): string {
  const title = `fusiond eval: ${r.models.map((m) => m.model.id).join(" vs ")}`;
  const models = htmlTable(
    "models",
    ["model", "strategy", "reads", "hash", "backend", "directory"],
    r.models.map((m) => [m.model.id, m.model.strategy, m.model.modalities.join("+"), m.model.hash, m.model.backend, m.model.dir]),
  );
  const comparisons = r.comparisons.length
    ? `<h2>Comparisons</h2><p class="muted">Each model against ${esc(r.models[0]!.model.id)}, paired bootstrap over episodes (${r.bootstrap.iterations} resamples, seed ${r.bootstrap.seed}), ${pct(r.bootstrap.level)} percentile intervals. Reduction = 1 − model/baseline.</p>` +
      htmlTable("comparisons", ["metric", "model", "baseline", "model value", "difference", "95% CI", "reduction [95% CI]"], r.comparisons.map(comparisonCells))
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="muted">${esc(r.command)} · ${esc(r.created)} · fusiond ${esc(r.fusiondVersion)} · ${fmt(r.wallS, 1)} s · schema ${esc(r.schema)}</p>
${models}
${comparisons}
${openLoopSection(r.models)}
${closedLoopSection(r.models)}
</body></html>
`;
}
