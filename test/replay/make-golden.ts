/**
 * Makes the golden replay fixture in test/golden/:
 *
 *   npx tsx test/replay/make-golden.ts                 # record a new live session, then its reference decisions
 *   npx tsx test/replay/make-golden.ts --update-refs   # keep the recording; regenerate the reference decisions
 *   (or: FUSIOND_UPDATE_REFS=1 npx mocha test/replay/golden.test.ts)
 *
 * The session: the simulator (seed 3, clear weather, the expert driving) publishing in real time on the
 * embedded aedes broker, the daemon deciding with the golden model (an untrained seeded model, rebuilt
 * identically by the test) and recording with zstd. Lives in test/ because it composes bin/ (the daemon),
 * which nothing outside bin/, test/ and bench/ may import.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedBroker } from "../../sensors/index.ts";
import { GOLDEN_DECISIONS, GOLDEN_RECORDING, replayDecisions, writeReference } from "./golden.ts";
import { goldenModel, recordLiveSession } from "./live-session.ts";

const args = process.argv.slice(2);
const updateRefsOnly = args.includes("--update-refs");
const seconds = Number(args[args.indexOf("--seconds") + 1] ?? 4) || 4;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "fusiond-golden-"));
  try {
    const model = await goldenModel(join(work, "model"));
    if (!updateRefsOnly) {
      const broker = await EmbeddedBroker.start();
      try {
        const s = await recordLiveSession({ brokerUrl: broker.url, model, dir: join(work, "rec"), vehicle: "golden", durationS: seconds });
        copyFileSync(s.file, GOLDEN_RECORDING);
        process.stderr.write(`recorded ${seconds} s live: ${s.decisions} decisions, ${statSync(GOLDEN_RECORDING).size} bytes → ${GOLDEN_RECORDING}\n`);
      } finally {
        await broker.stop();
      }
    }
    const { report, decisions } = await replayDecisions(GOLDEN_RECORDING, model);
    const c = report.comparison;
    if (report.frames !== "recorded" || !c || c.identical !== c.live || c.extraInReplay !== 0) {
      throw new Error(`the recording does not replay to its live decisions: ${JSON.stringify({ frames: report.frames, ...c, diffs: c?.diffs.slice(0, 3) })}`);
    }
    writeReference(report, decisions);
    process.stderr.write(`replayed: ${decisions.size} decisions, ${c.identical}/${c.live} identical to live → ${GOLDEN_DECISIONS}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0), // tf.js' wasm backend keeps no handle open, but be sure the script ends
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
