/**
 * `npm run bench -- eval`: how fast `fusiond eval` runs.
 *  - open loop: recorded seconds scored per wall second (a 60 s simulator drive through the pipeline and the
 *    model), beside reading and decoding the same recording alone; and the time a 10-minute drive would take.
 *  - closed loop: simulated seconds per wall second in process, beside the simulator alone (expert driving).
 * Each on every backend of FUSIOND_BENCH_BACKENDS (default wasm,onnx) in the same run, and each backend's wall
 * time beside wasm's (#17: onnx ≥ 2× faster open loop, ≥ 1.5× closed loop).
 * Model: models/default when it exists, else an untrained intermediate model of the same input spec (say which).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FEATURE_CONFIG, FakeModelRunner, loadModelDir, makeInputSpec, renderCard, saveModelDir, strategyByName } from "../fusion/index.ts";
import { McapRecording, MemorySink, MemorySource, McapRecorder, decodeRecording } from "../replay/index.ts";
import { MessageDecoder, MODALITIES } from "../schemas/index.ts";
import { datasetMessages } from "../sim/dataset.ts";
import { expertEpisode } from "../sim/episode.ts";
import { scenariosOf } from "../sim/scenarios.ts";
import { runClosedLoopSuite } from "../eval/run/closed-loop.ts";
import { evalModelOf, loadEvalModel, unusedModalities } from "../eval/run/decider.ts";
import { runOpenLoop } from "../eval/run/open-loop.ts";
import type { BenchRow, BenchSuite } from "./harness.ts";
import type { BackendChoice } from "../fusion/index.ts";

const DRIVE_S = 60;
const CLOSED_S = 20;

async function modelDir(tmp: string): Promise<{ dir: string; what: string }> {
  if (existsSync("models/default/model.json")) return { dir: "models/default", what: "models/default" };
  const dir = join(tmp, "untrained");
  // No recogniser is saved with the stand-in, so it does not read the voice request.
  const spec = makeInputSpec([...MODALITIES], { ...DEFAULT_FEATURE_CONFIG, intent: false });
  const model = strategyByName("intermediate").build(spec, { seed: 1 });
  await saveModelDir(dir, model, { name: "untrained", strategy: "intermediate", description: "bench stand-in", command: "bench", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: spec }, renderCard);
  model.dispose();
  return { dir, what: "untrained intermediate (models/default not there yet)" };
}

const suite: BenchSuite = {
  name: "eval",
  description: "fusiond eval: open loop (recorded s per wall s, 10-minute drive time) and closed loop in process (simulated s per wall s)",
  async run(log) {
    const tmp = mkdtempSync(join(tmpdir(), "fusiond-bench-eval-"));
    try {
      const { dir, what } = await modelDir(tmp);
      log(`model: ${what}`);
      const codec = new MessageDecoder().codec;
      const sink = new MemorySink("drive.mcap");
      const rec = await McapRecorder.create({ open: () => sink });
      for (const m of datasetMessages(7, DRIVE_S)) rec.addMessage({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message), receiveNs: m.receiveNs, stampNs: m.stampNs });
      await rec.close();
      const bytes = sink.bytes();
      const file = join(tmp, "drive.mcap");
      writeFileSync(file, bytes);
      log(`recorded ${DRIVE_S} s drive (seed 7): ${(bytes.length / 1e6).toFixed(1)} MB`);

      let t = performance.now();
      let n = 0;
      for await (const d of decodeRecording(await McapRecording.open(new MemorySource(bytes)))) if (d.message) n++;
      const decodeS = (performance.now() - t) / 1000;
      log(`read + decode alone: ${n} messages in ${decodeS.toFixed(2)} s`);

      const expertT = performance.now();
      for (const spec of scenariosOf("test").slice(0, 2)) {
        const g = expertEpisode({ ...spec, durationS: CLOSED_S });
        while (!g.next().done);
      }
      const expertS = (performance.now() - expertT) / 1000;

      // Each backend in turn, in this run: FUSIOND_BENCH_BACKENDS (default wasm,onnx; one that does not load is skipped).
      const backends = (process.env["FUSIOND_BENCH_BACKENDS"] ?? "wasm,onnx").split(",").filter(Boolean) as BackendChoice[];
      const times = new Map<string, { openS: number; closedS: number }>();
      for (const backend of backends) {
        let model;
        try {
          model = await loadEvalModel(dir, backend);
        } catch (err) {
          log(`${backend}: skipped (${(err as Error).message})`);
          continue;
        }
        try {
          t = performance.now();
          const r = await runOpenLoop([file], model, { mask: unusedModalities(model.spec) });
          const openS = (performance.now() - t) / 1000;
          const s = model.runner.stats();
          log(`${backend}: open loop ${r.report.data.decisions} decisions in ${openS.toFixed(2)} s (${s.batches} model calls, largest batch ${s.largestBatch})`);
          t = performance.now();
          await runClosedLoopSuite(scenariosOf("test").slice(0, 2).map((sp) => ({ ...sp, durationS: CLOSED_S })), model, { mask: unusedModalities(model.spec), parallel: 2 });
          const closedS = (performance.now() - t) / 1000;
          log(`${backend}: closed loop 2 × ${CLOSED_S} s episodes in ${closedS.toFixed(2)} s; the simulator alone ${expertS.toFixed(2)} s`);
          times.set(model.info.backend, { openS, closedS });
        } finally {
          model.close();
        }
      }
      // The floor: the same open loop with a model that costs nothing (a constant answer, same queueing and
      // batching), i.e. everything but inference. No backend can make the open loop faster than this.
      {
        const spec = (await loadModelDir(dir)).spec;
        const free = evalModelOf(new FakeModelRunner(spec, () => [0, 1, 0, 0, 0, 0, 0, 0], { now: () => performance.now(), maxBatch: 32, maxQueue: 64 }));
        t = performance.now();
        await runOpenLoop([file], free, { mask: unusedModalities(spec) });
        const floorS = (performance.now() - t) / 1000;
        free.close();
        log(`no inference (constant model): open loop in ${floorS.toFixed(2)} s`);
        times.set("no inference", { openS: floorS, closedS: NaN });
      }
      const rows: BenchRow[] = [];
      for (const [backend, { openS, closedS }] of times) {
        if (backend === "no inference") {
          rows.push({ name: "no inference (constant model): open loop, recorded s per wall s", value: DRIVE_S / openS, unit: "×", baseline: { name: "read + decode alone", value: DRIVE_S / decodeS }, note: "the floor for any backend" });
          continue;
        }
        rows.push(
          { name: `${backend}: open loop, recorded s per wall s`, value: DRIVE_S / openS, unit: "×", baseline: { name: "read + decode alone", value: DRIVE_S / decodeS } },
          { name: `${backend}: open loop, a 10-minute drive`, value: (600 / DRIVE_S) * openS, unit: "s", lowerIsBetter: true, goal: "≤ 60 s", note: what },
          { name: `${backend}: closed loop in process, sim s per wall s`, value: (2 * CLOSED_S) / closedS, unit: "×", baseline: { name: "simulator alone (expert)", value: (2 * CLOSED_S) / expertS } },
        );
      }
      const wasm = times.get("wasm");
      for (const [backend, { openS, closedS }] of times) {
        if (backend === "wasm" || backend === "no inference" || !wasm) continue;
        rows.push(
          { name: `${backend}: open loop end to end, wall s`, value: openS, unit: "s", lowerIsBetter: true, baseline: { name: "wasm, same run", value: wasm.openS }, goal: "≥ 2× faster" },
          { name: `${backend}: closed-loop suite, wall s`, value: closedS, unit: "s", lowerIsBetter: true, baseline: { name: "wasm, same run", value: wasm.closedS }, goal: "≥ 1.5× faster" },
        );
      }
      return rows;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
export default suite;
