/**
 * Properties of approximateTime over thousands of generated inputs: no reuse, no crossing,
 * determinism across arrival interleavings, conservation (published + dropped + held = added) and
 * bounded memory under any input (out of order, duplicates, gaps, bursts).
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { ApproximateTimePolicy, type ApproxDrop } from "./approximate-time.ts";

interface Msg {
  input: number;
  seq: number;
  t: bigint;
}
const stamp = (m: Msg): bigint => m.t;

interface Run {
  sets: Msg[][];
  drops: ApproxDrop<Msg>[];
  maxHeld: number;
  held: number;
}

function runPolicy(n: number, arrivals: Msg[], options: { queueSize: number; maxIntervalNs?: bigint; agePenalty?: number; lowerBoundsNs?: bigint[] }): Run {
  const sets: Msg[][] = [];
  const drops: ApproxDrop<Msg>[] = [];
  const policy = new ApproximateTimePolicy<Msg>(n, { ...options, stamp }, (s) => sets.push(s), (d) => drops.push(d));
  let maxHeld = 0;
  for (const m of arrivals) {
    policy.add(m.input, m);
    maxHeld = Math.max(maxHeld, policy.held);
  }
  return { sets, drops, maxHeld, held: policy.held };
}

/** Per input, strictly increasing stamps with gaps of 1..gapMax (gaps up to 50× the usual period). */
const streams = (n: number, maxLen: number): fc.Arbitrary<bigint[][]> =>
  fc.array(
    fc.array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 21, max: 1000 }) }), {
      minLength: 0,
      maxLength: maxLen,
    }),
    { minLength: n, maxLength: n },
  ).map((gapsPerInput) =>
    gapsPerInput.map((gaps) => {
      let t = 0n;
      return gaps.map((g) => (t += BigInt(g)));
    }),
  );

/** An arrival order: a random merge of the inputs that keeps each input's own order. */
function interleave(stampsPerInput: bigint[][], picks: number[]): Msg[] {
  const idx = stampsPerInput.map(() => 0);
  const out: Msg[] = [];
  let k = 0;
  for (;;) {
    const open = stampsPerInput.map((s, i) => (idx[i]! < s.length ? i : -1)).filter((i) => i >= 0);
    if (!open.length) return out;
    const i = open[(picks[k++ % Math.max(1, picks.length)] ?? 0) % open.length]!;
    out.push({ input: i, seq: idx[i]!, t: stampsPerInput[i]![idx[i]!]! });
    idx[i]!++;
  }
}

const key = (m: Msg): string => `${m.input}:${m.seq}`;

function checkNoReuseNoCrossing(n: number, run: Run): void {
  const used = new Set<string>();
  for (const set of run.sets) {
    assert.equal(set.length, n);
    set.forEach((m, i) => {
      assert.equal(m.input, i, "message of input i at index i");
      assert.ok(!used.has(key(m)), `message ${key(m)} used twice`);
      used.add(key(m));
    });
  }
  for (const d of run.drops) assert.ok(!used.has(key(d.message)), `message ${key(d.message)} both published and dropped`);
  for (let k = 1; k < run.sets.length; k++) {
    for (let i = 0; i < n; i++) {
      assert.ok(run.sets[k]![i]!.seq > run.sets[k - 1]![i]!.seq, `sets ${k - 1} and ${k} cross on input ${i}`);
    }
  }
}

describe("test/pipeline/approximate-time (properties)", () => {
  it("never reuses a message, never crosses sets, and accounts for every message", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            stamps: streams(n, 25),
            picks: fc.array(fc.nat(), { maxLength: 200 }),
            queueSize: fc.integer({ min: 1, max: 8 }),
            maxIntervalNs: fc.option(fc.bigInt({ min: 0n, max: 30n }), { nil: undefined }),
            agePenalty: fc.constantFrom(0, 0.1, 0.5, 2),
          }),
        ),
        ({ n, stamps, picks, queueSize, maxIntervalNs, agePenalty }) => {
          const arrivals = interleave(stamps, picks);
          const run = runPolicy(n, arrivals, { queueSize, agePenalty, ...(maxIntervalNs === undefined ? {} : { maxIntervalNs }) });
          checkNoReuseNoCrossing(n, run);
          assert.equal(run.sets.length * n + run.drops.length + run.held, arrivals.length, "published + dropped + held = added");
          if (maxIntervalNs !== undefined) {
            for (const s of run.sets) {
              const ts = s.map((m) => m.t);
              const span = ts.reduce((a, b) => (a > b ? a : b)) - ts.reduce((a, b) => (a < b ? a : b));
              assert.ok(span <= maxIntervalNs, `span ${span} > max interval ${maxIntervalNs}`);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  // A set is published once a later arrival proves it optimal, so two interleavings of the same
  // messages may differ in what is still pending at the end: one output is then a prefix of the
  // other. Closing every input with the same far-future messages settles the rest, and then the
  // outputs are equal.
  it("gives the same sets whatever the arrival interleaving (queue large enough)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            stamps: streams(n, 20),
            picksA: fc.array(fc.nat(), { maxLength: 120 }),
            picksB: fc.array(fc.nat(), { maxLength: 120 }),
            agePenalty: fc.constantFrom(0, 0.1, 1),
            bounds: fc.boolean(),
          }),
        ),
        ({ n, stamps, picksA, picksB, agePenalty, bounds }) => {
          // A lower bound that is true of the data (the least gap of each input).
          const leastGap = (s: bigint[]): bigint =>
            s.slice(1).reduce<bigint | undefined>((min, t, i) => (min === undefined || t - s[i]! < min ? t - s[i]! : min), undefined) ?? 0n;
          const lowerBoundsNs = bounds ? stamps.map(leastGap) : undefined;
          const options = { queueSize: 100, agePenalty, ...(lowerBoundsNs ? { lowerBoundsNs } : {}) };
          const ids = (r: Run): string[] => r.sets.map((s) => s.map(key).join(","));
          const a = ids(runPolicy(n, interleave(stamps, picksA), options));
          const b = ids(runPolicy(n, interleave(stamps, picksB), options));
          const [short, long] = a.length <= b.length ? [a, b] : [b, a];
          assert.deepEqual(short, long.slice(0, short.length), "one output is a prefix of the other");

          const end = 1n << 20n;
          const closing: Msg[] = [];
          for (let k = 0; k < 3; k++) for (let i = 0; i < n; i++) closing.push({ input: i, seq: 1000 + k, t: end + BigInt(k) * end });
          const a2 = ids(runPolicy(n, [...interleave(stamps, picksA), ...closing], options));
          const b2 = ids(runPolicy(n, [...interleave(stamps, picksB), ...closing], options));
          assert.deepEqual(a2, b2);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("holds at most n × (queueSize + 1) messages under any input: out of order, duplicates, bursts", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            queueSize: fc.integer({ min: 1, max: 6 }),
            arrivals: fc.array(fc.record({ input: fc.nat({ max: n - 1 }), t: fc.bigInt({ min: 0n, max: 50n }) }), { maxLength: 300 }),
          }),
        ),
        ({ n, queueSize, arrivals }) => {
          const msgs = arrivals.map((a, seq) => ({ ...a, seq }));
          const run = runPolicy(n, msgs, { queueSize });
          assert.ok(run.maxHeld <= n * (queueSize + 1), `held ${run.maxHeld} > ${n * (queueSize + 1)}`);
          assert.equal(run.sets.length * n + run.drops.length + run.held, msgs.length);
          const used = new Set<number>();
          for (const s of run.sets) for (const m of s) assert.ok(!used.has(m.seq) && used.add(m.seq));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
