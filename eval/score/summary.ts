/** The report as plain-text tables (what `fusiond eval` prints). Pure. */
import type { Comparison, EvalReport } from "./report.ts";

export const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(digits));
export const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? "n/a" : `${(v * 100).toFixed(0)}%`);

export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => "| " + cells.map((c, i) => c.padEnd(w[i]!)).join(" | ") + " |";
  return [line(head), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

export function comparisonCells(c: Comparison): string[] {
  const ci = `[${fmt(c.ci[0])}, ${fmt(c.ci[1])}]`;
  const red = c.reduction ? `${pct(c.reduction.value)} [${pct(c.reduction.ci[0])}, ${pct(c.reduction.ci[1])}]` : "";
  return [c.metric, c.model, fmt(c.baselineValue), fmt(c.modelValue), fmt(c.difference), ci, red];
}

export function summaryText(r: EvalReport): string {
  const out: string[] = [];
  const withOpen = r.models.filter((m) => m.openLoop);
  if (withOpen.length) {
    out.push("Open loop (decisions vs the expert on recordings)\n");
    out.push(
      table(
        ["model", "decisions", "accuracy", "macro-F1", "hazard mAP", "BRAKE_HARD AP", "latency p50 ms", "p99 ms"],
        withOpen.map((m) => {
          const o = m.openLoop!;
          return [m.model.id, String(o.n), fmt(o.accuracy), fmt(o.macroF1), fmt(o.hazard.meanAP), fmt(o.hazard.ap["BRAKE_HARD"]), fmt(o.latency.totalMs.p50, 1), fmt(o.latency.totalMs.p99, 1)];
        }),
      ),
    );
    for (const m of withOpen) {
      if (!m.ablation) continue;
      out.push(`\nAblation of ${m.model.id} (open loop; the model answers without the sensor)\n`);
      out.push(table(["variant", "accuracy", "macro-F1", "Δ macro-F1", "hazard mAP"], m.ablation.map((a) => [a.name, fmt(a.accuracy), fmt(a.macroF1), fmt(a.deltaMacroF1), fmt(a.meanAP)])));
    }
  }
  const withClosed = r.models.filter((m) => m.closedLoop);
  if (withClosed.length) {
    const c0 = withClosed[0]!.closedLoop!;
    out.push(`\nClosed loop (${c0.suite}, ${c0.episodes} episodes, ${c0.transport})\n`);
    out.push(
      table(
        ["model", "km", "collisions", "per 100 km", "FOG /100km", "NIGHT /100km", "near misses", "stop-line viol.", "speeding viol.", "voice compliance", "route", "jerk rms"],
        withClosed.map((m) => {
          const c = m.closedLoop!;
          const w = c.byCondition["weather"] ?? {};
          return [
            m.model.id,
            fmt(c.km, 2),
            String(c.collisions),
            fmt(c.collisionsPer100km, 1),
            fmt(w["FOG"]?.collisionsPer100km, 1),
            fmt(w["NIGHT"]?.collisionsPer100km, 1),
            String(c.nearMisses),
            String(c.stopLineViolations),
            String(c.speedLimitViolations),
            pct(c.voiceCompliance),
            pct(c.routeCompletion),
            fmt(c.comfort.jerkRmsMean, 2),
          ];
        }),
      ),
    );
  }
  if (r.comparisons.length) {
    out.push(`\nAgainst ${r.models[0]!.model.id} (paired bootstrap over episodes, ${r.bootstrap.iterations} resamples, ${pct(r.bootstrap.level)} intervals)\n`);
    const key = new Set(["openLoop.accuracy", "openLoop.macroF1", "closedLoop.collisions", "closedLoop.collisionsPer100km", "closedLoop.byCondition.weather.FOG.collisions", "closedLoop.byCondition.weather.NIGHT.collisions", "closedLoop.nearMissesPer100km", "closedLoop.voiceCompliance", "closedLoop.routeCompletion"]);
    out.push(table(["metric", "model", "baseline", "model value", "difference", "95% CI", "reduction [95% CI]"], r.comparisons.filter((c) => key.has(c.metric)).map(comparisonCells)));
    out.push("\n(every comparison, per condition too, is in the JSON report)");
  }
  out.push(`\n${r.wallS.toFixed(1)} s`);
  return out.join("\n") + "\n";
}
