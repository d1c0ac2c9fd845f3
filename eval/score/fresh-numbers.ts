/**
 * Issue #20's "Numbers" from two reports on fresh seeds (scripts/fresh-eval.ts): the closed-loop comparison of
 * the first model against each other (collisions per 100 km, the paired 95% interval of the difference; route
 * completion; the share of the expert's route completion on the same episodes) and the first model's open-loop
 * macro-F1 overall, in fog and at night with intervals; then an error analysis of the open loop (which classes,
 * conditions and situations lose most). Markdown. Pure.
 */
import { bootstrap, type BootstrapOptions } from "./bootstrap.ts";
import { pairEpisodes, ratio as pooled } from "./compare.ts";
import type { Comparison, EpisodeRow, EvalReport, OpenLoopReport } from "./report.ts";
import { fmt, pct, table } from "./summary.ts";

type Ci = readonly [number | null, number | null];
const ci = (c: Ci, f: (v: number | null) => string = (v) => fmt(v)): string => `[${f(c[0])}, ${f(c[1])}]`;
const yesNo = (b: boolean | undefined): string => (b === undefined ? "n/a" : b ? "**met**" : "not met");

const per100 = (rows: readonly EpisodeRow[]) => pooled(rows, (r) => r.collisions, (r) => r.km, 100);
const completion = (rows: readonly EpisodeRow[]) => pooled(rows, (r) => r.routeCompletion, () => 1);

function find(r: EvalReport, metric: string, model: string): Comparison | undefined {
  return r.comparisons.find((c) => c.metric === metric && c.model === model);
}

/** The first model minus another: the comparison stores other − first, so the sign and the interval flip. */
function firstMinus(c: Comparison | undefined): { value: number | null; ci: Ci } {
  if (!c || c.difference === null) return { value: null, ci: [null, null] };
  return { value: -c.difference, ci: [c.ci[1] === null ? null : -c.ci[1], c.ci[0] === null ? null : -c.ci[0]] };
}

/** Closed loop: one row per model (its own intervals), then the first model against each other one. */
export function closedLoopNumbers(r: EvalReport, bo: BootstrapOptions): string {
  const first = r.models[0];
  if (!first?.closedLoop) return "No closed loop in this report.\n";
  const id = first.model.id;
  const out: string[] = [];
  out.push(
    table(
      ["model", "episodes", "km", "collisions", "per 100 km [95% CI]", "route completion [95% CI]"],
      r.models.flatMap((m) => {
        const c = m.closedLoop;
        if (!c) return [];
        const rows = c.perEpisode;
        const k = bootstrap(rows.length, per100(rows), bo);
        const rc = bootstrap(rows.length, completion(rows), bo);
        return [[m.model.id, String(c.episodes), fmt(c.km, 2), String(c.collisions), `${fmt(c.collisionsPer100km, 1)} ${ci([k.lo, k.hi], (v) => fmt(v, 1))}`, `${pct(c.routeCompletion)} ${ci([rc.lo, rc.hi], pct)}`]];
      }),
    ),
  );
  out.push("\nThe first model against each other one (paired by episode; difference = first − other):\n");
  const rows: string[][] = [];
  for (const m of r.models.slice(1)) {
    if (!m.closedLoop || m.model.id === "expert") continue;
    const d = firstMinus(find(r, "closedLoop.collisionsPer100km", m.model.id));
    const rc = firstMinus(find(r, "closedLoop.routeCompletion", m.model.id));
    const fewer = d.ci[1] === null ? undefined : d.ci[1] < 0;
    const noLower = rc.value === null ? undefined : rc.value >= 0;
    rows.push([`${id} vs ${m.model.id}`, `${fmt(d.value, 1)} ${ci(d.ci, (v) => fmt(v, 1))}`, `${fmt(rc.value, 3)} ${ci(rc.ci)}`, yesNo(fewer === undefined || noLower === undefined ? undefined : fewer && noLower)]);
  }
  out.push(table(["pair", "Δ collisions per 100 km [95% CI]", "Δ route completion [95% CI]", "goal: Δ collisions CI below 0, Δ completion ≥ 0"], rows));
  const expert = r.models.find((m) => m.model.id === "expert")?.closedLoop;
  if (expert) {
    const { b, m } = pairEpisodes(first.closedLoop.perEpisode, expert.perEpisode);
    const share = (w: readonly number[]): number => completion(b)(w) / completion(m)(w);
    const s = bootstrap(b.length, share, bo);
    out.push(`\nRoute completion of ${id} as a share of the expert's on the same ${b.length} episodes: ${pct(s.estimate)} ${ci([s.lo, s.hi], pct)} (goal ≥ 90%: ${s.estimate >= 0.9 ? (s.lo >= 0.9 ? "**met**, the whole interval" : "met by the estimate, not by the whole interval") : "not met"}).`);
  }
  return out.join("\n") + "\n";
}

/** Open loop: every model's macro-F1 overall, in fog and at night, with their intervals (goals: ≥ 0.90, ≥ 0.85). */
export function openLoopNumbers(r: EvalReport): string {
  const rows = r.models.flatMap((m) => {
    const o = m.openLoop;
    if (!o) return [];
    const iv = o.intervals;
    const cell = (v: number | undefined, c: Ci | undefined, goal: number): string => `${fmt(v)} ${c ? ci(c) : ""}${v !== undefined && c?.[0] !== null && c?.[0] !== undefined && c[0] >= goal ? " ✓" : ""}`;
    const w = (name: string) => o.byCondition["weather"]?.[name];
    return [
      [m.model.id, String(o.n), fmt(o.data.durationS / 3600, 2), String(iv?.episodes ?? "n/a"), cell(o.macroF1, iv?.macroF1, 0.9), cell(w("FOG")?.macroF1, iv?.byCondition["weather"]?.["FOG"]?.macroF1, 0.85), cell(w("NIGHT")?.macroF1, iv?.byCondition["weather"]?.["NIGHT"]?.macroF1, 0.85), `${fmt(o.accuracy)} ${iv ? ci(iv.accuracy) : ""}`],
    ];
  });
  return table(["model", "decisions", "hours", "episodes", "macro-F1 [95% CI] (goal ≥ 0.90)", "fog (≥ 0.85)", "night (≥ 0.85)", "accuracy"], rows) + "\n(✓: the whole interval meets the goal)\n";
}

const share = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : "n/a");
const offDiagonal = (c: readonly (readonly number[])[]): number => c.reduce((a, row, i) => a + row.reduce((s, v, j) => s + (i === j ? 0 : v), 0), 0);

/** Where one model's open-loop decisions go wrong: confusion, per class, per condition, the largest confusions. */
export function errorAnalysis(o: OpenLoopReport, model: string): string {
  const out: string[] = [];
  const cls = o.classes;
  const errors = offDiagonal(o.confusion);
  out.push(`Error analysis of ${model}: ${o.n} decisions, ${errors} wrong (${share(errors, o.n)}).\n`);
  out.push("Confusion matrix (rows: the expert's action, columns: the decision):\n");
  out.push(table(["expert \\ decision", ...cls, "recall"], o.confusion.map((row, i) => [cls[i]!, ...row.map(String), fmt(o.perClass[cls[i]!]?.recall)])));
  out.push("\nPer class (errors: the class's expert steps decided otherwise):\n");
  out.push(
    table(
      ["class", "support", "precision", "recall", "F1", "missed", "share of all errors"],
      cls.map((c, i) => {
        const p = o.perClass[c]!;
        const missed = p.support - (o.confusion[i]?.[i] ?? 0);
        return [c, String(p.support), fmt(p.precision), fmt(p.recall), fmt(p.f1), String(missed), share(missed, errors)];
      }),
    ),
  );
  out.push("\nThe largest confusions:\n");
  out.push(table(["expert → decided", "steps", "share of all errors"], topPairs(o.confusion, cls, 10).map(([k, n]) => [k, String(n), share(n, errors)])));
  out.push("\nPer condition (share of decisions against share of errors; F1 of the weakest classes there):\n");
  const rows: string[][] = [];
  for (const [dim, values] of Object.entries(o.byCondition)) {
    for (const [v, s] of Object.entries(values)) {
      const c = s.confusion;
      const e = c ? offDiagonal(c) : NaN;
      const iv = o.intervals?.byCondition[dim]?.[v];
      const f1s = c ? perClassF1(c, cls) : [];
      const weakest = f1s.filter((x) => x.support >= 20).sort((a, b) => a.f1 - b.f1).slice(0, 3).map((x) => `${x.c} ${fmt(x.f1, 2)}`).join(", ");
      rows.push([`${dim}: ${v}`, String(s.n), share(s.n, o.n), share(e, errors), share(e, s.n), `${fmt(s.macroF1)} ${iv ? ci(iv.macroF1) : ""}`, weakest]);
    }
  }
  out.push(table(["condition", "decisions", "share of decisions", "share of errors", "error rate", "macro-F1 [95% CI]", "weakest classes (F1, support ≥ 20)"], rows));
  if (o.bySituation) {
    out.push("\nPer situation (why the expert chose its label), largest first:\n");
    out.push(
      table(
        ["situation", "decisions", "share of errors", "error rate", "macro-F1", "largest confusions"],
        Object.entries(o.bySituation).map(([v, s]) => {
          const c = s.confusion ?? [];
          const e = offDiagonal(c);
          return [v, String(s.n), share(e, errors), share(e, s.n), fmt(s.macroF1), topPairs(c, cls, 2).map(([k, n]) => `${k} ${n}`).join(", ")];
        }),
      ),
    );
  }
  const worst = Object.values(o.byCondition["weather"] ?? {}).length ? weatherConfusions(o, cls) : "";
  if (worst) out.push(`\nThe largest confusion in each weather:\n\n${worst}`);
  out.push(`\nSupervisor overrides: ${Object.entries(o.overrides).map(([k, v]) => `${k} ${v}`).join(", ")}.`);
  return out.join("\n") + "\n";
}

function perClassF1(c: readonly (readonly number[])[], cls: readonly string[]): Array<{ c: string; f1: number; support: number }> {
  return cls.map((name, i) => {
    const tp = c[i]?.[i] ?? 0;
    const support = (c[i] ?? []).reduce((a, v) => a + v, 0);
    const predicted = c.reduce((a, row) => a + (row[i] ?? 0), 0);
    const p = predicted ? tp / predicted : 0;
    const r = support ? tp / support : 0;
    return { c: name, f1: p + r ? (2 * p * r) / (p + r) : 0, support };
  });
}

function weatherConfusions(o: OpenLoopReport, cls: readonly string[]): string {
  const rows: string[][] = [];
  for (const [v, s] of Object.entries(o.byCondition["weather"] ?? {})) {
    const c = s.confusion;
    if (!c) continue;
    const e = offDiagonal(c);
    rows.push([v, ...topPairs(c, cls, 3).map(([k, n]) => `${k} ${n} (${share(n, e)})`)]);
  }
  return table(["weather", "1st", "2nd", "3rd"], rows);
}

/** The k largest off-diagonal cells as "EXPERT → DECISION". */
function topPairs(c: readonly (readonly number[])[], cls: readonly string[], k: number): Array<[string, number]> {
  const pairs: Array<[string, number]> = [];
  c.forEach((row, i) => row.forEach((n, j) => i !== j && n > 0 && pairs.push([`${cls[i]} → ${cls[j]}`, n])));
  return pairs.sort((a, b) => b[1] - a[1]).slice(0, k);
}
