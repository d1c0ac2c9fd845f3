/**
 * `fusiond replay --frames recorded` on the committed live recording: a range starts warm (inputs from
 * before --start are found), a frame whose inputs are not in what is read is reported and not guessed,
 * the old mode stays available, and a bad mode is a clear error.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runReplay, type ReplayOpts } from "../../eval/run/replay.ts";
import { fileSource, hasRecordedInputs, McapRecording } from "../../replay/index.ts";
import { GOLDEN_IGNORE, GOLDEN_RECORDING } from "./golden.ts";
import { goldenModel } from "./live-session.ts";

describe("fusiond replay --frames recorded", function () {
  this.timeout(120_000);
  let work: string;
  let model: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "fusiond-replay-recorded-"));
    model = await goldenModel(join(work, "model"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));
  const opts = (extra: Partial<ReplayOpts> = {}): ReplayOpts => ({ model, backend: "wasm", ignore: GOLDEN_IGNORE.join(","), tolerance: "1e-5", quiet: true, ...extra });

  it("is chosen when the recording's decisions list their inputs", async () => {
    const rec = await McapRecording.open(await fileSource(GOLDEN_RECORDING));
    try {
      assert.equal(await hasRecordedInputs(rec), true);
    } finally {
      await rec.close();
    }
  });

  it("starts warm in a range: the first frames after --start find their inputs from before it", async () => {
    // seq counts the decisions of a run: a replay that starts later counts from 0 again.
    const r = await runReplay(GOLDEN_RECORDING, opts({ start: "1.5", end: "3", ignore: [...GOLDEN_IGNORE, "seq"].join(",") }));
    const c = r.comparison!;
    assert.equal(r.frames, "recorded");
    assert.ok(c.live > 10, `${c.live} live decisions in range`);
    assert.deepEqual([c.identical, c.missingInReplay, c.extraInReplay, r.recordedFrames?.missingInputs], [c.live, 0, 0, 0], JSON.stringify(c.diffs.slice(0, 3)));
  });

  it("reports frames whose inputs were not read (here: radar left out) and does not guess them", async () => {
    const r = await runReplay(GOLDEN_RECORDING, opts({ ignore: [...GOLDEN_IGNORE, "seq"].join(","), topics: ["vehicles/+/sensors/camera/#", "vehicles/+/sensors/gnss/#", "vehicles/+/sensors/voice/#", "vehicles/+/ego"] }));
    const c = r.comparison!;
    const missing = r.recordedFrames!.missingInputs;
    assert.ok(missing > 0, "the drive has radar in its frames");
    assert.equal(r.recordedFrames!.decided + missing, c.live);
    assert.deepEqual([c.missingInReplay, c.extraInReplay, c.identical], [missing, 0, c.live - missing]);
  });

  it("--frames aligner runs the pipeline again on the virtual clock (the mode for recordings without inputs)", async () => {
    const r = await runReplay(GOLDEN_RECORDING, opts({ frames: "aligner" }));
    assert.equal(r.frames, "aligner");
    assert.equal(r.recordedFrames, undefined);
    assert.ok(r.decisions > 0 && r.comparison!.matched > 0);
    await assert.rejects(runReplay(GOLDEN_RECORDING, opts({ frames: "sometimes" })), { code: "bad_option", message: /--frames must be recorded, aligner or auto/ });
  });
});
