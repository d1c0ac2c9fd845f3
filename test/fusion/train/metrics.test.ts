import assert from "node:assert/strict";
import { argmaxRows, classificationMetrics, metricsFromConfusion } from "../../../fusion/train/metrics.ts";

const close = (a: number | null, b: number, eps = 1e-9): void => {
  assert.ok(a !== null && Math.abs(a - b) < eps, `${a} ≉ ${b}`);
};

describe("fusion/train/metrics: classification metrics for training and evaluation (hand-computed cases)", () => {
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

  it("argmaxRows: the first largest column of each row", () => {
    assert.deepEqual(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0.1, 0.9], 3), [1, 0, 2]);
  });
});
