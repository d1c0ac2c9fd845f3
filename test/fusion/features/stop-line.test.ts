/**
 * Issue #20: whether the upcoming stop line has been served is not in one frame (arriving at 1 m/s and pulling
 * away at 1 m/s look alike); StopLineTracker keeps it from the frames in order, in training as in inference.
 */
import assert from "node:assert/strict";
import { DEFAULT_FEATURE_CONFIG, EGO_FEATURES, FEATURES_VERSION, makeInputSpec, specMismatches, STOP_STATE_FEATURES } from "../../../fusion/features/config.ts";
import { stackInputs } from "../../../fusion/features/frame.ts";
import type { MapContext, MapView } from "../../../fusion/features/gnss.ts";
import { StopLineTracker, stopStateOffset } from "../../../fusion/features/stop-line.ts";
import { FakeModelRunner } from "../../../fusion/inference/runner.ts";
import { DecisionEngine } from "../../../fusion/policy/engine.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { indexTruths, labelFrames } from "../../../fusion/train/labelled.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { MODALITIES } from "../../../schemas/index.ts";
import { randomScene, sceneFrame } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

/** A config with the stop-line state (opt-in: fusiond train --stop-state). */
const STOP = { ...DEFAULT_FEATURE_CONFIG, stopServed: true };
const line = (id: number | undefined, d: number | undefined): MapContext => ({ stopLineDistanceM: d, stopLineId: id, speedLimitMps: 13.9, inTunnel: false });

describe("fusion/features/stop-line: has the upcoming stop line been served", () => {
  it("arriving, standing, pulling away; GNSS jitter naming the next line for a frame; the line passed; another map", () => {
    const t = new StopLineTracker();
    t.update("m", line(1, 60), 12);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(2)), [0, 0, 1, 0.3], "far from the line: not in its zone");
    t.update("m", line(1, 10), 3);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(2)), [1, 0, 0.3, 0.05], "in the zone, still rolling");
    t.update(undefined, undefined, 0);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(2)), [1, 0, 0.3, 1], "a frame without map context changes nothing (its distance is unknown)");
    t.update("m", line(1, 3), 0.1);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(3)), [1, 1, 0.01, 0.015], "stood at it: served");
    t.update("m", line(1, 1), 2);
    assert.equal(t.features()[1], 1, "pulling away at 2 m/s: still served (one frame alone says 'arriving slowly')");
    t.update("m", line(2, 180), 3);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(2)), [0, 0, 1, 0.9], "the next line, for a frame of GNSS jitter");
    t.update("m", line(1, 0.5), 3);
    assert.equal(t.features()[1], 1, "back at line 1: it stays served");
    t.update("m", line(2, 170), 4);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(2)), [0, 0, 1, 0.85], "line 1 passed: line 2 is not served");
    t.update("other", line(1, 5), 4);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(3)), [1, 0, 0.4, 0.025], "another map: line 1 of it is another line");
  });

  it("a map view without line ids: a new line when the distance jumps up", () => {
    const t = new StopLineTracker();
    t.update("m", line(undefined, 5), 0);
    assert.equal(t.features()[1], 1);
    t.update("m", line(undefined, 4), 1);
    assert.equal(t.features()[1], 1);
    t.update("m", line(undefined, 150), 8);
    assert.deepEqual([...t.features()].map((v) => +v.toFixed(2)), [0, 0, 1, 0.75]);
    t.update("m", line(undefined, undefined), 8);
    assert.deepEqual([...t.features()], [0, 0, 1, 1], "no line ahead");
  });

  it("the config: ego carries it with GNSS (features version 4); version-3 models keep loading, a version-3 spec claiming it does not", () => {
    const spec = makeInputSpec([...MODALITIES], STOP);
    assert.equal(spec.featuresVersion, FEATURES_VERSION);
    assert.equal(FEATURES_VERSION, 4);
    assert.equal(spec.config.stopServed, true);
    assert.equal(makeInputSpec([...MODALITIES]).config.stopServed, undefined, "opt-in: the default config has none");
    assert.deepEqual(spec.inputs.find((i) => i.name === "ego")!.shape, [stopStateOffset(spec.config)! + STOP_STATE_FEATURES]);
    assert.equal(makeInputSpec(["camera", "ego"], STOP).config.stopServed, false, "no GNSS, no map: no stop state");
    const v3 = makeInputSpec([...MODALITIES]);
    assert.deepEqual(specMismatches({ ...v3, featuresVersion: 3 }), []);
    assert.ok(specMismatches({ ...spec, featuresVersion: 3 }).some((m) => /features version 3/.test(m)));
    assert.ok(specMismatches({ ...v3, featuresVersion: 2 }).some((m) => /features version 2/.test(m)));
    assert.ok(EGO_FEATURES > 0);
  });

  it("training (labelFrames) and the decision engine give the same ego tensors, frame by frame through a stop", async () => {
    await useBackend("wasm");
    // Frame i: the line 30 − 2i m ahead (the stub reads i back from the fix's latitude, sceneFrame's 48.1 + i·1e-6).
    const map: MapView = { id: "stub", contextAt: (lat) => line(7, 30 - 2 * Math.round((lat - 48.1) * 1e6)) };
    const speeds = [8, 7, 6, 5, 4, 3, 2, 1, 0.6, 0.2, 0.1, 0.4, 1, 2, 3];
    const rand = mulberry32(5);
    const frames = speeds.map((v, i) => sceneFrame({ ...randomScene(rand), speedMps: v, command: "" }, i, rand));
    const truths = frames.map((f) => ({ stamp: { seconds: Number(f.stampNs / 1_000_000_000n), nanos: Number(f.stampNs % 1_000_000_000n) }, expert_action: 1, episode_id: "e", weather: 1 }));
    const spec = makeInputSpec([...MODALITIES], STOP);
    const { samples } = labelFrames(frames, indexTruths(truths), { map, config: STOP }, () => "e");
    const egoAt = spec.inputs.findIndex((i) => i.name === "ego");
    const training = buildBatch(samples, speeds.map((_, i) => i), spec)[egoAt]!.dataSync();
    const runner = new FakeModelRunner(spec, () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => 0 });
    const engine = new DecisionEngine({ primary: runner, map, nowNs: () => 0n, supervisor: { ttcThresholdS: 0, brakeTtcS: 0, staleAfterS: 10, critical: [] } });
    for (const f of frames) await engine.decide(f);
    const inference = stackInputs(runner.seen, spec)[egoAt]!.data;
    assert.deepEqual([...inference], [...training]);
    const at = stopStateOffset(spec.config)!;
    const size = at + STOP_STATE_FEATURES;
    const served = speeds.map((_, i) => training[i * size + at + 1]);
    const inZone = speeds.map((_, i) => training[i * size + at]);
    // In the zone from 30 − 2i ≤ 12 (i ≥ 9); stood (0.2 m/s) at i = 9; still served pulling away.
    assert.deepEqual(inZone, speeds.map((_, i) => (i >= 9 ? 1 : 0)));
    assert.deepEqual(served, speeds.map((_, i) => (i >= 9 ? 1 : 0)));
    runner.close();
  });
});
