/**
 * The golden replay (openpilot's process replay, for the whole pipeline): a session recorded live —
 * simulator → MQTT → daemon — replays to the decisions the daemon made live, and to the committed
 * reference decisions, field by field, except the ignore list (measured latency and inference time)
 * and within a numeric tolerance. FUSIOND_UPDATE_REFS=1 regenerates the reference instead of checking
 * it (after a change meant to alter decisions); test/replay/make-golden.ts records a new session.
 */
import { strict as assert } from "node:assert";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareDecisions, fileSource, McapRecording } from "../../replay/index.ts";
import { runReplay } from "../../eval/run/replay.ts";
import { mosquittoOrAedes, uniqueVehicle } from "../sensors/helpers.ts";
import { GOLDEN_IGNORE, GOLDEN_RECORDING, GOLDEN_TOLERANCE, readReference, replayDecisions, writeReference } from "./golden.ts";
import { goldenModel, recordLiveSession } from "./live-session.ts";

const UPDATE = process.env["FUSIOND_UPDATE_REFS"] === "1";

type Stamp = { seconds?: string | number; nanos?: number };
const stampNs = (t: Stamp | undefined): bigint => BigInt(t?.seconds ?? 0) * 1_000_000_000n + BigInt(t?.nanos ?? 0);

/** Asserts that every radar input the decisions list is stamped at or before its frame; returns how many there were. */
function radarInputsAtOrBefore(decisions: ReadonlyMap<string, Record<string, unknown>>): number {
  let n = 0;
  for (const json of decisions.values()) {
    const d = json as { frame_stamp?: Stamp; inputs?: { modality?: string; stamp?: Stamp }[] };
    for (const input of d.inputs ?? []) {
      if (input.modality !== "radar") continue;
      n++;
      assert.ok(stampNs(input.stamp) <= stampNs(d.frame_stamp), `radar input ${JSON.stringify(input.stamp)} after its frame ${JSON.stringify(d.frame_stamp)}`);
    }
  }
  return n;
}

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

  it("a live session of a model served on the latest radar scan (input spec serving.radarScan) replays to its own live decisions", async () => {
    // The same weights, chosen to be served on the latest scan at or before the camera, moved to its stamp: the
    // daemon takes that from the input spec, and so must replay (it aligned as the recorded config alone said:
    // the nearest scan, unmoved — other frames than those decided live).
    const served = join(work, "served-latest");
    cpSync(model, served, { recursive: true });
    const specFile = join(served, "input-spec.json");
    const spec = JSON.parse(readFileSync(specFile, "utf8")) as Record<string, unknown>;
    writeFileSync(specFile, JSON.stringify({ ...spec, serving: { radarScan: "latest", chosen: "test" } }, null, 2));
    const broker = await mosquittoOrAedes();
    let session;
    try {
      session = await recordLiveSession({ brokerUrl: broker.url, model: served, dir: join(work, "fresh-latest"), vehicle: uniqueVehicle("golden"), durationS: 3, seed: 8 });
    } finally {
      await broker.stop();
    }
    const { report, decisions } = await replayDecisions(session.file, served);
    const c = report.comparison;
    assert.ok(c && c.live >= 20, `live decisions: ${c?.live}`);
    assert.deepEqual(
      { identical: c.identical, differing: c.differing, missing: c.missingInReplay, extra: c.extraInReplay },
      { identical: c.live, differing: 0, missing: 0, extra: 0 },
      JSON.stringify(c.diffs.slice(0, 5)),
    );
    // Served so live: every radar input of a decision is stamped at or before its frame (the simulator's scan
    // nearest a camera frame is 20 ms after it).
    assert.ok(radarInputsAtOrBefore(decisions) >= 20);
    // The committed session was decided live on the nearest scan (its recorded config names none): replayed with
    // this model through the aligner again, its frames are aligned as this model is served — not as recorded.
    const replayed = new Map<string, Record<string, unknown>>();
    const other = await runReplay(GOLDEN_RECORDING, { model: served, backend: "wasm", ignore: GOLDEN_IGNORE.join(","), tolerance: String(GOLDEN_TOLERANCE), quiet: true, frames: "aligner", onDecision: (key, d) => replayed.set(key, d) });
    assert.equal(other.frames, "aligner");
    assert.ok(radarInputsAtOrBefore(replayed) >= 20);
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
