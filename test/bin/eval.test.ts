import assert from "node:assert/strict";
import { DEFAULT_SUPERVISOR, FakeModelRunner, makeInputSpec } from "../../fusion/index.ts";
import { checkReport } from "../../eval/score/report.ts";
import { ACTION_CLASSES } from "../../eval/score/open-loop.ts";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import { EmbeddedBroker } from "../../sensors/index.ts";
import { scenariosOf } from "../../sim/scenarios.ts";
import { runEpisodeInProcess } from "../../eval/run/closed-loop.ts";
import { evalModelOf, type EvalModel } from "../../eval/run/decider.ts";
import { evaluate } from "../../eval/run/evaluate.ts";
import { memoryOpener, runOpenLoop } from "../../eval/run/open-loop.ts";
import { mqttEpisodeRunner } from "../../eval/run/mqtt-loop.ts";
import { parseSeeds, scenariosForSeeds } from "../../eval/run/scenarios.ts";
import { portOpen } from "../sensors/helpers.ts";
import { recordDrive, TEST_EVAL_SETTINGS } from "./eval-helpers.ts";

const oneHot = (action: string): number[] => ACTION_CLASSES.map((a) => (a === action ? 1 : 0));
/** A model that answers by a rule on its inputs (same queueing and batching as the TF.js runner). */
const fake = (id: string, fn: (inputs: Record<string, Float32Array>) => string, modalities: Modality[] = [...MODALITIES]): EvalModel =>
  evalModelOf(new FakeModelRunner(makeInputSpec(modalities), (x) => oneHot(fn(x)), { id, now: () => performance.now(), maxBatch: 16, maxQueue: 64 }));
/** The model sees the rules as they are, minus the radar TTC rule (so its own answer is what is scored). */
const noTtc = { ...DEFAULT_SUPERVISOR, ttcThresholdS: 0, critical: [] };
const RADAR = MODALITIES.indexOf("radar");

describe("fusiond eval: runners", function () {
  this.timeout(120_000);
  const spec = { ...scenariosOf("test")[2]!, durationS: 6 };
  let drive: Uint8Array;
  before(async () => (drive = await recordDrive([spec], 6)));
  const open = () => memoryOpener({ "drive.mcap": drive });

  it("open loop decides every frame of a recording and scores it against the expert's labels", async () => {
    const { report, records } = await runOpenLoop(["drive.mcap"], fake("keep", () => "KEEP"), { mask: [], supervisor: noTtc, open: open() });
    // 6 s of camera at 20 Hz; every frame is near a GroundTruth step.
    assert.ok(report.data.decisions >= 115 && report.data.decisions <= 121, `decisions ${report.data.decisions}`);
    assert.equal(report.data.labelled, report.data.decisions);
    assert.equal(report.n, records.length);
    const keep = ACTION_CLASSES.indexOf("KEEP");
    // Every decision is KEEP: one column of the confusion matrix holds everything, accuracy is the KEEP share.
    assert.equal(report.confusion.reduce((a, row) => a + row[keep]!, 0), report.n);
    const keepLabels = records.filter((r) => r.truth === keep).length;
    assert.equal(report.accuracy, keepLabels / report.n);
    assert.equal(report.perClass["KEEP"]!.recall, keepLabels ? 1 : null);
    assert.deepEqual(Object.keys(report.byCondition).sort(), ["traffic", "tunnel", "voice", "weather"]);
    const weatherN = Object.values(report.byCondition["weather"]!).reduce((a, s) => a + s.n, 0);
    assert.equal(weatherN, report.n, "the weather slices partition the decisions");
    assert.equal(report.overrides["OVERRIDE_NONE"], report.n);
    assert.ok(report.latency.alignMs.n === report.n && report.latency.alignMs.max < 1000);
    assert.ok(report.timeline && report.timeline.t.length === report.n && report.timeline.sensors["camera"]!.every((s) => s === "ok"));
  });

  it("masking a modality removes it from the frame the model sees (the ablation's mechanism)", async () => {
    const radarSeen = fake("radar?", (x) => (x["presence"]![RADAR] === 1 ? "KEEP" : "STOP"));
    const full = await runOpenLoop(["drive.mcap"], radarSeen, { mask: [], supervisor: noTtc, open: open() });
    const masked = await runOpenLoop(["drive.mcap"], radarSeen, { mask: ["radar"], supervisor: noTtc, open: open() });
    const col = (r: typeof full, a: (typeof ACTION_CLASSES)[number]) => r.report.confusion.reduce((s, row) => s + row[ACTION_CLASSES.indexOf(a)]!, 0);
    assert.ok(col(full, "KEEP") > 0.9 * full.report.n, "radar is there in nearly every frame");
    assert.equal(col(masked, "STOP"), masked.report.n, "and in none once masked");
    assert.deepEqual(masked.report.masked, ["radar"]);
    assert.ok(masked.records.every((r) => r.sensors["radar"] === "missing"));
  });

  it("open loop is deterministic: the same recording gives the same decisions and scores", async () => {
    const byTtc = () => fake("ttc", (x) => (x["radar_summary"]![0]! > 0.5 ? "DECELERATE" : "KEEP"));
    const a = await runOpenLoop(["drive.mcap"], byTtc(), { mask: [], open: open() });
    const b = await runOpenLoop(["drive.mcap"], byTtc(), { mask: [], open: open() });
    assert.deepEqual(a.report.confusion, b.report.confusion);
    assert.deepEqual(a.report.byCondition, b.report.byCondition);
    assert.deepEqual(a.report.latency.alignMs, b.report.latency.alignMs);
  });

  it("closed loop in process: the pipeline's decisions drive the ego, one per step, in lockstep", async () => {
    const short = { ...spec, durationS: 4 };
    const go = await runEpisodeInProcess(short, fake("go", () => "ACCELERATE"), { mask: [], supervisor: noTtc });
    const stop = await runEpisodeInProcess(short, fake("stop", () => "STOP"), { mask: [], supervisor: noTtc });
    const steps = 4 * 20;
    for (const r of [go, stop]) {
      assert.equal(r.row.decisions + r.row.stepsWithoutDecision, steps, "every step answered or counted");
      assert.ok(r.row.stepsWithoutDecision < 10, `only the first steps wait for a frame (${r.row.stepsWithoutDecision})`);
      assert.equal(r.row.aborted, false);
      assert.equal(r.points.length, steps + 1);
    }
    assert.ok(go.points.slice(20, -1).every((p) => p.decision === "ACCELERATE"));
    assert.equal(go.points.at(-1)!.decision, "none", "the last step (done) is not answered");
    assert.ok(stop.row.km < go.row.km, `STOP drives less far (${stop.row.km} vs ${go.row.km} km)`);
    assert.ok(stop.points.at(-1)!.speedMps! < go.points.at(-1)!.speedMps!);
    const again = await runEpisodeInProcess(short, fake("go", () => "ACCELERATE"), { mask: [], supervisor: noTtc });
    assert.deepEqual(again.row, go.row, "same scenario, same decisions: same episode");
  });

  it("closed loop over MQTT (Mosquitto on 127.0.0.1:1883, else the embedded broker) follows the lockstep protocol", async () => {
    const broker = (await portOpen(1883)) ? undefined : await EmbeddedBroker.start();
    try {
      const url = broker?.url ?? "mqtt://127.0.0.1:1883";
      const short = { ...spec, durationS: 3 };
      const r = await mqttEpisodeRunner(url, { timeoutMs: 3000 })(short, fake("go", () => "ACCELERATE"), { mask: [], supervisor: noTtc });
      const inProcess = await runEpisodeInProcess(short, fake("go", () => "ACCELERATE"), { mask: [], supervisor: noTtc });
      assert.equal(r.row.aborted, false);
      assert.equal(r.row.decisions + r.row.stepsWithoutDecision, 60);
      assert.ok(r.row.stepsWithoutDecision < 10, `steps without a decided frame: ${r.row.stepsWithoutDecision}`);
      assert.ok(r.points.slice(20, -1).every((p) => p.decision === "ACCELERATE"), "the decisions crossed the broker");
      // The same constant decisions from (about) the same step on: the same drive within a few metres.
      assert.ok(Math.abs(r.row.km - inProcess.row.km) < 0.005, `${r.row.km} vs ${inProcess.row.km} km`);
    } finally {
      await broker?.stop();
    }
  });

  it("seed ranges: suite seeds run their scenario, others a random one", () => {
    assert.deepEqual(parseSeeds("3000-3002"), [3000, 3001, 3002]);
    assert.throws(() => parseSeeds("9-3"), { code: "bad_seeds" });
    const s = scenariosForSeeds([3000, 77]);
    assert.equal(s[0]!.name, scenariosOf("test")[0]!.name);
    assert.equal(s[1]!.name, "seed-77");
  });

  it("evaluate(): two models side by side, a report that matches the schema, with paired comparisons", async () => {
    const models: Record<string, () => EvalModel> = {
      cam: () => fake("cam", () => "KEEP", ["camera"]),
      fused: () => fake("fused", (x) => (x["presence"]![RADAR] === 1 ? "KEEP" : "DECELERATE")),
    };
    const { report } = await evaluate({
      models: ["cam", "fused"],
      data: ["drive.mcap"],
      scenarios: [{ ...spec, durationS: 2 }, { ...scenariosOf("test")[5]!, durationS: 2 }],
      suiteName: "test",
      ...TEST_EVAL_SETTINGS,
      load: async (dir) => models[dir]!(),
      openLoopOptions: { open: open() },
    });
    checkReport(report);
    assert.equal(report.models.length, 2);
    assert.deepEqual(report.models[0]!.openLoop!.masked, ["radar", "gnss", "ego", "voice"], "a camera-only model drives without the other sensors");
    assert.deepEqual(report.openLoop, report.models[0]!.openLoop);
    assert.deepEqual(report.closedLoop, report.models[0]!.closedLoop);
    assert.equal(report.closedLoop!.episodes, 2);
    for (const key of ["openLoop.accuracy", "openLoop.macroF1", "closedLoop.collisions", "closedLoop.collisionsPer100km"]) {
      assert.ok(report.comparisons.some((c) => c.metric === key && c.model === "fused" && c.baseline === "cam"), key);
    }
  });
});
