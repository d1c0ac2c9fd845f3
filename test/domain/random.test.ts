import assert from "node:assert/strict";
import { mulberry32, shuffledIndices } from "../../domain/random.ts";

describe("domain/random", () => {
  it("mulberry32 is seeded: the same seed gives the same sequence in [0, 1), another seed another", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 100 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 100 }, () => b()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, mulberry32(8)));
  });

  it("shuffledIndices is a permutation of 0..n-1, reproducible from the seed", () => {
    const p = shuffledIndices(50, mulberry32(3));
    assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i), "shuffled");
    assert.deepEqual(shuffledIndices(50, mulberry32(3)), p);
    assert.deepEqual(shuffledIndices(0, mulberry32(3)), []);
  });
});
