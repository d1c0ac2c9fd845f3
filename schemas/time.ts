/** Times are bigint nanoseconds everywhere (like MCAP); these convert to and from the wire forms. */

/** A google.protobuf.Timestamp as protobufjs decodes it (seconds may be a Long, a number or a string). */
export interface TimestampLike {
  seconds?: number | string | bigint | { toString(): string } | null;
  nanos?: number | null;
}

export const NS_PER_S = 1_000_000_000n;
export const NS_PER_MS = 1_000_000n;

/** Timestamp → ns. Missing fields count as zero. */
export function timestampToNs(ts: TimestampLike | null | undefined): bigint {
  if (!ts) return 0n;
  return secondsToBigInt(ts.seconds) * NS_PER_S + BigInt(ts.nanos ?? 0);
}

/**
 * int64 seconds in any of protobufjs' forms → bigint. On the per-message decode path: a Long is
 * composed from its halves (~10 ns) rather than through toString() and a parse (~800 ns).
 */
function secondsToBigInt(s: TimestampLike["seconds"]): bigint {
  if (s === undefined || s === null) return 0n;
  if (typeof s === "bigint") return s;
  if (typeof s === "number" && Number.isSafeInteger(s)) return BigInt(s);
  const long = s as { high?: unknown; low?: unknown; unsigned?: unknown };
  if (typeof long.high === "number" && typeof long.low === "number") {
    const high = long.unsigned ? long.high >>> 0 : long.high;
    return (BigInt(high) << 32n) | BigInt(long.low >>> 0);
  }
  return BigInt(s.toString());
}

/** ns → Timestamp with numeric seconds (exact for any date before the year 285,000). */
export function nsToTimestamp(ns: bigint): { seconds: number; nanos: number } {
  let seconds = ns / NS_PER_S;
  let nanos = ns % NS_PER_S;
  if (nanos < 0n) {
    nanos += NS_PER_S;
    seconds -= 1n;
  }
  return { seconds: Number(seconds), nanos: Number(nanos) };
}

export const nsToSeconds = (ns: bigint): number => Number(ns) / 1e9;
export const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));
export const nsToMs = (ns: bigint): number => Number(ns) / 1e6;
