/**
 * The classic controller reads the model inputs by their layouts in fusion/features/: this round-trips a
 * frame through the real feature code and checks what it reads back, so a layout change there fails here.
 */
import assert from "node:assert/strict";
import { classicFacts, radarReturns } from "../../../fusion/classic/inputs.ts";
import { CLASSIC_SPEC } from "../../../fusion/classic/runner.ts";
import { extractFeatures, modelInputs } from "../../../fusion/features/frame.ts";
import type { MapView } from "../../../fusion/features/gnss.ts";
import { VoiceIntentTracker } from "../../../fusion/features/intent.ts";
import { sceneFrame } from "../synthetic.ts";

const map: MapView = {
  id: "stub",
  contextAt: () => ({ stopLineDistanceM: 42, speedLimitMps: 16.7, advisorySpeedMps: 11.1, inTunnel: false, crosswalkDistanceM: undefined, laneCount: 3, lane: 1, laneOffsetM: 0.2 }),
};

describe("classic controller: facts from the model inputs", () => {
  const scene = { speedMps: 12, obstacleM: 30, closingMps: 12, command: "", weather: "CLEAR" } as Parameters<typeof sceneFrame>[0];
  const frame = sceneFrame(scene, 3, () => 0.5, ["camera"]);

  it("reads speed, lane, map context and the radar returns as the features made them", () => {
    const features = extractFeatures(frame, { config: CLASSIC_SPEC.config, map });
    const inputs = modelInputs(features, CLASSIC_SPEC);
    const f = classicFacts(inputs, CLASSIC_SPEC);
    assert.ok(Math.abs(f.speedMps! - 12) < 1e-4);
    assert.equal(f.lane, 1);
    assert.equal(f.changing, 0);
    assert.ok(f.map);
    assert.ok(Math.abs(f.map.stopLineM! - 42) < 1e-3);
    assert.ok(Math.abs(f.map.advisoryMps - 11.1) < 1e-3);
    assert.equal(f.map.laneCount, 3);
    const radar = radarReturns(inputs, CLASSIC_SPEC)!;
    const obstacle = radar.points.find((p) => Math.abs(p.range - 30) < 1e-3);
    assert.ok(obstacle, JSON.stringify(radar.points));
    assert.ok(Math.abs(obstacle.vr + 12) < 1e-4);
    assert.ok(Math.abs(obstacle.y - 30 * Math.sin(0.01)) < 1e-4);
    assert.equal(radar.ageS, 0);
  });

  it("reads the standing voice request, and nothing when radar or GNSS is missing", () => {
    const tracker = new VoiceIntentTracker();
    tracker.hear(frame.stampNs, "change lane left", frame.stampNs);
    tracker.hear(frame.stampNs + 1n, "speed up", frame.stampNs);
    const features = extractFeatures(sceneFrame(scene, 3, () => 0.5, ["camera", "radar", "gnss"]), { config: CLASSIC_SPEC.config, map, intent: tracker.features(frame.stampNs) });
    const inputs = modelInputs(features, CLASSIC_SPEC);
    const f = classicFacts(inputs, CLASSIC_SPEC);
    assert.equal(f.voice.laneRequest, 1);
    assert.ok(f.voice.speedOffsetMps > 0);
    assert.equal(f.map, undefined);
    assert.equal(radarReturns(inputs, CLASSIC_SPEC), undefined);
  });
});
