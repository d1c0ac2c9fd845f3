/**
 * Open loop with B frames decided at once (the model runs them as one batch) scores exactly what it scores
 * one frame at a time: every record — prediction, probabilities, overrides, sensors — is the same.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSource, McapRecording } from "../../../replay/index.ts";
import { FakeModelRunner, makeInputSpec } from "../../../fusion/index.ts";
import { ACTION_CLASSES } from "../../../eval/score/open-loop.ts";
import { MODALITIES } from "../../../schemas/index.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { evalModelOf } from "../../../eval/run/decider.ts";
import { memoryOpener, runOpenLoop } from "../../../eval/run/open-loop.ts";
import { recordDrive } from "../../bin/eval-helpers.ts";

/** Probabilities that follow every input value: other features, another answer. */
function inputDependent(inputs: Record<string, Float32Array>): number[] {
  let h = 0;
  for (const name of Object.keys(inputs).sort()) for (const v of inputs[name]!) h = (h * 31 + Math.round(v * 1e4)) % 1_000_003;
  return ACTION_CLASSES.map((_, i) => (i === h % ACTION_CLASSES.length ? 0.6 : 0.4 / (ACTION_CLASSES.length - 1)));
}

describe("eval/run/open-loop: batched frames", function () {
  this.timeout(180_000);
  let drive: Uint8Array;
  // The state batching could mix up (TTC confirmation, voice) is exercised frame by frame in
  // test/fusion/policy/engine-batch.test.ts; this checks the open loop's plumbing end to end.
  before(async () => (drive = await recordDrive(scenariosOf("test").slice(0, 3).map((s) => ({ ...s, durationS: 5 })), 5)));

  it("B frames at once give the records of one frame at a time, for B in {1, 7, 32}", async () => {
    const runs = new Map<number, { records: string; batches: number; largest: number; decisions: number}>();
    for (const b of [1, 7, 32]) {
      const runner = new FakeModelRunner(makeInputSpec([...MODALITIES]), inputDependent, { now: () => performance.now(), maxBatch: b, maxQueue: 2 * b });
      const r = await runOpenLoop(["drive.mcap"], evalModelOf(runner), { mask: [], batch: b, open: memoryOpener({ "drive.mcap": drive }) });
      const s = runner.stats();
      runs.set(b, { records: JSON.stringify(r.records.map(({ inferenceMs: _i, ...rest }) => rest)), batches: s.batches, largest: s.largestBatch, decisions: r.report.data.decisions });
      runner.close();
    }
    const one = runs.get(1)!;
    assert.ok(one.decisions > 80, `decisions: ${one.decisions}`);
    assert.equal(one.largest, 1);
    for (const b of [7, 32]) {
      const run = runs.get(b)!;
      assert.equal(run.records, one.records, `B=${b}: records differ from B=1`);
      assert.ok(run.largest > 1 && run.largest <= b, `B=${b}: largest batch ${run.largest}`);
      assert.ok(run.batches < one.batches / 2, `B=${b}: ${run.batches} model calls for ${run.decisions} decisions`);
    }
    console.log(`      model calls: ${[...runs].map(([b, r]) => `B=${b}: ${r.batches} (largest ${r.largest})`).join(", ")} for ${one.decisions} decisions`);
  });

  it("a recording file read whole into memory (the open loop's way) gives the records of the same file read piecewise", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fusiond-open-loop-"));
    try {
      const file = join(dir, "drive.mcap");
      writeFileSync(file, drive);
      const records = async (open?: (f: string) => Promise<McapRecording>): Promise<{ records: string; batches: number }> => {
        const runner = new FakeModelRunner(makeInputSpec([...MODALITIES]), inputDependent, { now: () => performance.now(), maxBatch: 32, maxQueue: 64 });
        const r = await runOpenLoop([file], evalModelOf(runner), { mask: [], ...(open ? { open } : {}) });
        runner.close();
        return { records: JSON.stringify(r.records.map(({ inferenceMs: _i, ...rest }) => rest)), batches: runner.stats().batches };
      };
      const whole = await records();
      const piecewise = await records(async (f) => McapRecording.open(await fileSource(f)));
      assert.ok(whole.records.length > 1000);
      assert.equal(whole.records, piecewise.records);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
