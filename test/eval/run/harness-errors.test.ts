/**
 * A failed pipeline ends the evaluation with its error. The harness subscribed to frames$, decisions$ and drops$
 * without error callbacks: a pipeline whose sources failed became an uncaught error (the daemon's exit-7 bug of
 * session 12, bin/daemon/observers.ts) and settle() returned as if every frame had been decided.
 */
import assert from "node:assert/strict";
import { Subject, VirtualTimeScheduler } from "rxjs";
import { EvalHarness } from "../../../eval/run/harness.ts";
import type { SensorMessage } from "../../../schemas/index.ts";

describe("EvalHarness when its pipeline fails", () => {
  it("settle() rejects with the sources' error, and waiters already in settle() are woken with it", async () => {
    const sources = new Subject<SensorMessage>();
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    const h = new EvalHarness({ scheduler: new VirtualTimeScheduler(), sources, decide: () => Promise.reject(new Error("not called")) });
    try {
      // Pretend a frame is outstanding so that settle() waits, as it does mid-episode.
      h.frames = 1;
      const waiting = h.settle(0);
      sources.error(new Error("broker refused the subscription"));
      await assert.rejects(waiting, /broker refused the subscription/);
      await assert.rejects(h.settle(5), /broker refused the subscription/);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(uncaught, []);
    } finally {
      process.off("uncaughtException", onUncaught);
      h.close();
    }
  });
});
