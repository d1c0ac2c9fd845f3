import assert from "node:assert/strict";
import { VirtualTimeScheduler } from "rxjs";
import { delayMs, every, schedulerNowNs } from "../../schemas/scheduler-time.ts";

describe("schemas/scheduler-time", () => {
  it("schedulerNowNs reads scheduler ms as ns; delayMs turns ns into a delay that is never negative", () => {
    assert.equal(schedulerNowNs({ now: () => 1234.5 }), 1_234_500_000n);
    // At an epoch-sized time float64 ms step by ~0.24 µs: exact to within a microsecond.
    const epoch = schedulerNowNs({ now: () => 1_700_000_000_123.25 }) - 1_700_000_000_123_250_000n;
    assert.ok(epoch > -1_000n && epoch < 1_000n, `${epoch} ns off`);
    assert.equal(delayMs(2_500_000n), 2.5);
    assert.equal(delayMs(-5n), 0);
  });

  it("every: a periodic timer that fires 50,000 times on time, holds one pending action, and stops when closed", () => {
    const scheduler = new VirtualTimeScheduler();
    const at: number[] = [];
    const sub = every(scheduler, 100_000_000n, () => at.push(scheduler.now()));
    scheduler.maxFrames = 5_000_000;
    scheduler.flush();
    assert.equal(at.length, 50_000);
    assert.deepEqual(at.slice(0, 3), [100, 200, 300]);
    assert.equal(scheduler.actions.length, 1, "only the next tick is pending: past ticks are not chained to it");
    assert.doesNotThrow(() => sub.unsubscribe());
    scheduler.maxFrames = Infinity;
    scheduler.flush();
    assert.equal(at.length, 50_000, "nothing fires after unsubscribe");
  });

  it("every: closing it from inside its own tick stops it", () => {
    const scheduler = new VirtualTimeScheduler();
    let n = 0;
    const sub = every(scheduler, 1_000_000n, () => {
      if (++n === 3) sub.unsubscribe();
    });
    scheduler.flush();
    assert.equal(n, 3);
  });
});
