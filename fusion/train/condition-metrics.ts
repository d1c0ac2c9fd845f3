/** A trained model's metrics on held-out samples: overall and per condition (weather, tunnel), and against a baseline. */
import type * as tf from "@tensorflow/tfjs";
import { ACTIONS } from "../actions.ts";
import type { InputSpec } from "../features/config.ts";
import type { LabelledSample } from "./dataset.ts";
import type { ClassificationMetrics } from "./metrics.ts";
import { modelMetrics } from "./trainer.ts";

/** Overall and per-condition metrics on a sample set. */
export function conditionMetrics(model: tf.LayersModel, samples: LabelledSample[], spec: InputSpec): Record<string, unknown> {
  const all = samples.map((_, i) => i);
  const out: Record<string, unknown> = {};
  const summary = (m: ClassificationMetrics) => ({ n: m.n, macroF1: m.macroF1, accuracy: m.accuracy });
  const overall = modelMetrics(model, samples, all, spec);
  out["overall"] = { ...summary(overall), ...Object.fromEntries(ACTIONS.map((a, i) => [`F1 ${a}`, overall.perClass[i]?.f1 ?? "n/a"])) };
  for (const w of ["CLEAR", "RAIN", "FOG", "NIGHT"]) {
    const idx = all.filter((i) => samples[i]!.tags.weather === w);
    if (idx.length) out[`weather ${w}`] = summary(modelMetrics(model, samples, idx, spec));
  }
  const tunnel = all.filter((i) => samples[i]!.tags.inTunnel);
  if (tunnel.length) out["in tunnel"] = summary(modelMetrics(model, samples, tunnel, spec));
  return out;
}

/**
 * The model card's test entries: "test K" for each of conditionMetrics' keys, and with a baseline model
 * "baseline ID test K" with its macro-F1 and this model's difference to it.
 */
export function testMetrics(model: tf.LayersModel, spec: InputSpec, test: LabelledSample[], baseline?: { id: string; model: tf.LayersModel; spec: InputSpec; test?: LabelledSample[] }): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  const m = conditionMetrics(model, test, spec);
  for (const [k, v] of Object.entries(m)) metrics[`test ${k}`] = v;
  if (!baseline) return metrics;
  // A baseline with other camera slots reads the same recordings through its own features (baseline.test).
  const b = conditionMetrics(baseline.model, baseline.test ?? test, baseline.spec);
  for (const [k, v] of Object.entries(b)) {
    const mine = (m[k] as { macroF1: number } | undefined)?.macroF1;
    const theirs = (v as { macroF1: number }).macroF1;
    metrics[`baseline ${baseline.id} test ${k}`] = { macroF1: theirs, ...(mine !== undefined ? { "this model − baseline": mine - theirs } : {}) };
  }
  return metrics;
}
