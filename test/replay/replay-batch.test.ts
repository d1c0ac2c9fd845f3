/**
 * `fusiond replay --batch B` (frames recorded): the golden recording's frames handed to the model B at a time
 * replay to byte-identical decisions, every field included (inference_ms is 0 unless --measured).
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runReplay } from "../../bin/commands/replay.ts";
import { GOLDEN_IGNORE, GOLDEN_RECORDING, GOLDEN_TOLERANCE } from "./golden.ts";
import { goldenModel } from "./live-session.ts";

describe("replay --batch: frames decided B at a time", function () {
  this.timeout(180_000);
  let work: string;
  let model: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "fusiond-replay-batch-"));
    model = await goldenModel(join(work, "model"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("the golden recording replays to the same bytes for B in {1, 7, 32}", async () => {
    const byBatch = new Map<string, string[]>();
    for (const batch of ["1", "7", "32"]) {
      const decisions: string[] = [];
      const report = await runReplay(GOLDEN_RECORDING, {
        model,
        backend: "wasm",
        batch,
        ignore: GOLDEN_IGNORE.join(","),
        tolerance: String(GOLDEN_TOLERANCE),
        quiet: true,
        onWarning: () => {},
        onDecision: (key, d) => decisions.push(`${key} ${JSON.stringify(d)}`),
      });
      assert.equal(report.frames, "recorded");
      assert.equal(report.comparison?.differing, 0);
      byBatch.set(batch, decisions);
    }
    const one = byBatch.get("1")!;
    assert.ok(one.length > 50, `decisions: ${one.length}`);
    for (const b of ["7", "32"]) assert.deepEqual(byBatch.get(b), one, `--batch ${b}`);
  });
});
