import { strict as assert } from "node:assert";
import { PublishGate } from "../../sensors/index.ts";

describe("sensors/publish-gate", () => {
  it("refuses beyond maxInFlight at once, counted, instead of queueing", async () => {
    const gate = new PublishGate(2);
    const releases: Array<() => void> = [];
    const slow = (): Promise<void> => new Promise((r) => releases.push(r));
    const a = gate.run(slow);
    const b = gate.run(slow);
    assert.deepEqual(await gate.run(slow), { ok: false, reason: "queue_overflow", detail: "2 publishes pending (maxInFlight 2)" });
    assert.equal(gate.inFlight, 2);
    releases.forEach((r) => r());
    assert.deepEqual(await Promise.all([a, b]), [{ ok: true }, { ok: true }]);
    assert.deepEqual(gate.counters, { sent: 2, queueOverflow: 1, sendFailed: 0 });
  });

  it("turns a transport failure into a counted send_failed result, never a throw", async () => {
    const gate = new PublishGate(1);
    const r = await gate.run(() => Promise.reject(new Error("EAGAIN")));
    assert.deepEqual(r, { ok: false, reason: "send_failed", detail: "EAGAIN" });
    assert.equal(gate.counters.sendFailed, 1);
    assert.equal(gate.inFlight, 0);
  });

  it("drain waits for pending sends and then refuses new ones", async () => {
    const gate = new PublishGate(4);
    let release!: () => void;
    const pending = gate.run(() => new Promise((r) => (release = r)));
    let drained = false;
    const d = gate.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    release();
    await d;
    assert.deepEqual(await pending, { ok: true });
    assert.equal((await gate.run(() => Promise.resolve())).ok, false);
  });
});
