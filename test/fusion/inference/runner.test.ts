import assert from "node:assert/strict";
import { makeInputSpec } from "../../../fusion/features/config.ts";
import { BatchingRunner, FakeModelRunner } from "../../../fusion/inference/runner.ts";

const spec = makeInputSpec(["ego"]);
const inputs = (v: number) => ({ ego: new Float32Array(8).fill(v), presence: new Float32Array(10) });

/** A runner whose runtime answers with a promise (as ONNX Runtime does); batches holding a 0 fail. */
class AsyncRunner extends BatchingRunner {
  readonly batchSizes: number[] = [];
  constructor(maxBatch: number) {
    super("async", "0000000000000000", "async", spec, { now: () => 0, maxBatch });
  }
  protected get classes(): number {
    return 8;
  }
  protected async predictBatch(rows: Record<string, Float32Array>[]): Promise<Float32Array> {
    this.batchSizes.push(rows.length);
    await new Promise((r) => setTimeout(r, 5));
    if (rows.some((r) => r["ego"]![0] === 0)) throw new Error("runtime failed");
    const out = new Float32Array(rows.length * 8);
    rows.forEach((r, i) => (out[i * 8] = r["ego"]![0]!));
    return out;
  }
}

describe("fusion/inference/runner", () => {
  it("an asynchronous runtime: calls that arrive while a batch runs form the next batch; a failed batch rejects its calls and the runner goes on", async () => {
    const r = new AsyncRunner(4);
    const first = r.run(inputs(1));
    await new Promise((res) => setImmediate(res)); // the first batch (of 1) is running
    const rest = [2, 0, 3].map((v) => r.run(inputs(v)));
    const later = await Promise.allSettled(rest);
    assert.equal((await first).probabilities[0], 1);
    assert.deepEqual(later.map((s) => s.status), ["rejected", "rejected", "rejected"], "the batch with the failing row fails as a whole");
    assert.match((later[0] as PromiseRejectedResult).reason.message, /runtime failed/);
    assert.deepEqual(r.batchSizes, [1, 3]);
    assert.equal((await r.run(inputs(7))).probabilities[0], 7);
    assert.deepEqual(r.stats().calls, 2);
    r.close();
  });

  it("runs one call at a time and micro-batches what queued up meanwhile", async () => {
    const r = new FakeModelRunner(spec, (x) => [x["ego"]![0]!, 0, 0, 0, 0, 0, 0, 0], { now: () => 0, maxBatch: 4 });
    const outs = await Promise.all([1, 2, 3, 4, 5, 6].map((v) => r.run(inputs(v))));
    assert.deepEqual(outs.map((o) => o.probabilities[0]), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(r.batchSizes, [4, 2]);
    assert.equal(r.stats().batches, 2);
    assert.equal(r.stats().largestBatch, 4);
    r.close();
  });

  it("holds at most maxQueue calls: the oldest is dropped, counted and rejected", async () => {
    const r = new FakeModelRunner(spec, () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => 0, maxBatch: 2, maxQueue: 3 });
    const calls = [1, 2, 3, 4, 5].map((v) => r.run(inputs(v)));
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(settled.map((s) => s.status), ["rejected", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
    assert.equal((settled[0] as PromiseRejectedResult).reason.code, "queue_overflow");
    assert.equal(r.stats().dropped, 2);
    r.close();
  });

  it("reports per-call latency: queue wait plus inference, from the injected clock", async () => {
    let t = 0;
    const seen: number[] = [];
    const r = new FakeModelRunner(spec, () => {
      t += 2; // each batch takes 2 ms of fake time
      return [1, 0, 0, 0, 0, 0, 0, 0];
    }, { now: () => t, maxBatch: 1, onLatency: (ms) => seen.push(ms) });
    const outs = await Promise.all([r.run(inputs(1)), r.run(inputs(2))]);
    assert.equal(outs[0]!.queueMs, 0);
    assert.equal(outs[1]!.queueMs, 2);
    assert.deepEqual(seen, [2, 4]);
    r.close();
  });

  it("warms up before the first frame; a closed runner rejects calls", async () => {
    const r = new FakeModelRunner(spec, () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => 0 });
    await r.warmup();
    assert.ok(r.seen.length > 0);
    r.close();
    await assert.rejects(r.run(inputs(1)), { code: "runner_closed" });
  });
});
