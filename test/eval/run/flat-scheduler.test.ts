import assert from "node:assert/strict";
import { VirtualTimeScheduler } from "rxjs";
import { FlatScheduler } from "../../../eval/run/flat-scheduler.ts";

describe("eval/run FlatScheduler", () => {
  it("a periodic timer rescheduling itself 50,000 times fires on time and unsubscribes without a stack overflow", () => {
    const inner = new VirtualTimeScheduler();
    const flat = new FlatScheduler(inner);
    const at: number[] = [];
    const sub = flat.schedule(function () {
      at.push(flat.now());
      this.schedule(undefined, 100);
    }, 100);
    inner.maxFrames = 5_000_000;
    inner.flush();
    assert.equal(at.length, 50_000);
    assert.deepEqual(at.slice(0, 3), [100, 200, 300]);
    assert.doesNotThrow(() => sub.unsubscribe());
    inner.maxFrames = Infinity;
    inner.flush();
    assert.equal(at.length, 50_000, "nothing fires after unsubscribe");
  });

});
