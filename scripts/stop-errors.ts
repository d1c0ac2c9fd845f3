/**
 * Where a model's STOP errors lie (issue #20): each labelled decision of an open-loop replay joined to its
 * step's GroundTruth (the expert's reason, distance to the stop line, speed, weather), tabulated by situation.
 *
 *   nice -n 19 npx tsx scripts/stop-errors.ts --model models/default .tmp/fresh/fresh-91000{1..6}.mcap
 *
 * Writes a table to stdout. The same decisions as `fusiond eval --data` (openLoop's decideFile, mask none).
 */
import { classIndexOf, indexTruths, truthAt } from "../fusion/index.ts";
import { timestampToNs } from "../schemas/index.ts";
import { decideFile } from "../eval/run/open-loop.ts";
import { loadEvalModel, unusedModalities } from "../eval/run/decider.ts";
import { ACTION_CLASSES } from "../eval/score/open-loop.ts";
import { McapRecording, decodeRecording, fileSource } from "../replay/index.ts";

const args = process.argv.slice(2);
const mi = args.indexOf("--model");
const modelDir = mi >= 0 ? args[mi + 1]! : "models/default";
const files = args.filter((a, i) => !a.startsWith("--") && !(mi >= 0 && i === mi + 1));

interface Row {
  truth: string;
  pred: string;
  reason: string;
  weather: string;
  dist: number | undefined;
  speed: number;
  file: string;
  scenario: string;
}
const rows: Row[] = [];
const truthOnly = args.includes("--truth-only");
/** --truth-only: the labels alone (the expert's decision stands in for the model's): their distribution. */
async function truthsOf(file: string): Promise<{ made: { stampNs: bigint; decision: { action: unknown } }[]; truths: Parameters<typeof indexTruths>[0][number][] }> {
  const rec = await McapRecording.open(await fileSource(file));
  const truths: Parameters<typeof indexTruths>[0][number][] = [];
  try {
    for await (const d of decodeRecording(rec)) if (d.message?.kind === "sim_truth") truths.push(d.message.message);
  } finally {
    await rec.close();
  }
  // One decision in 3 steps, as the training samples (--every 3).
  const made = truths.filter((_, i) => i % 3 === 0).map((t) => ({ stampNs: t.stamp ? timestampToNs(t.stamp) : 0n, decision: { action: t.expert_action } }));
  return { made, truths };
}
const model = truthOnly ? undefined : await loadEvalModel(modelDir, "auto", 32);
const WEATHER = ["UNSPECIFIED", "CLEAR", "RAIN", "FOG", "NIGHT"];
try {
  for (const file of files) {
    const { made, truths } = model ? await decideFile(file, model, { mask: unusedModalities(model.spec) }, () => {}) : await truthsOf(file);
    const index = indexTruths(truths);
    for (const m of made) {
      const t = truthAt(index, m.stampNs) as (typeof truths)[number] | undefined;
      if (!t) continue;
      const label = classIndexOf(t.expert_action);
      if (label < 0) continue;
      const d = t.stop_line_distance_m;
      const w = t.weather as unknown;
      rows.push({
        truth: ACTION_CLASSES[label]!,
        pred: ACTION_CLASSES[classIndexOf(m.decision.action)] ?? "none",
        reason: String(t.expert_reason ?? ""),
        weather: typeof w === "number" ? (WEATHER[w] ?? String(w)) : String(w ?? "").replace(/^WEATHER_/, ""),
        dist: d === undefined || d === null || Number(d) < 0 ? undefined : Number(d),
        speed: Number(t.speed_mps ?? 0),
        file,
        scenario: String(t.scenario ?? ""),
      });
    }
    process.stderr.write(`${file}: ${made.length} decisions\n`);
  }
} finally {
  model?.close();
}

const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : "-");
function table(title: string, keyOf: (r: Row) => string | undefined, filter: (r: Row) => boolean): void {
  const groups = new Map<string, { n: number; wrong: number; byPred: Map<string, number> }>();
  for (const r of rows) {
    if (!filter(r)) continue;
    const k = keyOf(r);
    if (k === undefined) continue;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { n: 0, wrong: 0, byPred: new Map() }));
    g.n++;
    if (r.pred !== r.truth) {
      g.wrong++;
      g.byPred.set(r.pred, (g.byPred.get(r.pred) ?? 0) + 1);
    }
  }
  const totalWrong = [...groups.values()].reduce((s, g) => s + g.wrong, 0);
  console.log(`\n### ${title}\n\n| key | steps | wrong | error rate | share of these errors | decided instead |\n| --- | --- | --- | --- | --- | --- |`);
  for (const [k, g] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const inst = [...g.byPred].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p} ${n}`).join(", ");
    console.log(`| ${k} | ${g.n} | ${g.wrong} | ${pct(g.wrong, g.n)} | ${pct(g.wrong, totalWrong)} | ${inst} |`);
  }
}
const bin = (v: number | undefined, edges: number[]): string => {
  if (v === undefined) return "none ahead";
  for (let i = 0; i < edges.length; i++) if (v < edges[i]!) return `${i ? edges[i - 1] : 0}–${edges[i]}`;
  return `≥ ${edges.at(-1)}`;
};
const isStop = (r: Row): boolean => r.truth === "STOP";
const wrongTotal = rows.filter((r) => r.pred !== r.truth).length;
if (truthOnly) {
  const n = rows.length;
  const count = (keyOf: (r: Row) => string | undefined, title: string): void => {
    const m = new Map<string, number>();
    for (const r of rows) {
      const k = keyOf(r);
      if (k !== undefined) m.set(k, (m.get(k) ?? 0) + 1);
    }
    console.log(`\n### ${title}\n\n| key | steps | share |\n| --- | --- | --- |`);
    for (const [k, v] of [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1))) console.log(`| ${k} | ${v} | ${pct(v, n)} |`);
  };
  console.log(`${n} labelled steps (1 in 3) from ${files.length} files, ${new Set(rows.map((r) => r.scenario)).size} episodes`);
  count((r) => r.truth, "Expert label");
  count((r) => `${r.truth} (${r.reason})`, "Expert label and reason");
  count((r) => (r.truth === "STOP" && r.reason === "stop_line" ? bin(r.dist, [5, 12, 25, 50, 75, 100, 125, 150, 200]) : undefined), "STOP (stop_line) by distance, m");
  count((r) => (r.truth === "STOP" && r.reason === "stop_line" ? bin(r.speed, [0.3, 2, 5, 10, 15, 20, 25, 40]) : undefined), "STOP (stop_line) by speed, m/s");
  count((r) => (r.reason === "stop_line" ? `${r.truth} ${bin(r.speed, [0.3, 5, 15, 40])}` : undefined), "reason stop_line: label by speed");
  count((r) => (r.dist !== undefined && r.dist >= 12 && r.dist < 150 ? `${bin(r.dist, [12, 50, 100, 150])} m: ${r.truth}` : undefined), "Every step with a stop line 12–150 m ahead: the label");
  count((r) => r.weather, "Weather");
  process.exit(0);
}
console.log(`${rows.length} labelled decisions from ${files.length} files, ${wrongTotal} wrong (${pct(wrongTotal, rows.length)}); model ${modelDir}`);
table("Every class, by expert reason", (r) => r.reason || "(none)", () => true);
table("STOP steps by expert reason", (r) => r.reason || "(none)", isStop);
table("STOP steps (reason stop_line) by distance to the line, m", (r) => bin(r.dist, [5, 12, 25, 50, 75, 100, 125, 150, 200]), (r) => isStop(r) && r.reason === "stop_line");
table("STOP steps (reason stop_line) by speed, m/s", (r) => bin(r.speed, [0.3, 2, 5, 10, 15, 20, 25, 40]), (r) => isStop(r) && r.reason === "stop_line");
table("STOP steps (reason stop_line) by weather", (r) => r.weather, (r) => isStop(r) && r.reason === "stop_line");
table("STOP steps by weather", (r) => r.weather, isStop);
table("Decided STOP wrongly: the expert's label", (r) => (r.pred === "STOP" && r.truth !== "STOP" ? `${r.truth} (${r.reason})` : undefined), () => true);
table("Every class, by weather", (r) => r.weather, () => true);
