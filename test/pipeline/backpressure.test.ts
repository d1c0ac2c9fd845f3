/**
 * boundedMap: `work` takes 3 frames per item (cold "---(x|)"), one in flight at a time; items that
 * arrive meanwhile wait under the stream's policy.
 */
import { strict as assert } from "node:assert";
import { map } from "rxjs";
import { boundedMap, type BufferPolicy, type DropEvent } from "../../pipeline/index.ts";
import { makeScheduler } from "./helpers.ts";

function run(policy: BufferPolicy, input: string, expected: string, capacity = 2): DropEvent[] {
  const drops: DropEvent[] = [];
  makeScheduler().run(({ hot, cold, expectObservable }) => {
    const out = hot<string>(input).pipe(
      boundedMap((v: string) => cold("---(x|)").pipe(map(() => v.toUpperCase())), {
        policy,
        capacity,
        keyOf: () => "camera",
        onDrop: (d) => drops.push(d),
      }),
    );
    const values = Object.fromEntries([..."abcdefgh"].map((c) => [c.toUpperCase(), c.toUpperCase()]));
    expectObservable(out).toBe(expected, values);
  });
  return drops;
}

describe("pipeline/backpressure (marbles)", () => {
  it("conflate: only the newest waiting item runs next; the replaced ones are counted", () => {
    //                        a runs 0-3; b, c wait (c replaces b); c runs 3-6; d, e wait (e replaces d); e runs 6-9
    const drops = run("conflate", "abc-de----|", "---A--C--E|");
    assert.deepEqual(drops.map((d) => `${d.topic}:${d.reason}`), ["camera:conflated", "camera:conflated"]);
  });

  it("drop_oldest: keeps the newest `capacity` waiting items", () => {
    //                          a runs; b, c wait; d pushes b out; c then d run
    const drops = run("drop_oldest", "abcd--------|", "---A--C--D--|");
    assert.deepEqual(drops.map((d) => d.reason), ["queue_overflow"]);
  });

  it("hold: keeps the first `capacity` waiting items and refuses newcomers", () => {
    const drops = run("hold", "abcd--------|", "---A--B--C--|");
    assert.deepEqual(drops.map((d) => d.reason), ["queue_overflow"]);
  });

  it("keeps a separate bounded queue per stream, served in arrival order", () => {
    const drops: DropEvent[] = [];
    makeScheduler().run(({ hot, cold, expectObservable }) => {
      const out = hot<string>("aXYb-------|").pipe(
        boundedMap((v: string) => cold("--(x|)").pipe(map(() => v)), {
          policy: (key) => (key === "radar" ? "conflate" : "hold"),
          capacity: 1,
          keyOf: (v) => (v === v.toUpperCase() ? "radar" : "camera"),
          onDrop: (d) => drops.push(d),
        }),
      );
      // a runs 0-2; X waits, Y replaces it (radar conflates), b waits (camera holds); Y then b run, in arrival order.
      expectObservable(out).toBe("--a-Y-b----|");
    });
    assert.deepEqual(drops.map((d) => `${d.topic}:${d.reason}`), ["radar:conflated"]);
  });
});
