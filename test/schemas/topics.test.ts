import { strict as assert } from "node:assert";
import { TopicRegistry, patternsOverlap, topicMatches } from "../../schemas/index.ts";

describe("schemas/topics", () => {
  it("maps the default topics of docs/architecture.md to their types", () => {
    const reg = new TopicRegistry("ego1");
    assert.equal(reg.lookup("vehicles/ego1/sensors/camera/front")?.type, "foxglove.CompressedImage");
    assert.equal(reg.lookup("vehicles/ego1/sensors/radar/front")?.type, "fusiond.RadarScan");
    assert.equal(reg.lookup("vehicles/ego1/sensors/gnss/main")?.type, "foxglove.LocationFix");
    assert.equal(reg.lookup("vehicles/ego1/sensors/voice/cabin")?.type, "foxglove.RawAudio");
    assert.equal(reg.lookup("vehicles/ego1/ego")?.type, "fusiond.EgoState");
    assert.equal(reg.lookup("vehicles/ego1/decision")?.type, "fusiond.DrivingDecision");
    assert.equal(reg.lookup("vehicles/ego1/sim/step")?.type, "fusiond.SimStep");
    assert.equal(reg.lookup("vehicles/ego1/sim/truth")?.type, "fusiond.GroundTruth");
  });

  it("does not match another vehicle, extra levels or unknown topics", () => {
    const reg = new TopicRegistry("ego1");
    assert.equal(reg.lookup("vehicles/ego2/ego"), undefined);
    assert.equal(reg.lookup("vehicles/ego1/sensors/camera/front/extra"), undefined);
    assert.equal(reg.lookup("vehicles/ego1/sensors/lidar/top"), undefined);
  });

  it("with the wildcard vehicle matches any vehicle", () => {
    const reg = new TopicRegistry();
    assert.equal(reg.lookup("vehicles/a/ego")?.kind, "ego");
    assert.equal(reg.lookup("vehicles/b.c/sensors/radar/1")?.kind, "radar");
  });

  it("builds concrete topics and subscription patterns", () => {
    const reg = new TopicRegistry("v7");
    assert.equal(reg.topicFor("camera", "front"), "vehicles/v7/sensors/camera/front");
    assert.equal(reg.topicFor("ego"), "vehicles/v7/ego");
    assert.ok(reg.topics.some((t) => t.pattern === "vehicles/v7/sensors/radar/+"));
    assert.throws(() => new TopicRegistry("a/b"), /must not contain/);
  });

  it("matches MQTT wildcards like a broker", () => {
    assert.ok(topicMatches("vehicles/#", "vehicles/a/ego"));
    assert.ok(topicMatches("vehicles/+/ego", "vehicles/a/ego"));
    assert.ok(!topicMatches("vehicles/+/ego", "vehicles/a/b/ego"));
    assert.ok(topicMatches("#", "x"));
    assert.ok(!topicMatches("a/b", "a"));
    assert.ok(patternsOverlap("vehicles/#", "vehicles/+/sensors/camera/+"));
    assert.ok(!patternsOverlap("vehicles/+/ego", "vehicles/+/decision"));
  });
});
