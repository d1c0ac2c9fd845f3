import { strict as assert } from "node:assert";
import { pacedByReceiveTime, virtualTimeAt } from "./paced-source.ts";
import { makeScheduler, msg, MS } from "./helpers.ts";

describe("pipeline/paced-source (marbles)", () => {
  it("delivers each message when the clock has moved by its receive stamp's distance from the first; a burst stays a burst", () => {
    const a = msg("ego", 1000n * MS, {}, 1000n * MS);
    const b = msg("ego", 1001n * MS, {}, 1002n * MS);
    const c = msg("radar", 1000n * MS, {}, 1002n * MS); // received with b
    const d = msg("ego", 1007n * MS, {}, 1008n * MS);
    const scheduler = makeScheduler();
    scheduler.run(({ expectObservable }) => {
      expectObservable(pacedByReceiveTime([a, b, c, d], scheduler)).toBe("a 1ms (bc) 2ms (d|)", { a, b, c, d });
    });
    const twice = makeScheduler();
    twice.run(({ expectObservable }) => {
      expectObservable(pacedByReceiveTime([a, b, c, d], twice, { speed: 0.5 })).toBe("a 3ms (bc) 8ms (d|)", { a, b, c, d });
    });
  });

  it("on a virtual clock started at the first receive stamp, delivers at the recorded instants", () => {
    const msgs = [msg("ego", 5_000n * MS, {}, 5_000n * MS), msg("ego", 5_020n * MS, {}, 5_021n * MS)];
    const scheduler = virtualTimeAt(msgs[0]!.receiveNs);
    const at: bigint[] = [];
    pacedByReceiveTime(msgs, scheduler).subscribe(() => at.push(BigInt(Math.round(scheduler.now() * 1e6))));
    scheduler.flush();
    assert.deepEqual(at, [5_000n * MS, 5_021n * MS]);
  });
});
