/**
 * `npm run bench -- eval`: how fast `fusiond eval` runs.
 *  - open loop: recorded seconds scored per wall second (a 60 s simulator drive through the pipeline and the
 *    model), beside reading and decoding the same recording alone; and the time a 10-minute drive would take.
 *  - closed loop: simulated seconds per wall second in process, beside the simulator alone (expert driving).
 * Model: models/default when it exists, else an untrained intermediate model of the same input spec (say which).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FEATURE_CONFIG, makeInputSpec, renderCard, saveModelDir, strategyByName } from "../fusion/index.ts";
import { McapRecording, MemorySink, MemorySource, McapRecorder, decodeRecording } from "../replay/index.ts";
import { MessageDecoder, MODALITIES } from "../schemas/index.ts";
import { datasetMessages } from "../sim/dataset.ts";
import { expertEpisode } from "../sim/episode.ts";
import { scenariosOf } from "../sim/scenarios.ts";
import { runClosedLoopSuite } from "../eval/run/closed-loop.ts";
import { loadEvalModel, unusedModalities } from "../eval/run/decider.ts";
import { runOpenLoop } from "../eval/run/open-loop.ts";
import type { BenchRow, BenchSuite } from "./harness.ts";

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

      const model = await loadEvalModel(dir);
      try {
        t = performance.now();
        const r = await runOpenLoop([file], model, { mask: unusedModalities(model.spec) });
        const openS = (performance.now() - t) / 1000;
        log(`open loop: ${r.report.data.decisions} decisions in ${openS.toFixed(2)} s (backend ${model.info.backend})`);

        const expertT = performance.now();
        for (const spec of scenariosOf("test").slice(0, 2)) {
          const g = expertEpisode({ ...spec, durationS: CLOSED_S });
          while (!g.next().done);
        }
        const expertS = (performance.now() - expertT) / 1000;
        t = performance.now();
        await runClosedLoopSuite(scenariosOf("test").slice(0, 2).map((s) => ({ ...s, durationS: CLOSED_S })), model, { mask: unusedModalities(model.spec), parallel: 2 });
        const closedS = (performance.now() - t) / 1000;
        log(`closed loop: 2 × ${CLOSED_S} s episodes in ${closedS.toFixed(2)} s; the simulator alone ${expertS.toFixed(2)} s`);
        const rows: BenchRow[] = [
          { name: "open loop, recorded s per wall s", value: DRIVE_S / openS, unit: "×", baseline: { name: "read + decode alone", value: DRIVE_S / decodeS } },
          { name: "open loop, a 10-minute drive", value: (600 / DRIVE_S) * openS, unit: "s", lowerIsBetter: true, goal: "≤ 60 s", note: what },
          { name: "closed loop in process, sim s per wall s", value: (2 * CLOSED_S) / closedS, unit: "×", baseline: { name: "simulator alone (expert)", value: (2 * CLOSED_S) / expertS } },
        ];
        return rows;
      } finally {
        model.close();
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
export default suite;
