import assert from "node:assert/strict";
import fc from "fast-check";
import { classificationMetrics, metricsFromConfusion } from "../../../eval/score/classification.ts";
import { averagePrecision, meanAveragePrecision } from "../../../eval/score/ranking.ts";
import { distribution } from "../../../eval/score/distribution.ts";
import { classMetrics } from "../../../fusion/train/metrics.ts";

const close = (a: number | null, b: number, eps = 1e-9): void => {
  assert.ok(a !== null && Math.abs(a - b) < eps, `${a} ≉ ${b}`);
};

describe("eval/score metrics (hand-computed cases)", () => {
  it("a 3-class confusion matrix: per-class precision/recall/F1, macro averages, accuracy", () => {
    // truth 0 0 1 1 2 / pred 0 1 1 1 0 → rows (truth) [1 1 0] [0 2 0] [1 0 0]
    const m = classificationMetrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3);
    assert.deepEqual(m.confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 0]]);
    assert.equal(m.n, 5);
    close(m.accuracy, 3 / 5);
    // class 0: tp 1, support 2, predicted 2
    close(m.perClass[0]!.precision, 0.5);
    close(m.perClass[0]!.recall, 0.5);
    close(m.perClass[0]!.f1, 0.5);
    // class 1: tp 2, support 2, predicted 3
    close(m.perClass[1]!.precision, 2 / 3);
    close(m.perClass[1]!.recall, 1);
    close(m.perClass[1]!.f1, 0.8);
    // class 2: never predicted: precision undefined, recall 0, F1 0
    assert.equal(m.perClass[2]!.precision, null);
    close(m.perClass[2]!.recall, 0);
    close(m.perClass[2]!.f1, 0);
    close(m.macroF1, (0.5 + 0.8 + 0) / 3);
    close(m.macroPrecision, (0.5 + 2 / 3) / 2);
    close(m.macroRecall, (0.5 + 1 + 0) / 3);
  });

  it("classes absent from truth and predictions do not count in the macro averages", () => {
    const m = metricsFromConfusion([[3, 0, 0], [1, 4, 0], [0, 0, 0]]);
    assert.equal(m.perClass[2]!.f1, null);
    close(m.macroF1, ((2 * 3) / (3 + 4) + (2 * 4) / (5 + 4)) / 2);
    close(m.accuracy, 7 / 8);
  });

  it("macro-F1 agrees with fusion/train/metrics.ts on any labels", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 200 }), (pairs) => {
        const t = pairs.map((p) => p[0]);
        const p = pairs.map((q) => q[1]);
        const ours = classificationMetrics(t, p, 8);
        const theirs = classMetrics(t, p, 8);
        assert.ok(Math.abs(ours.macroF1 - theirs.macroF1) < 1e-12);
        assert.ok(Math.abs(ours.accuracy - theirs.accuracy) < 1e-12);
        assert.deepEqual(ours.confusion, theirs.confusion);
      }),
    );
  });

  it("average precision: scikit-learn's example, ties, perfect and reversed rankings, no positives", () => {
    // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.8333…
    close(averagePrecision([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 5 / 6);
    // one threshold at 0.5 takes three frames (1 positive): R 0.5, P 1/3; then 0.1: R 1, P 2/4
    close(averagePrecision([0.5, 0.5, 0.5, 0.1], [true, false, false, true]), 0.5 * (1 / 3) + 0.5 * 0.5);
    close(averagePrecision([0.9, 0.8, 0.2, 0.1], [true, true, false, false]), 1);
    // positives last: P at R=0.5 is 1/3, at R=1 is 2/4
    close(averagePrecision([0.9, 0.8, 0.2, 0.1], [false, false, true, true]), 0.5 * (1 / 3) + 0.5 * 0.5);
    assert.equal(averagePrecision([0.3, 0.2], [false, false]), null);
  });

  it("mean AP is over the classes that occur", () => {
    const r = meanAveragePrecision({ A: [0.9, 0.1, 0.2], B: [0.1, 0.9, 0.5], C: [0.3, 0.3, 0.3] }, ["A", "B", "B"]);
    close(r.ap["A"]!, 1);
    close(r.ap["B"]!, 1);
    assert.equal(r.ap["C"], null);
    close(r.meanAP!, 1);
  });

  it("a latency distribution: quantiles and histogram bins", () => {
    const d = distribution([1, 2, 3, 4, 2000], [0, 2, 10]);
    assert.equal(d.n, 5);
    close(d.mean, 2010 / 5);
    close(d.p50, 3);
    assert.equal(d.max, 2000);
    assert.deepEqual(d.histogram.counts, [1, 3, 1]); // [0,2): 1 · [2,10): 2,3,4 · ≥10: 2000
  });
});
