import { strict as assert } from "node:assert";
import fc from "fast-check";
import protobuf from "protobufjs";
import { NS_PER_S, nsToTimestamp, timestampToNs } from "../../schemas/index.ts";

describe("schemas/time", () => {
  // protobufjs' Long class (the "long" package), typed here only as far as the test uses it.
  const Long = protobuf.util.Long as unknown as { fromString(s: string, unsigned?: boolean): { high: number; low: number; unsigned: boolean } };

  it("reads int64 seconds in every form protobufjs gives: Long (signed, unsigned), number, string, bigint", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: 0, max: 999_999_999 }), (seconds, nanos) => {
        const expected = seconds * NS_PER_S + BigInt(nanos);
        assert.equal(timestampToNs({ seconds: Long.fromString(seconds.toString()), nanos }), expected);
        assert.equal(timestampToNs({ seconds: seconds.toString(), nanos }), expected);
        assert.equal(timestampToNs({ seconds, nanos }), expected);
        if (seconds >= 0n) assert.equal(timestampToNs({ seconds: Long.fromString(seconds.toString(), true), nanos }), expected);
        if (Number.isSafeInteger(Number(seconds))) assert.equal(timestampToNs({ seconds: Number(seconds), nanos }), expected);
      }),
    );
    const big = 2n ** 64n - 1n; // uint64 max: the high half is negative as an int32
    assert.equal(timestampToNs({ seconds: Long.fromString(big.toString(), true), nanos: 0 }), big * NS_PER_S);
  });

  it("round-trips ns through a Timestamp, also before the epoch", () => {
    for (const ns of [0n, 1n, -1n, 1_700_000_000_123_456_789n, -1_500_000_000n]) assert.equal(timestampToNs(nsToTimestamp(ns)), ns);
    assert.equal(timestampToNs(null), 0n);
    assert.equal(timestampToNs({}), 0n);
  });
});
