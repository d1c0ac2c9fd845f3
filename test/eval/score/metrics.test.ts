import assert from "node:assert/strict";
import { averagePrecision, meanAveragePrecision } from "../../../eval/score/ranking.ts";
import { distribution } from "../../../eval/score/distribution.ts";

const close = (a: number | null, b: number, eps = 1e-9): void => {
  assert.ok(a !== null && Math.abs(a - b) < eps, `${a} ≉ ${b}`);
};

describe("eval/score metrics: ranking and distribution (hand-computed cases)", () => {
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
