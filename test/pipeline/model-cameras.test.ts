/** The daemon takes its camera set from a model with camera slots (pipeline/model-cameras.ts, issue 16). */
import { strict as assert } from "node:assert";
import { parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { alignerConfigFrom } from "../../pipeline/daemon-aligner.ts";
import { camerasNotAligned, modelReadsCamera, withModelCameras } from "../../pipeline/model-cameras.ts";
import { FusiondError, SensorAllowList, TopicRegistry } from "../../schemas/index.ts";

const registry = new TopicRegistry("ego1");
const base = { vehicle: "ego1", mqtt: { url: "mqtt://127.0.0.1:1883" }, model: { dir: "models/multi-camera" } };
const FOUR = ["front", "rear", "left", "right"];

describe("withModelCameras: the camera set from the model's camera slots", () => {
  it("leaves the config as it is for a model without camera slots", () => {
    const c = parseDaemonConfig(base);
    assert.equal(withModelCameras(c, undefined, registry), c);
    assert.equal(withModelCameras(c, [], registry), c);
  });

  it("a config that names no cameras aligns and accepts the model's, the first the reference", () => {
    const c = withModelCameras(parseDaemonConfig(base), FOUR, registry);
    assert.deepEqual(c.aligner.cameras, FOUR);
    const a = alignerConfigFrom(c.aligner, c.vehicle);
    assert.equal(a.referenceTopic, "vehicles/ego1/sensors/camera/front");
    assert.deepEqual(a.cameras, FOUR.map((id) => `vehicles/ego1/sensors/camera/${id}`));
    const allow = new SensorAllowList(registry, c.sensors!);
    for (const id of FOUR) assert.ok(allow.accepts(`vehicles/ego1/sensors/camera/${id}`), id);
    assert.ok(allow.accepts("vehicles/ego1/sensors/radar/front"));
    assert.ok(allow.accepts("vehicles/ego1/sensors/gnss/main"));
    assert.ok(!allow.accepts("vehicles/ego1/sensors/camera/roof"));
  });

  it("the same cameras in another order are kept (the config's first is the reference)", () => {
    const c = withModelCameras(parseDaemonConfig({ ...base, aligner: { cameras: ["rear", "front", "right", "left"] } }), FOUR, registry);
    assert.deepEqual(c.aligner.cameras, ["rear", "front", "right", "left"]);
  });

  it("other cameras than the model's are an error that says what to change", () => {
    const c = parseDaemonConfig({ ...base, aligner: { cameras: ["front", "rear"] } });
    assert.throws(
      () => withModelCameras(c, FOUR, registry),
      (e: unknown) => e instanceof FusiondError && e.code === "bad_config" && /aligner\.cameras \[front, rear\] is not the model's camera set \[front, rear, left, right\] \(models\/multi-camera\/input-spec\.json config\.cameras\): remove aligner\.cameras to take the model's, or set it to \[front, rear, left, right\]/.test(e.message),
    );
  });

  it("sensors that leave out one of the model's cameras are an error naming it", () => {
    const c = parseDaemonConfig({ ...base, sensors: ["camera/front", "camera/rear", "camera/left", "radar/front"] });
    assert.throws(() => withModelCameras(c, FOUR, registry), /sensors does not accept the model's camera right .*add camera\/right to sensors/);
    const ok = parseDaemonConfig({ ...base, sensors: [...FOUR.map((id) => `camera/${id}`), "radar/front"] });
    assert.deepEqual(withModelCameras(ok, FOUR, registry).sensors, ok.sensors);
  });

  it("cameras the config names for a model without camera slots are accepted too (not only the default front)", () => {
    const c = withModelCameras(parseDaemonConfig({ ...base, aligner: { cameras: ["front", "rear"] } }), undefined, registry);
    const allow = new SensorAllowList(registry, c.sensors!);
    assert.ok(allow.accepts("vehicles/ego1/sensors/camera/rear"));
    assert.ok(allow.accepts("vehicles/ego1/sensors/camera/front"));
    assert.ok(!allow.accepts("vehicles/ego1/sensors/camera/left"));
  });

  it("the camera topics the model reads (features worked out on arrival): all aligned ones with camera slots, else the reference", () => {
    const topic = (id: string) => `vehicles/ego1/sensors/camera/${id}`;
    const four = alignerConfigFrom(withModelCameras(parseDaemonConfig(base), FOUR, registry).aligner, "ego1");
    assert.deepEqual(FOUR.map((id) => modelReadsCamera(four, FOUR)(topic(id))), [true, true, true, true]);
    assert.equal(modelReadsCamera(four, FOUR)(topic("roof")), false);
    const named = alignerConfigFrom(parseDaemonConfig({ ...base, aligner: { cameras: ["front", "rear"] } }).aligner, "ego1");
    assert.deepEqual(["front", "rear"].map((id) => modelReadsCamera(named, undefined)(topic(id))), [true, false]);
    assert.equal(modelReadsCamera({}, undefined)(topic("any")), true, "no camera set: every camera topic triggers frames");
  });

  it("a model reloaded with other camera slots than those aligned since the start is refused (restart to take them)", () => {
    assert.equal(camerasNotAligned(FOUR, ["rear", "front", "left", "right"]), undefined);
    assert.equal(camerasNotAligned(undefined, undefined), undefined, "single-camera models reload as before");
    assert.equal(camerasNotAligned(FOUR, undefined), undefined, "a single-camera model reads the reference");
    assert.match(camerasNotAligned(undefined, FOUR)!, /camera slots \[front, rear, left, right\] are not the cameras aligned since the start \[\]: restart the daemon/);
    assert.match(camerasNotAligned(["front", "rear"], FOUR)!, /restart the daemon to take them/);
  });
});
