/**
 * The golden replay (openpilot's process replay, for the whole pipeline): a session recorded live —
 * simulator → MQTT → daemon — replays to the decisions the daemon made live, and to the committed
 * reference decisions, field by field, except the ignore list (measured latency and inference time)
 * and within a numeric tolerance. FUSIOND_UPDATE_REFS=1 regenerates the reference instead of checking
 * it (after a change meant to alter decisions); test/replay/make-golden.ts records a new session.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareDecisions, fileSource, McapRecording } from "../../replay/index.ts";
import { mosquittoOrAedes, uniqueVehicle } from "../sensors/helpers.ts";
import { GOLDEN_IGNORE, GOLDEN_RECORDING, GOLDEN_TOLERANCE, readReference, replayDecisions, writeReference } from "./golden.ts";
import { goldenModel, recordLiveSession } from "./live-session.ts";

const UPDATE = process.env["FUSIOND_UPDATE_REFS"] === "1";

describe("golden replay: live sessions replay to the decisions made live", function () {
  this.timeout(120_000);
  let work: string;
  let model: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "fusiond-golden-test-"));
    model = await goldenModel(join(work, "model"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("the committed live recording replays to its live decisions and to the reference decisions (--update-refs: FUSIOND_UPDATE_REFS=1)", async () => {
    const recording = await McapRecording.open(await fileSource(GOLDEN_RECORDING));
    const recordedHash = (await recording.metadata()).get("fusiond")?.get("modelHash");
    await recording.close();
    const { report, decisions } = await replayDecisions(GOLDEN_RECORDING, model);
    assert.equal(report.model.hash, recordedHash, "the golden model is rebuilt from its seed with the weights the session was recorded with");
    assert.equal(report.frames, "recorded", "a daemon recording lists each decision's inputs, so replay decides the recorded frames");
    assert.deepEqual(report.recordedFrames, { live: decisions.size, decided: decisions.size, noInputs: 0, missingInputs: 0, inputsDiffer: 0, evicted: 0 });

    // Against the decisions made live, from the same file.
    const live = report.comparison;
    assert.ok(live && live.live > 50, `live decisions: ${live?.live}`);
    assert.deepEqual(
      { identical: live.identical, differing: live.differing, missing: live.missingInReplay, extra: live.extraInReplay },
      { identical: live.live, differing: 0, missing: 0, extra: 0 },
      JSON.stringify(live.diffs.slice(0, 5)),
    );

    if (UPDATE) {
      writeReference(report, decisions);
      console.log(`      FUSIOND_UPDATE_REFS=1: wrote ${decisions.size} reference decisions`);
      return;
    }
    // Against the committed reference: what this code decided when the reference was made.
    const ref = readReference();
    assert.deepEqual(ref.ignore, GOLDEN_IGNORE);
    const c = compareDecisions(new Map(Object.entries(ref.decisions)), decisions, { ignore: GOLDEN_IGNORE, tolerance: GOLDEN_TOLERANCE });
    assert.equal(c.live, live.live);
    assert.deepEqual(
      { identical: c.identical, differing: c.differing, missing: c.missingInReplay, extra: c.extraInReplay },
      { identical: c.live, differing: 0, missing: 0, extra: 0 },
      `replay no longer reproduces the reference decisions (if intended: FUSIOND_UPDATE_REFS=1 npx mocha test/replay/golden.test.ts): ${JSON.stringify(c.diffs.slice(0, 5))}`,
    );
  });

  it("a fresh live session (simulator → MQTT → daemon) replays to its own live decisions", async () => {
    const broker = await mosquittoOrAedes();
    let session;
    try {
      session = await recordLiveSession({ brokerUrl: broker.url, model, dir: join(work, "fresh"), vehicle: uniqueVehicle("golden"), durationS: 3, seed: 8 });
    } finally {
      await broker.stop();
    }
    const { report } = await replayDecisions(session.file, model);
    const c = report.comparison;
    assert.equal(report.frames, "recorded");
    assert.ok(c && c.live >= 20, `live decisions: ${c?.live}`);
    assert.equal(c.live, session.decisions, "every decision made live is in the recording");
    assert.deepEqual(
      { identical: c.identical, differing: c.differing, missing: c.missingInReplay, extra: c.extraInReplay },
      { identical: c.live, differing: 0, missing: 0, extra: 0 },
      JSON.stringify(c.diffs.slice(0, 5)),
    );
    console.log(`      ${c.identical}/${c.live} live decisions reproduced (--frames recorded)`);
  });

  it("the ignore list and the tolerance are what let measured fields differ: anything else is reported field by field", () => {
    const ref = readReference();
    const [key, decision] = Object.entries(ref.decisions)[0]!;
    const changed = new Map([[key, { ...decision, latency_ms: 999, inference_ms: 5, target_speed_mps: (decision["target_speed_mps"] as number) + 1e-3 }]]);
    const c = compareDecisions(new Map([[key, decision]]), changed, { ignore: GOLDEN_IGNORE, tolerance: GOLDEN_TOLERANCE });
    assert.deepEqual(c.diffs.map((d) => d.field), ["target_speed_mps"]);
    const within = compareDecisions(new Map([[key, decision]]), new Map([[key, { ...decision, target_speed_mps: (decision["target_speed_mps"] as number) + 1e-7 }]]), { ignore: GOLDEN_IGNORE, tolerance: GOLDEN_TOLERANCE });
    assert.equal(within.identical, 1);
  });
});
