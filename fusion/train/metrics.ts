/** Classification metrics for action predictions: confusion matrix, per-class and macro F1, accuracy. */
export interface ClassMetrics {
  n: number;
  accuracy: number;
  /** Mean F1 over the classes that occur in the truth or the predictions. */
  macroF1: number;
  perClassF1: (number | null)[];
  confusion: number[][];
}

export function classMetrics(truth: readonly number[], pred: readonly number[], classes: number): ClassMetrics {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    const p = pred[i]!;
    confusion[t]![p]!++;
    if (t === p) correct++;
  });
  const perClassF1 = confusion.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + r[c]!, 0);
    if (support === 0 && predicted === 0) return null;
    return (2 * tp) / (support + predicted);
  });
  const seen = perClassF1.filter((f): f is number => f !== null);
  return {
    n: truth.length,
    accuracy: truth.length ? correct / truth.length : 0,
    macroF1: seen.length ? seen.reduce((a, b) => a + b, 0) / seen.length : 0,
    perClassF1,
    confusion,
  };
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
