/**
 * The open loop's floor: the open loop with a model that costs nothing (a constant answer through the runner's
 * queue), CPU seconds per pass. The drives are written once to DIR (default .tmp/open-loop-floor) and reused, so
 * that two trees (e.g. a commit and its parent) can be compared on the same files, alternating processes.
 *   DRIVES=6 DRIVE_S=300 ROUNDS=3 nice -n 19 npx tsx bench/open-loop-floor.ts
 * (the issue #17 drives: seeds 7…, as bench/eval.bench.ts writes them). Pass 1 includes V8 compiling everything.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDatasetTo } from "../sim/dataset-writer.ts";
import { evalModelOf, unusedModalities } from "../eval/run/decider.ts";
import { runOpenLoop } from "../eval/run/open-loop.ts";
import { DEFAULT_FEATURE_CONFIG, FakeModelRunner, makeInputSpec } from "../fusion/index.ts";
import { McapRecorder, MemorySink } from "../replay/index.ts";
import { MODALITIES } from "../schemas/index.ts";

const drives = Math.max(1, Number(process.env["DRIVES"] ?? 2));
const driveS = Math.max(1, Number(process.env["DRIVE_S"] ?? 60));
const dir = process.env["DIR"] ?? ".tmp/open-loop-floor";
mkdirSync(dir, { recursive: true });
const files: string[] = [];
for (let i = 0; i < drives; i++) {
  const file = join(dir, `drive-${driveS}-${i}.mcap`);
  if (!existsSync(file)) {
    const sink = new MemorySink(file);
    const rec = await McapRecorder.create({ open: () => sink });
    await writeDatasetTo(rec, 7 + i, driveS, { vehicle: "sim", sensors: ["camera", "radar", "gnss", "ego", "voice"], cameraFormat: "jpeg", episodeS: 120 });
    writeFileSync(file, sink.bytes());
  }
  files.push(file);
}
// The bench's stand-in spec (no voice request), as bench/eval.bench.ts uses without models/default.
const spec = makeInputSpec([...MODALITIES], { ...DEFAULT_FEATURE_CONFIG, intent: false });
const free = evalModelOf(new FakeModelRunner(spec, () => [0, 1, 0, 0, 0, 0, 0, 0], { now: () => performance.now(), maxBatch: 32, maxQueue: 64, keep: false }));
for (let r = 0; r < Number(process.env["ROUNDS"] ?? 3); r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await runOpenLoop(files, free, { mask: unusedModalities(free.spec) });
  const c = process.cpuUsage(c0);
  console.log(`pass ${r + 1}: ${res.report.data.decisions} decisions, ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((c.user + c.system) / 1e6).toFixed(2)} CPU-s`);
}
free.close();
