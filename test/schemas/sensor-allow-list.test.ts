import { strict as assert } from "node:assert";
import { configFromFlags } from "../../bin/commands/run.ts";
import { parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { DEFAULT_SENSOR_IDS, FusiondError, SensorAllowList, TopicRegistry, sensorIdKinds } from "../../schemas/index.ts";
import { Episode } from "../../sim/episode.ts";
import { randomScenario } from "../../sim/scenario.ts";

describe("schemas/sensor-allow-list", () => {
  const registry = new TopicRegistry("ego1");

  it("accepts the named <kind>/<id> pairs and every registry topic without an id; nothing else", () => {
    const allow = new SensorAllowList(registry, ["camera/front", "radar/front"]);
    assert.ok(allow.accepts("vehicles/ego1/sensors/camera/front"));
    assert.ok(allow.accepts("vehicles/ego1/sensors/radar/front"));
    assert.ok(allow.accepts("vehicles/ego1/ego"), "no id: a fixed set already");
    assert.ok(!allow.accepts("vehicles/ego1/sensors/camera/rear"));
    assert.ok(!allow.accepts("vehicles/ego1/sensors/radar/camera/front"), "not a registry topic");
    assert.ok(!allow.accepts("vehicles/ego1/sensors/camera_raw/front"), "camera_raw/front was not named");
    assert.ok(!allow.accepts("vehicles/other/sensors/camera/front"), "another vehicle");
    assert.ok(!allow.accepts("vehicles/ego1/lidar"));
    assert.deepEqual(allow.topics(), ["vehicles/ego1/sensors/camera/front", "vehicles/ego1/sensors/radar/front"]);
  });

  it("refuses entries that are not <kind>/<id> of a kind with ids, saying which kinds are", () => {
    for (const bad of ["ego/x", "camera", "camera/front/x", "lidar/top", "camera/+"]) {
      assert.throws(() => new SensorAllowList(registry, [bad]), (e: unknown) => e instanceof FusiondError && e.code === "bad_sensor_id" && /camera, camera_raw, radar, gnss, voice/.test(e.message), bad);
    }
    assert.deepEqual(sensorIdKinds(), ["camera", "camera_raw", "radar", "gnss", "voice"]);
  });

  it("finds the sensor ids a subscription list names, with the defaults its patterns cover (none when it has only patterns)", () => {
    assert.deepEqual(SensorAllowList.idsIn(registry, ["vehicles/ego1/sensors/camera/left", "vehicles/ego1/ego"]), ["camera/left"]);
    assert.deepEqual(SensorAllowList.idsIn(registry, ["vehicles/ego1/sensors/camera/left", "vehicles/ego1/sensors/radar/+"]), ["camera/left", "radar/front"]);
    assert.equal(SensorAllowList.idsIn(registry, ["vehicles/ego1/sensors/#"]), undefined);
    assert.equal(SensorAllowList.idsIn(registry, undefined), undefined);
  });

  it("defaults to exactly the sensors the simulator publishes", () => {
    const topics = new Set<string>();
    for (const cameraFormat of ["jpeg", "raw"] as const) {
      const ep = new Episode(randomScenario(1, 1, "allow-list"), { vehicle: "ego1", cameraFormat });
      for (const t of Object.values(ep.topics)) topics.add(t);
    }
    const simSensors = [...topics].filter((t) => t.includes("/sensors/")).sort();
    assert.deepEqual(new SensorAllowList(registry, DEFAULT_SENSOR_IDS).topics(), simSensors);
  });
});

describe("daemon config: sensors", () => {
  const base = { mqtt: { url: "mqtt://127.0.0.1:1883" } };

  it("takes sensors as <kind>/<id> and --sensor (repeatable) in place of the file's list", () => {
    assert.deepEqual(parseDaemonConfig({ ...base, sensors: ["camera/left", "radar/r1"] }).sensors, ["camera/left", "radar/r1"]);
    assert.equal(parseDaemonConfig(base).sensors, undefined);
    assert.deepEqual(configFromFlags({ mqtt: "mqtt://127.0.0.1:1883", sensor: ["camera/a", "gnss/b"] }).config.sensors, ["camera/a", "gnss/b"]);
  });

  it("names a bad entry and the kinds allowed", () => {
    assert.throws(() => parseDaemonConfig({ ...base, sensors: ["lidar/top"] }), /sensors\.0: kind must be one of camera, camera_raw, radar, gnss, voice/);
    assert.throws(() => parseDaemonConfig({ ...base, sensors: ["camera"] }), /sensors\.0: expected <kind>\/<id>/);
    assert.throws(() => parseDaemonConfig({ ...base, sensors: [] }), /sensors/);
  });
});
