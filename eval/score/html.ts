/**
 * The report as one self-contained HTML page: inline CSS and SVG, no scripts, no external assets, so it
 * opens anywhere (and in a headless browser in the tests). Pure: report in, string out.
 */
import type { ClosedLoopReport, EvalReport, ModelReport, OpenLoopReport } from "./report.ts";
import { comparisonCells, fmt, pct } from "./summary.ts";
import { confusionSvg, esc, groupedBars, histogram, timelineSvg } from "./svg.ts";
import { headlineRows, metricLabel, verdictSentences } from "./verdict.ts";

/** The page's style, one line per group of rules (the page holds them as they are here, joined by newlines). */
const CSS = [
  "body{font:14px/1.45 system-ui,sans-serif;margin:24px 32px;color:#222}",
  "h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ccc}h3{font-size:15px}",
  "nav ol{columns:2;max-width:640px;margin:8px 0 0;padding-left:20px}nav a{color:#1f5fa8}",
  ".verdict{font-size:16px;background:#f5f9ff;border-left:4px solid #1f77b4;padding:10px 14px;margin:12px 0}.verdict p{margin:4px 0}",
  "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}",
  "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left;white-space:nowrap}.muted{color:#777}",
  ".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:8px 24px;align-items:start}",
  "figure{margin:12px 0}figcaption{font-size:12px;color:#555}svg{max-width:100%;height:auto;background:#fff}",
  "figure.wide{grid-column:1/-1}.side-by-side{display:flex;flex-wrap:wrap;gap:0 24px}details{margin-top:24px}code{word-break:break-all}",
].join("\n");

function htmlTable(id: string, head: string[], rows: string[][]): string {
  return `<table id="${esc(id)}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

const figure = (svg: string, caption: string, wide = false): string => `<figure${wide ? ' class="wide"' : ""}>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;

/** A section's tables (in the body) and its plots (gathered in the Plots section, after all the tables). */
interface Section {
  tables: string[];
  plots: string[];
}

function openLoopSection(models: ModelReport[]): Section {
  const ms = models.filter((m) => m.openLoop);
  const plots: string[] = [];
  if (!ms.length) return { tables: [], plots };
  const o0 = ms[0]!.openLoop!;
  const parts = [`<p class="muted">${esc(o0.data.files.join(", "))}: ${o0.data.decisions} decisions, ${o0.data.labelled} with an expert label, ${o0.data.episodes} episodes, ${fmt(o0.data.durationS, 0)} s.</p>`];
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
  const perClass: string[] = [];
  for (const m of ms) {
    const { tables, plots: p } = modelOpenLoop(m.model.id, m.openLoop!);
    perClass.push(`<div>${tables}</div>`);
    plots.push(...p);
  }
  parts.push(`<div class="side-by-side">${perClass.join("")}</div>`);
  for (const dim of Object.keys(o0.byCondition)) {
    const cats = [...new Set(ms.flatMap((m) => Object.keys(m.openLoop!.byCondition[dim] ?? {})))];
    plots.push(
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
    plots.push(figure(groupedBars({ title: `ablation of ${m.model.id}: macro-F1 by weather`, categories: weathers, series: m.ablation.map((a) => ({ name: a.name, values: weathers.map((w) => a.byWeatherMacroF1[w] ?? null) })), max: 1 }), "What each sensor contributes, per weather."));
  }
  return { tables: parts, plots };
}

function modelOpenLoop(id: string, o: OpenLoopReport): { tables: string; plots: string[] } {
  const rows = o.classes.map((c) => {
    const s = o.perClass[c]!;
    return [c, String(s.support), String(s.predicted), fmt(s.precision), fmt(s.recall), fmt(s.f1), o.hazard.ap[c] === undefined ? "" : fmt(o.hazard.ap[c])];
  });
  return {
    tables: [`<h3>${esc(id)}: per class</h3>`, htmlTable(`per-class-${id}`, ["action", "support", "predicted", "precision", "recall", "F1", "AP (hazard)"], rows)].join("\n"),
    plots: [
      figure(confusionSvg(o.classes, o.confusion), `Confusion matrix of ${id}: rows are the expert's action, columns the decision.`),
      figure(histogram(`decision latency ${id}`, o.latency.totalMs), "Decision latency: last needed input → frame (virtual time, as on the vehicle) + model call (this machine), ms bins."),
      o.timeline ? figure(timelineSvg(o.timeline), `Open-loop timeline of ${o.timeline.episode} with ${id}: decisions vs the expert vs sensor health.`, true) : "",
    ].filter(Boolean),
  };
}

function closedLoopSection(models: ModelReport[]): Section {
  const ms = models.filter((m) => m.closedLoop);
  const plots: string[] = [];
  if (!ms.length) return { tables: [], plots };
  const c0: ClosedLoopReport = ms[0]!.closedLoop!;
  const parts = [`<p class="muted">Suite ${esc(c0.suite)}: ${c0.episodes} episodes, ${fmt(c0.km, 2)} km, ${esc(c0.transport)}.</p>`];
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
    plots.push(
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
  for (const m of ms) if (m.closedLoop!.timeline) plots.push(figure(timelineSvg(m.closedLoop!.timeline), `Closed-loop timeline of ${m.closedLoop!.timeline.episode} driven by ${m.model.id}: the action applied each step vs the expert's, sensor health, speed, collisions (red).`, true));
  return { tables: parts, plots };
}

/** The page: the verdict first, then the closed- and open-loop tables, the plots, and the full comparison table. */
export function renderHtml(r: EvalReport): string {
  const title = `fusiond eval: ${r.models.map((m) => m.model.id).join(" vs ")}`;
  const closed = closedLoopSection(r.models);
  const open = openLoopSection(r.models);
  const plots = [...closed.plots, ...open.plots];
  const headline = headlineRows(r.models);
  const sentences = verdictSentences(r);
  const sections: { id: string; title: string; html: string }[] = [
    {
      id: "verdict",
      title: "Verdict",
      html:
        `<div class="verdict">${sentences.map((s) => `<p>${esc(s)}</p>`).join("") || "<p>One model: nothing to compare.</p>"}</div>` +
        htmlTable("headline", headline.head, headline.rows) +
        (r.models.length > 1 ? `<p class="muted">Intervals: paired bootstrap over episodes against ${esc(r.models[0]!.model.id)} (${r.bootstrap.iterations} resamples); "within noise" means the interval includes no difference.</p>` : ""),
    },
    { id: "closed-loop", title: "Closed loop", html: closed.tables.join("\n") },
    { id: "open-loop", title: "Open loop", html: open.tables.join("\n") },
    { id: "plots", title: "Plots", html: plots.length ? `<div class="plots">${plots.join("\n")}</div>` : "" },
    {
      id: "comparisons-section",
      title: "All comparisons",
      html: r.comparisons.length
        ? `<p class="muted">Each model against ${r.comparisons.every((c) => c.baseline === r.models[0]!.model.id) ? esc(r.models[0]!.model.id) : "the baseline its row names"}, paired bootstrap over episodes (${r.bootstrap.iterations} resamples, seed ${r.bootstrap.seed}), ${pct(r.bootstrap.level)} percentile intervals. Reduction = 1 − model/baseline.</p>` +
          htmlTable("comparisons", ["metric", "model", "baseline", "model value", "difference", "95% CI", "reduction [95% CI]"], r.comparisons.map((c) => {
            const cells = comparisonCells(c);
            return [metricLabel(c.metric), ...cells.slice(1)];
          }))
        : "",
    },
    {
      id: "models-section",
      title: "Models",
      html: htmlTable("models", ["model", "strategy", "reads", "hash", "backend", "directory"], r.models.map((m) => [m.model.id, m.model.strategy, m.model.modalities.join("+"), m.model.hash, m.model.backend, m.model.dir])),
    },
  ].filter((s) => s.html);
  const toc = `<nav aria-label="contents"><ol>${sections.map((s) => `<li><a href="#${s.id}">${esc(s.title)}</a></li>`).join("")}</ol></nav>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="muted">${esc(r.created)} · fusiond ${esc(r.fusiondVersion)} · ${fmt(r.wallS, 1)} s · schema ${esc(r.schema)} · the command is at the end</p>
${toc}
${sections.map((s) => `<section id="${s.id}"><h2>${esc(s.title)}</h2>\n${s.html}</section>`).join("\n")}
<details id="provenance"><summary>How this report was made</summary><p><code>${esc(r.command)}</code></p></details>
</body></html>
`;
}
