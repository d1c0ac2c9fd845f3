/**
 * Does a model keep its open-loop accuracy when frames do not wait for the radar scan after the camera (issue 16)?
 * The same recordings through the evaluation's open loop (eval/run/open-loop.ts: the pipeline on the recorded
 * receive stamps, decisions joined to the expert's labels) under three alignments, paired by episode:
 * the daemon's default (radar waited: the nearest scan), radar in noWaitFor with the scan taken as measured,
 * and radar in noWaitFor moved to the camera stamp (extrapolate "radar"). Prints accuracy and macro-F1 of
 * each, and each against the default with a paired bootstrap interval over episodes and the share of frames
 * whose action did not change.
 *
 *   npx tsx bench/daemon-radar-accuracy.ts models/default .tmp/val0/*.mcap
 *
 * Recordings made with `fusiond sim --sensor-latency 0` show what the daemon meets when every sensor sends at
 * its stamp (the frame then always takes the scan before the camera); with the modelled latency the scan after
 * the camera has often arrived with the camera anyway.
 */
import { EVAL_ALIGNER } from "../eval/run/harness.ts";
import { runOpenLoop } from "../eval/run/open-loop.ts";
import { loadEvalModel } from "../eval/run/decider.ts";
import { episodeConfusions, pooledConfusion } from "../eval/score/open-loop.ts";
import { bootstrap } from "../eval/score/bootstrap.ts";
import { metricsFromConfusion } from "../fusion/train/metrics.ts";
import type { AlignerConfig } from "../pipeline/index.ts";

const [modelDir, ...files] = process.argv.slice(2);
if (!modelDir || files.length === 0) throw new Error("usage: npx tsx bench/daemon-radar-accuracy.ts MODEL_DIR RECORDING.mcap...");
const variants: Record<string, AlignerConfig> = {
  "radar waited (the daemon's default)": { noWaitFor: ["gnss", "ego"], extrapolate: ["gnss", "ego"] },
  "radar not waited, scan as measured": { noWaitFor: ["gnss", "ego", "radar"], extrapolate: ["gnss", "ego"] },
  "radar not waited, moved to the camera stamp": { noWaitFor: ["gnss", "ego", "radar"], extrapolate: ["gnss", "ego", "radar"] },
};
const model = await loadEvalModel(modelDir, "auto", 32);
const confusions: Record<string, Map<string, number[][]>> = {};
const actions: Record<string, Map<string, number>> = {};
for (const [name, aligner] of Object.entries(variants)) {
  // The open loop aligns with EVAL_ALIGNER (its own, kept for comparable reports); this script swaps its
  // contents for each variant, in this process only.
  for (const k of Object.keys(EVAL_ALIGNER)) delete (EVAL_ALIGNER as Record<string, unknown>)[k];
  Object.assign(EVAL_ALIGNER, aligner);
  const r = await runOpenLoop(files, model, { mask: [] });
  const conf = episodeConfusions(r.records);
  confusions[name] = conf;
  actions[name] = new Map(r.records.map((x) => [`${x.episode}@${x.tS.toFixed(3)}`, x.pred]));
  const m = metricsFromConfusion(pooledConfusion([...conf.values()], [...conf.values()].map(() => 1)));
  console.log(`${name}: ${r.records.length} labelled decisions, ${conf.size} episodes, accuracy ${m.accuracy.toFixed(4)}, macro-F1 ${m.macroF1.toFixed(4)}`);
}
const [base, ...others] = Object.keys(variants) as [string, ...string[]];
for (const other of others) {
  const episodes = [...confusions[base]!.keys()].filter((e) => confusions[other]!.has(e));
  const a = episodes.map((e) => confusions[base]!.get(e)!);
  const b = episodes.map((e) => confusions[other]!.get(e)!);
  const d = bootstrap(episodes.length, (w) => metricsFromConfusion(pooledConfusion(b, w)).macroF1 - metricsFromConfusion(pooledConfusion(a, w)).macroF1, { iterations: 2000, seed: 1 });
  let same = 0;
  let n = 0;
  for (const [k, p] of actions[base]!) {
    const q = actions[other]!.get(k);
    if (q === undefined) continue;
    n++;
    if (q === p) same++;
  }
  console.log(`${other} − ${base}: macro-F1 ${d.estimate.toFixed(4)} [95% ${d.lo.toFixed(4)}, ${d.hi.toFixed(4)}] over ${episodes.length} episodes; same action on ${same}/${n} frames (${((100 * same) / n).toFixed(2)}%)`);
}
model.close();
