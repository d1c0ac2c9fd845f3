import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyRetention } from "../../replay/retention.ts";

describe("replay/retention", () => {
  const H = 3_600_000;
  const now = Date.parse("2026-12-07T12:00:00Z");
  function dirWith(files: Array<[name: string, bytes: number, ageH: number]>): string {
    const dir = mkdtempSync(join(tmpdir(), "fusiond-retention-"));
    for (const [name, bytes, ageH] of files) {
      const p = join(dir, name);
      writeFileSync(p, Buffer.alloc(bytes));
      const t = (now - ageH * H) / 1000;
      utimesSync(p, t, t);
    }
    return dir;
  }

  it("deletes recordings past the age limit, then the oldest until the total fits; never the open file or other files", () => {
    const dir = dirWith([
      ["a.mcap", 100, 200], // too old
      ["b.mcap", 300, 50],
      ["c.mcap", 300, 20],
      ["d.mcap", 300, 1], // open (keep)
      ["notes.txt", 10_000, 500], // not a recording
    ]);
    const res = applyRetention(dir, { maxAgeMs: 168 * H, maxTotalBytes: 650 }, now, new Set([join(dir, "d.mcap")]));
    assert.deepEqual(res.deleted.map((d) => [d.path.slice(dir.length + 1), d.why]), [["a.mcap", "age"], ["b.mcap", "size"]]);
    assert.deepEqual(readdirSync(dir).sort(), ["c.mcap", "d.mcap", "notes.txt"]);
    assert.equal(res.totalBytes, 600);
    assert.equal(res.kept, 2);
  });

  it("keeps the open file even when it alone is over the limit", () => {
    const dir = dirWith([["big.mcap", 1000, 0]]);
    const res = applyRetention(dir, { maxTotalBytes: 10 }, now, new Set([join(dir, "big.mcap")]));
    assert.deepEqual(res.deleted, []);
    assert.deepEqual(readdirSync(dir), ["big.mcap"]);
  });
});
