/**
 * Measures how a session recorded live replays, in both frame modes (docs/recording.md's figures):
 *
 *   npx tsx test/replay/measure-live-replay.ts [SECONDS]   # default 15
 *
 * The simulator on the embedded aedes broker, the daemon with the golden (seeded, untrained) model,
 * then `fusiond replay --frames recorded` and `--frames aligner` on what it recorded. Writes nothing
 * outside a temporary directory.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runReplay } from "../../eval/run/replay.ts";
import { EmbeddedBroker } from "../../sensors/index.ts";
import { goldenModel, recordLiveSession } from "./live-session.ts";

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 15) || 15;
  const work = mkdtempSync(join(tmpdir(), "fusiond-measure-"));
  try {
    const model = await goldenModel(join(work, "model"));
    const broker = await EmbeddedBroker.start();
    const s = await recordLiveSession({ brokerUrl: broker.url, model, dir: join(work, "rec"), vehicle: "measure", durationS: seconds }).finally(() => broker.stop());
    console.log(`live: ${seconds} s, ${s.decisions} decisions, ${statSync(s.file).size} bytes`);
    for (const frames of ["recorded", "aligner"]) {
      const r = await runReplay(s.file, { model, backend: "wasm", ignore: "latency_ms,sensor_to_decision_ms,inference_ms,backend,seq", tolerance: "1e-6", frames, quiet: true });
      const c = r.comparison!;
      console.log(`--frames ${frames}: ${c.identical}/${c.live} identical, ${c.differing} differ, ${c.missingInReplay} missing, ${c.extraInReplay} extra`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
