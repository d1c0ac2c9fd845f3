/**
 * Classification metrics of decisions against labels: confusion matrix, per-class precision, recall and
 * F1, their macro averages, accuracy. Classes are indices 0..k−1; rows of the confusion matrix are the
 * truth, columns the prediction. Pure. The one module for both training's validation (fusion/train) and
 * evaluation's scoring (eval/score), which may import fusion/.
 */

export interface ClassScores {
  /** tp / predicted; null when the class was never predicted. */
  precision: number | null;
  /** tp / support; null when the class never occurs in the truth. */
  recall: number | null;
  /** 2tp / (support + predicted); null when the class occurs in neither. */
  f1: number | null;
  /** Frames whose truth is this class. */
  support: number;
  /** Frames predicted as this class. */
  predicted: number;
}

export interface ClassificationMetrics {
  n: number;
  accuracy: number;
  /** Means over the classes where the value is defined (not null). */
  macroPrecision: number;
  macroRecall: number;
  /** Mean F1 over the classes that occur in the truth or the predictions. */
  macroF1: number;
  perClass: ClassScores[];
  confusion: number[][];
}

export function emptyConfusion(classes: number): number[][] {
  return Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
}

/** Confusion matrix of (truth, prediction) pairs; pairs with a class outside 0..k−1 are skipped. */
export function confusionOf(truth: readonly number[], pred: readonly number[], classes: number): number[][] {
  if (truth.length !== pred.length) throw new RangeError(`truth has ${truth.length} labels, predictions ${pred.length}`);
  const m = emptyConfusion(classes);
  truth.forEach((t, i) => {
    const p = pred[i]!;
    if (t >= 0 && t < classes && p >= 0 && p < classes) m[t]![p]!++;
  });
  return m;
}

/** Element-wise sum of confusion matrices (each weighted), for pooling episodes and bootstrap resamples. */
export function addConfusion(into: number[][], m: readonly (readonly number[])[], weight = 1): number[][] {
  m.forEach((row, t) => row.forEach((v, p) => (into[t]![p]! += v * weight)));
  return into;
}

const mean = (xs: (number | null)[]): number => {
  const d = xs.filter((x): x is number => x !== null);
  return d.length ? d.reduce((a, b) => a + b, 0) / d.length : 0;
};

/** Every metric from a confusion matrix (rows truth, columns prediction). */
export function metricsFromConfusion(confusion: readonly (readonly number[])[]): ClassificationMetrics {
  const k = confusion.length;
  let n = 0;
  let correct = 0;
  const perClass: ClassScores[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += confusion[r]![c]!;
    n += support;
    correct += tp;
    perClass.push({
      precision: predicted ? tp / predicted : null,
      recall: support ? tp / support : null,
      f1: support + predicted ? (2 * tp) / (support + predicted) : null,
      support,
      predicted,
    });
  }
  return {
    n,
    accuracy: n ? correct / n : 0,
    macroPrecision: mean(perClass.map((c) => c.precision)),
    macroRecall: mean(perClass.map((c) => c.recall)),
    macroF1: mean(perClass.map((c) => c.f1)),
    perClass,
    confusion: confusion.map((r) => [...r]),
  };
}

export function classificationMetrics(truth: readonly number[], pred: readonly number[], classes: number): ClassificationMetrics {
  return metricsFromConfusion(confusionOf(truth, pred, classes));
}

/** Index of the largest value in each row of a [n × classes] array. */
export function argmaxRows(probs: Float32Array | number[], classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < probs.length / classes; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + best]!) best = c;
    out.push(best);
  }
  return out;
}
