/**
 * decide: the injected decide(frame) takes 3 ms here (a cold "---(d|)"), frames come every 1-2 ms:
 * waiting frames are conflated to the newest, and each skipped frame is counted.
 */
import { strict as assert } from "node:assert";
import { map, of, type Observable } from "rxjs";
import type { FusedFrame } from "../../schemas/types.ts";
import { emptyPresence } from "../../schemas/types.ts";
import { decide, type DropEvent } from "../../pipeline/index.ts";
import { makeScheduler, MS } from "./helpers.ts";

const frame = (ms: number): FusedFrame => ({
  stampNs: BigInt(ms) * MS,
  seq: ms,
  slots: {},
  present: emptyPresence(),
  ageNs: {},
  lastInputReceiveNs: BigInt(ms) * MS,
  emittedNs: BigInt(ms) * MS,
});

describe("pipeline/decide (marbles)", () => {
  it("runs decide() one at a time, conflates waiting frames to the newest and counts the skipped", () => {
    const drops: DropEvent[] = [];
    const scheduler = makeScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const frames = hot("a-b-c-d-----|", { a: frame(0), b: frame(2), c: frame(4), d: frame(6) });
      const out = frames.pipe(
        decide((f) => cold("---(d|)", { d: `go@${f.seq}` }), { scheduler, onDrop: (d) => drops.push(d) }),
        map((d) => `${d.decision} ${d.latencyNs / MS}ms`),
      );
      // a is decided 0-3; b waits and is decided 3-6; c waits and d replaces it (c is skipped); d is decided 6-9.
      expectObservable(out).toBe("---x--y--z--|", { x: "go@0 3ms", y: "go@2 4ms", z: "go@6 3ms" });
    });
    assert.deepEqual(drops.map((d) => `${d.stage}:${d.reason}@${d.stampNs! / MS}`), ["decide:conflated@4"]);
  });

  it("accepts a plain value, a Promise or an Observable, and drops a frame whose decide() fails", async () => {
    const drops: DropEvent[] = [];
    const scheduler = makeScheduler();
    const results: string[] = [];
    const fn = (f: FusedFrame): string | Promise<string> | Observable<string> => {
      if (f.seq === 1) return Promise.resolve("promise");
      if (f.seq === 2) return of("observable", "ignored");
      if (f.seq === 3) throw new Error("model crashed");
      if (f.seq === 4) return Promise.reject(new Error("model rejected"));
      return "value";
    };
    await new Promise<void>((resolve, reject) =>
      of(frame(0), { ...frame(1), seq: 1 }, { ...frame(2), seq: 2 }, { ...frame(3), seq: 3 }, { ...frame(4), seq: 4 }, { ...frame(5), seq: 5 })
        .pipe(decide(fn, { scheduler, policy: "hold", capacity: 10, onDrop: (d) => drops.push(d) }))
        .subscribe({ next: (d) => results.push(d.decision), error: reject, complete: resolve }),
    );
    assert.deepEqual(results, ["value", "promise", "observable", "value"]);
    assert.deepEqual(drops.map((d) => d.reason), ["decide_error", "decide_error"]);
  });
});
