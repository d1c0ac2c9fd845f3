import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseRotate } from "../../replay/rotate.ts";
import { syntheticDrive } from "./synthetic.ts";
import { recordToMemory } from "./helpers.ts";

const FUSIOND = fileURLToPath(new URL("../../bin/fusiond.js", import.meta.url));

describe("replay CLI (info, record options)", function () {
  this.timeout(60_000);

  it("parses --rotate sizes and durations", () => {
    assert.deepEqual(parseRotate("500MB"), { maxBytes: 500 * 1024 * 1024 });
    assert.deepEqual(parseRotate("2gb"), { maxBytes: 2 * 1024 ** 3 });
    assert.deepEqual(parseRotate("90s"), { maxDurationNs: 90_000_000_000n });
    assert.deepEqual(parseRotate("10m"), { maxDurationNs: 600_000_000_000n });
    assert.deepEqual(parseRotate("1h"), { maxDurationNs: 3_600_000_000_000n });
    assert.throws(() => parseRotate("soon"), /--rotate takes a size \(500MB, 2GB\) or a duration/);
  });

  it("fusiond info on a cut file prints what it read, then the problem with file and offset, and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fusiond-info-"));
    try {
      const bytes = await recordToMemory(syntheticDrive({ durationS: 3 }));
      const file = join(dir, "cut.mcap");
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
      const res = spawnSync(process.execPath, [FUSIOND, "info", file, "--json"], { encoding: "utf8" });
      assert.equal(res.status, 1);
      const info = JSON.parse(res.stdout) as { mode: string; messages: number; problems: { code: string; offset: number }[] };
      assert.equal(info.mode, "scanned");
      assert.ok(info.messages > 0);
      assert.equal(info.problems[0]!.code, "mcap_truncated");
      assert.equal(res.stderr, `fusiond info: ${file}: ${(info.problems[0] as unknown as { detail: string }).detail} at byte offset ${info.problems[0]!.offset} (try: fusiond recover ${file} --out FIXED.mcap)\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
