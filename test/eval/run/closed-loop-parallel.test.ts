/**
 * Closed loop runs at most half as many episodes at once as the shared runner queues calls (each has one call waiting
 * and may leave one from its previous episode): with more, the runner drops the oldest call (that frame decided by
 * rule), depending on when the event loop lets it drain, and the rows depended on --parallel.
 */
import assert from "node:assert/strict";
import { FakeModelRunner, makeInputSpec } from "../../../fusion/index.ts";
import { ACTION_CLASSES } from "../../../eval/score/open-loop.ts";
import { MODALITIES } from "../../../schemas/index.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { evalModelOf } from "../../../eval/run/decider.ts";
import { runClosedLoopSuite } from "../../../eval/run/closed-loop.ts";

describe("eval/run/closed-loop: episodes at once", function () {
  this.timeout(120_000);
  it("--parallel 4 gives the rows of one episode at a time, with a runner queueing 64 calls and one queueing 2", async () => {
    const specs = scenariosOf("test").slice(0, 4).map((s) => ({ ...s, durationS: 2 }));
    const rows = async (parallel: number, maxQueue: number) => {
      const runner = new FakeModelRunner(makeInputSpec([...MODALITIES]), () => ACTION_CLASSES.map((_, i) => (i === 1 ? 0.9 : 0.1 / 7)), { now: () => performance.now(), maxBatch: 1, maxQueue });
      try {
        const r = await runClosedLoopSuite(specs, evalModelOf(runner), { mask: [], parallel });
        return { rows: JSON.stringify(r.map((e) => e.row)), dropped: runner.stats().dropped };
      } finally {
        runner.close();
      }
    };
    const one = await rows(1, 64);
    assert.equal((await rows(4, 64)).rows, one.rows, "queue of 64");
    assert.equal((await rows(4, 2)).rows, one.rows, "queue of 2");
  });
});
