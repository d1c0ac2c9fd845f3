/**
 * approximateTime against the scenarios of ros2/message_filters test/test_approximate_time_policy.cpp.
 *
 * Each input is drawn twice: `stamps` places every letter at the column of its event stamp (one
 * column = 1 ns), and the marble (defaults to the same picture) says when it arrives (one frame per
 * column). They differ only where upstream feeds a message after later-stamped ones. Upstream
 * checks only which sets come out; the marbles also say when (at the arrival that completes them).
 */
import { strict as assert } from "node:assert";
import { TestScheduler } from "rxjs/testing";
import type { Observable } from "rxjs";
import { approximateTime, approximateTimeWithDrops, type ApproximateTimeOptions } from "./approximate-time.ts";

interface Msg {
  id: string;
  t: bigint;
}
const stamp = (m: Msg): bigint => m.t;

interface Line {
  /** Letters at the column of their stamp. */
  stamps: string;
  /** Arrival marble; defaults to `stamps`. */
  arrive?: string;
}

function makeScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepStrictEqual(actual, expected));
}

/** Builds the hot inputs and a letter → message table. */
function inputs(hot: TestScheduler["createHotObservable"], lines: Line[]): { obs: Observable<Msg>[]; m: Record<string, Msg> } {
  const m: Record<string, Msg> = {};
  const obs = lines.map((line) => {
    const values: Record<string, Msg> = {};
    [...line.stamps].forEach((ch, col) => {
      if (ch !== "." && ch !== "-") values[ch] = m[ch] = { id: ch, t: BigInt(col) };
    });
    return hot<Msg>((line.arrive ?? line.stamps).replaceAll(".", "-"), values);
  });
  return { obs, m };
}

/** Runs a scenario: `expected` is the output marble, `sets` its values as strings of letters. */
function scenario(
  lines: Line[],
  options: Omit<ApproximateTimeOptions<Msg>, "stamp">,
  expected: string,
  sets: Record<string, string>,
): void {
  makeScheduler().run(({ hot, expectObservable }) => {
    const { obs, m } = inputs(hot as TestScheduler["createHotObservable"], lines);
    const values = Object.fromEntries(Object.entries(sets).map(([k, ids]) => [k, [...ids].map((id) => m[id]!)]));
    expectObservable(approximateTime(obs, { ...options, stamp })).toBe(expected.replaceAll(".", "-"), values);
  });
}

describe("test/pipeline/approximate-time (upstream scenarios)", () => {
  it("ExactMatch: equal stamps pair up at once", () => {
    scenario(
      [{ stamps: "a..b..c" }, { stamps: "A..B..C" }],
      { queueSize: 10 },
      "w..x..y",
      { w: "aA", x: "bB", y: "cC" },
    );
  });

  it("PerfectMatch: a set is published when the next message proves it optimal", () => {
    scenario(
      [{ stamps: "a..b..c." }, { stamps: ".A..B..C" }],
      { queueSize: 10 },
      "...w..x.",
      { w: "aA", x: "bB" },
    );
  });

  it("ImperfectMatch: x is skipped, c pairs with B", () => {
    scenario(
      [{ stamps: "a.xb..c." }, { stamps: ".A...B.C" }],
      { queueSize: 10 },
      "..w...x.",
      { w: "aA", x: "cB" },
    );
  });

  it("Acceleration: a is too early for A; b takes A", () => {
    scenario(
      [{ stamps: "a...........b....c." }, { stamps: ".......A.......B..C" }],
      { queueSize: 10 },
      "............w.....x",
      { w: "bA", x: "cC" },
    );
  });

  it("DroppedMessages, queue size 1 (too small): a/A and c/C are lost", () => {
    scenario(
      [{ stamps: "a...b...c.d..e." }, { stamps: ".A.B...C...D..E" }],
      { queueSize: 1 },
      ".......w.....x.",
      { w: "bB", x: "dD" },
    );
  });

  it("DroppedMessages, queue size 2 (just enough): every pair comes out", () => {
    scenario(
      [{ stamps: "a...b...c.d..e." }, { stamps: ".A.B...C...D..E" }],
      { queueSize: 2 },
      "....w..x...y.z.",
      { w: "aA", x: "bB", y: "cC", z: "dD" },
    );
  });

  it("LongQueue: j (stamp 3) arrives after i (stamp 8) and is lost; l pairs with o", () => {
    scenario(
      [
        { stamps: "abcdefghiklmnp." },
        // j is stamped 3 but arrives with i; o is stamped 10 but arrives with n.
        { stamps: "...j......o....", arrive: "........j...o.." },
      ],
      { queueSize: 5 },
      "............w..",
      { w: "lo" },
    );
  });

  it("DoublePublish: b completes two sets at once", () => {
    scenario(
      // upstream adds B then b, both stamped 3: b arrives one frame after B here.
      [{ stamps: "a..b", arrive: "a...b" }, { stamps: ".A.B" }],
      { queueSize: 10 },
      "....(wx)",
      { w: "aA", x: "bB" },
    );
  });

  it("FourTopics", () => {
    scenario(
      [
        // m is stamped 10 but arrives after l (stamp 11).
        { stamps: "a....e..i.m..n.", arrive: "a....e..i...m.n" },
        { stamps: ".b....g..j....o" },
        { stamps: "..c...h...k...." },
        { stamps: "...d.f.....l..." },
      ],
      { queueSize: 10 },
      "......w.x.....y",
      { w: "abcd", x: "eghf", y: "mjkl" },
    );
  });

  it("EarlyPublish: e alone proves the first set optimal", () => {
    scenario(
      [{ stamps: "a......e" }, { stamps: ".b......" }, { stamps: "..c....." }, { stamps: "...d...." }],
      { queueSize: 10 },
      ".......w",
      { w: "abcd" },
    );
  });

  // Upstream steps 1 s with bounds of 1.5 s and 2 s; here every column is stretched to 10 (one
  // column = 1 ns), so A, B, C arrive at frames 10, 40, 70 and the bounds are 15 ns and 20 ns.
  const stretched: Line[] = [{ stamps: "a..b..c." }, { stamps: ".A..B..C" }].map((l) => ({
    stamps: [...l.stamps].map((c) => c + ".........").join(""),
  }));
  const at = (...marks: Array<[number, string]>): string => {
    let s = "";
    for (const [frame, ch] of marks) s += ".".repeat(frame - s.length) + ch;
    return s;
  };

  // (Upstream's pictures draw the sets under A and B; its test checks only which sets come out.)
  it("RateBound 1.5: a/A and b/B come out, each on the next a-input; c/C cannot be proven yet", () => {
    scenario(stretched, { queueSize: 10, lowerBoundsNs: [15n] }, at([30, "w"], [60, "x"]), { w: "aA", x: "bB" });
  });

  it("RateBound 2: with the bound equal to A's period, every set is published on its B", () => {
    scenario(stretched, { queueSize: 10, lowerBoundsNs: [20n] }, at([10, "w"], [40, "x"], [70, "y"]), { w: "aA", x: "bB", y: "cC" });
  });
});

describe("test/pipeline/approximate-time (drops and limits)", () => {
  it("reports the messages a better set supersedes, as they go", () => {
    makeScheduler().run(({ hot, expectObservable }) => {
      const { obs, m } = inputs(hot as TestScheduler["createHotObservable"], [{ stamps: "a.xb..c." }, { stamps: ".A...B.C" }]);
      const { sets$, drops$, counts } = approximateTimeWithDrops(obs, { queueSize: 10, stamp });
      // After a/A: x/A is a candidate until B arrives (b/B is better: x goes), and b/B until c
      // arrives (c/B is better: b goes).
      expectObservable(drops$.pipe()).toBe("-----xy", {
        x: { input: 0, stampNs: 2n, reason: "superseded", message: m["x"]! },
        y: { input: 0, stampNs: 3n, reason: "superseded", message: m["b"]! },
      });
      expectObservable(sets$).toBe("--w---z-", { w: [m["a"]!, m["A"]!], z: [m["c"]!, m["B"]!] });
      return () => assert.deepEqual(counts().superseded, [2, 0]);
    });
  });

  it("drops the start of a set wider than maxIntervalNs", () => {
    // a and B are 6 ns apart: too wide for 3 ns, so a goes; b and B match exactly.
    scenario(
      [{ stamps: "a.....b" }, { stamps: "......B" }],
      { queueSize: 10, maxIntervalNs: 3n },
      "......w",
      { w: "bB" },
    );
    const dropped: string[] = [];
    makeScheduler().run(({ hot, flush }) => {
      const { obs } = inputs(hot as TestScheduler["createHotObservable"], [{ stamps: "a.....b" }, { stamps: "......B" }]);
      approximateTime(obs, { queueSize: 10, maxIntervalNs: 3n, stamp, onDrop: (d) => dropped.push(`${d.message.id}:${d.reason}`) }).subscribe();
      flush();
    });
    assert.deepEqual(dropped, ["a:max_interval"]);
  });

  it("drops the oldest on overflow and counts it per input", () => {
    makeScheduler().run(({ hot, expectObservable }) => {
      const { obs } = inputs(hot as TestScheduler["createHotObservable"], [{ stamps: "abcd" }, { stamps: "...." }]);
      const { sets$, drops$, counts } = approximateTimeWithDrops(obs, { queueSize: 2, stamp });
      expectObservable(drops$.pipe()).toBe("--xy", {
        x: { input: 0, stampNs: 0n, reason: "queue_overflow", message: { id: "a", t: 0n } },
        y: { input: 0, stampNs: 1n, reason: "queue_overflow", message: { id: "b", t: 1n } },
      });
      expectObservable(sets$).toBe("----");
      return () => assert.deepEqual(counts().queue_overflow, [2, 0]);
    });
  });

  it("completes when every input completes and errors when one errors", () => {
    makeScheduler().run(({ cold, expectObservable }) => {
      const a = cold<Msg>("a-|", { a: { id: "a", t: 0n } });
      const b = cold<Msg>("A---|", { A: { id: "A", t: 0n } });
      expectObservable(approximateTime([a, b], { queueSize: 2, stamp })).toBe("w---|", { w: [{ id: "a", t: 0n }, { id: "A", t: 0n }] });
      const e = cold<Msg>("--#", {}, new Error("boom"));
      expectObservable(approximateTime([a, e], { queueSize: 2, stamp })).toBe("--#", {}, new Error("boom"));
    });
  });

  it("routes an exception thrown by stamp() into the error channel", () => {
    makeScheduler().run(({ cold, expectObservable }) => {
      const bad = (): bigint => {
        throw new Error("no stamp");
      };
      expectObservable(approximateTime([cold("a"), cold("b")], { queueSize: 2, stamp: bad })).toBe("#", {}, new Error("no stamp"));
    });
  });

  it("rejects bad options as an error of the stream", () => {
    let error: unknown;
    approximateTime([], { queueSize: 2, stamp }).subscribe({ error: (e: unknown) => (error = e) });
    assert.match(String(error), /at least 2 inputs/);
  });
});
