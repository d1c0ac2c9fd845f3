/**
 * Average precision of a ranking: how well a score (e.g. the model's BRAKE_HARD probability) puts the
 * frames whose truth is the class ahead of the others. Defined as in scikit-learn's
 * average_precision_score: AP = Σ_n (R_n − R_{n−1}) · P_n over the distinct score thresholds, highest
 * first (tied scores enter together), without interpolation. Pure.
 */

/** AP of `scores` against binary `positive`; null when there is no positive (AP is undefined). */
export function averagePrecision(scores: readonly number[], positive: readonly boolean[]): number | null {
  if (scores.length !== positive.length) throw new RangeError(`scores has ${scores.length} entries, labels ${positive.length}`);
  const total = positive.reduce((a, p) => a + (p ? 1 : 0), 0);
  if (total === 0) return null;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let tp = 0;
  let seen = 0;
  let lastRecall = 0;
  let ap = 0;
  for (let i = 0; i < order.length; ) {
    const s = scores[order[i]!]!;
    // Every frame with this score crosses the threshold at once.
    while (i < order.length && scores[order[i]!]! === s) {
      if (positive[order[i]!]) tp++;
      seen++;
      i++;
    }
    const recall = tp / total;
    ap += (recall - lastRecall) * (tp / seen);
    lastRecall = recall;
  }
  return ap;
}

/** AP of each class (one against the rest) and their mean over the classes with a positive. */
export function meanAveragePrecision(
  scoresByClass: Readonly<Record<string, readonly number[]>>,
  truth: readonly string[],
): { ap: Record<string, number | null>; meanAP: number | null } {
  const ap: Record<string, number | null> = {};
  for (const [cls, scores] of Object.entries(scoresByClass)) ap[cls] = averagePrecision(scores, truth.map((t) => t === cls));
  const defined = Object.values(ap).filter((v): v is number => v !== null);
  return { ap, meanAP: defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : null };
}
