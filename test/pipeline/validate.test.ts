import { strict as assert } from "node:assert";
import { validate, type ValidateOptions } from "../../pipeline/index.ts";
import { MessageValidator } from "../../pipeline/validate.ts";
import type { Rejection } from "../../schemas/errors.ts";
import { makeScheduler, msg, MS } from "./helpers.ts";

const ego = (ms: number, fields: Record<string, unknown> = {}) => msg("ego", BigInt(ms) * MS, { speed_mps: 10, yaw_rate_rps: 0, ...fields }, BigInt(ms) * MS);

describe("pipeline/validate (marbles)", () => {
  it("passes fit messages and rejects bad ones with a reason, without stopping", () => {
    const rejections: Rejection[] = [];
    const values = {
      a: ego(10),
      n: ego(20, { speed_mps: Number.NaN }), //        NaN where a number is required
      i: ego(30, { accel_mps2: Number.POSITIVE_INFINITY }),
      r: ego(40, { speed_mps: 1000 }), //               out of range
      m: ego(0), //                                     no stamp
      d: ego(10), //                                    same stamp as a: duplicate
      b: ego(5), //                                     before a: out of order
      s: { ...ego(50), receiveNs: 50n * MS + 120_000n * MS }, // stamp 2 min off the receive time
      c: ego(60),
      g: msg("gnss", 70n * MS, { latitude: Number.NaN, longitude: Number.NaN, altitude: Number.NaN }), // "no fix": valid
    };
    const options: ValidateOptions = { onReject: (r) => rejections.push(r) };
    makeScheduler().run(({ hot, expectObservable }) => {
      const src = hot("  anirmdbscg|", values);
      const expected = " a-------cg|";
      expectObservable(src.pipe(validate(options))).toBe(expected, values);
    });
    assert.deepEqual(
      rejections.map((r) => r.reason),
      ["invalid", "invalid", "invalid", "invalid", "duplicate", "out_of_order", "invalid"],
    );
    assert.match(rejections[0]!.detail, /speed_mps is not finite/);
    assert.match(rejections[2]!.detail, /speed_mps = 1000 outside/);
  });

  it("names a non-finite number deep in a message by its field path, and lets a NaN through only at a path allowed to be NaN", () => {
    const v = new MessageValidator({ nanAllowed: { gnss: ["latitude", "covariance[1]"] } });
    const points = [{ x: 1, y: [2, 3] }, { x: 4, y: [5, Number.NEGATIVE_INFINITY] }];
    assert.match(v.check(msg("radar", 10n * MS, { points }))?.detail ?? "", /^points\[1\]\.y\[1\] is not finite/);
    assert.equal(v.check(msg("gnss", 20n * MS, { latitude: Number.NaN, covariance: [0, Number.NaN] })), undefined);
    assert.match(v.check(msg("gnss", 30n * MS, { latitude: 1, covariance: [Number.NaN, 0] }))?.detail ?? "", /^covariance\[0\] is not finite/);
  });

  it("can accept out-of-order stamps (left to the aligner's lateness bound) but still rejects duplicates", () => {
    const rejections: Rejection[] = [];
    makeScheduler().run(({ hot, expectObservable }) => {
      const values = { a: ego(10), b: ego(5), d: ego(10) };
      expectObservable(hot("abd|", values).pipe(validate({ outOfOrder: "accept", onReject: (r) => rejections.push(r) }))).toBe("ab-|", values);
    });
    assert.deepEqual(rejections.map((r) => r.reason), ["duplicate"]);
  });

  it("rejects a stamp further ahead of its receive time than maxFutureNs as `future`, and it does not move the topic's mark", () => {
    const rejections: Rejection[] = [];
    const at = (stampMs: number, receiveMs: number) => msg("ego", BigInt(stampMs) * MS, { speed_mps: 10 }, BigInt(receiveMs) * MS);
    const values = {
      a: at(100, 102),
      f: at(20_150, 150), //  20 s ahead (the attack): future
      n: at(230, 200), //     30 ms ahead: a clock slightly ahead, accepted
      b: at(210, 250), //     real data after it: stamped below n's stamp but after n's receive time — not out of order
      c: at(300, 301),
    };
    makeScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot("afnbc|", values).pipe(validate({ maxFutureNs: 100n * MS, onReject: (r) => rejections.push(r) }))).toBe("a-nbc|", values);
    });
    assert.deepEqual(rejections.map((r) => r.reason), ["future"]);
    assert.match(rejections[0]!.detail, /20000\.0 ms ahead of its receive time \(limit 100\.0 ms\).*synchronise clocks/);
  });
});
