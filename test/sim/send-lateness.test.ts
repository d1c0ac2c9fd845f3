/** The simulator's send lateness per kind (sim/send-lateness.ts): quantiles from fixed buckets, memory constant. */
import assert from "node:assert/strict";
import { SendLateness } from "../../sim/send-lateness.ts";

describe("sim/send-lateness", () => {
  it("gives each kind's quantiles to 0.1 ms below 100 ms and 1 ms above, the max beyond 5 s, early sends as 0", () => {
    const s = new SendLateness();
    for (let i = 1; i <= 100; i++) s.observe("radar", i * 0.05); // 0.05 … 5 ms
    for (let i = 1; i <= 100; i++) s.observe("camera", 100 + i * 10); // 110 … 1100 ms
    s.observe("ego", -0.4);
    s.observe("ego", 7000);
    const r = s.summary();
    assert.deepEqual(r["radar"], { n: 100, p50: 2.5, p90: 4.5, p99: 5, max: 5 });
    assert.equal(r["camera"]!.p50, 600);
    assert.equal(r["camera"]!.p99, 1090);
    assert.deepEqual(r["ego"], { n: 2, p50: 0, p90: 7000, p99: 7000, max: 7000 });
  });
});
