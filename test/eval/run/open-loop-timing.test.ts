/**
 * Open loop decides from the recording's bytes alone: read whole from memory (every read a microtask) or slowly
 * (each read a timer away, so the event loop turns between reads), the same recording gives the same records.
 * It did not: open loop kept 32 decisions in flight, a runner holding 16 calls dropped the oldest, and how many
 * waited together depended on whether its drain (setImmediate) ran between reads — a dataset drive read from
 * memory lost 143 of 159 model calls, read from its file 31 (commit 67b4a68 reverted the whole-file read for it).
 */
import assert from "node:assert/strict";
import { FakeModelRunner, makeInputSpec } from "../../../fusion/index.ts";
import { ACTION_CLASSES } from "../../../eval/score/open-loop.ts";
import { MODALITIES } from "../../../schemas/index.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { evalModelOf } from "../../../eval/run/decider.ts";
import { decisionsAtOnce, runOpenLoop } from "../../../eval/run/open-loop.ts";
import { McapRecording, MemorySource, type ByteSource } from "../../../replay/index.ts";
import { recordDrive } from "../../bin/eval-helpers.ts";

/** Probabilities that follow every input value: other features, another answer. */
function inputDependent(inputs: Record<string, Float32Array>): number[] {
  let h = 0;
  for (const name of Object.keys(inputs).sort()) for (const v of inputs[name]!) h = (h * 31 + Math.round(v * 1e4)) % 1_000_003;
  return ACTION_CLASSES.map((_, i) => (i === h % ACTION_CLASSES.length ? 0.6 : 0.4 / (ACTION_CLASSES.length - 1)));
}

/** The bytes behind a source whose every read resolves only after a timer: the event loop turns between reads. */
function slowSource(data: Uint8Array, name: string): ByteSource {
  const mem = new MemorySource(data, name);
  const later = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));
  return {
    name,
    size: async () => (await later(), mem.size()),
    read: async (offset, size) => (await later(), mem.read(offset, size)),
    close: () => mem.close(),
  };
}

describe("eval/run/open-loop: decisions depend on the recording, not on the event loop", function () {
  this.timeout(180_000);
  let drive: Uint8Array;
  before(async () => (drive = await recordDrive(scenariosOf("test").slice(0, 3).map((s) => ({ ...s, durationS: 5 })), 5)));

  it("the same recording read from memory and read slowly gives the same records, with a runner holding fewer calls than the batch", async () => {
    const run = async (source: (bytes: Uint8Array, name: string) => ByteSource) => {
      // The default queue (16) is below the open loop's default batch (32).
      const runner = new FakeModelRunner(makeInputSpec([...MODALITIES]), inputDependent, { now: () => performance.now(), maxBatch: 8 });
      try {
        const r = await runOpenLoop(["drive.mcap"], evalModelOf(runner), { mask: [], open: (f) => McapRecording.open(source(drive, f)) });
        return { records: r.records.map(({ inferenceMs: _i, ...rest }) => rest), stats: runner.stats() };
      } finally {
        runner.close();
      }
    };
    const memory = await run((bytes, name) => new MemorySource(bytes, name));
    const slow = await run(slowSource);
    assert.ok(memory.records.length > 80, `records: ${memory.records.length}`);
    assert.equal(JSON.stringify(memory.records), JSON.stringify(slow.records), "records differ between the two reads");
    assert.deepEqual([memory.stats.dropped, slow.stats.dropped], [0, 0], "model calls dropped (memory, slow)");
    assert.equal(memory.records.filter((r) => r.override === "OVERRIDE_OTHER").length, 0);
  });

  it("decides at most as many frames at once as the runner holds calls", () => {
    assert.equal(decisionsAtOnce(undefined, { queueCapacity: 16 }), 16);
    assert.equal(decisionsAtOnce(32, { queueCapacity: 64 }), 32);
    assert.equal(decisionsAtOnce(7, {}), 7);
    assert.equal(decisionsAtOnce(undefined, {}), 32);
  });
});
