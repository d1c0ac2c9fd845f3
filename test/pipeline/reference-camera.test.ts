import { strict as assert } from "node:assert";
import { ReferenceCamera } from "../../pipeline/reference-camera.ts";

const cam = (id: string) => ({ kind: "camera" as const, topic: `vehicles/v/sensors/camera/${id}` });

describe("pipeline/reference-camera", () => {
  it("a configured topic is the reference, whatever comes first", () => {
    const r = new ReferenceCamera(cam("front").topic);
    assert.equal(r.take(cam("rear")), false);
    assert.equal(r.take(cam("front")), true);
    assert.equal(r.matches(cam("front")), true);
  });

  it("without one, the first camera topic taken is the reference for good; matches() chooses nothing", () => {
    const r = new ReferenceCamera(undefined);
    assert.equal(r.matches(cam("rear")), false);
    assert.equal(r.topic, undefined);
    assert.equal(r.take({ kind: "radar" as never, topic: "vehicles/v/sensors/radar/front" }), false);
    assert.equal(r.take(cam("rear")), true);
    assert.equal(r.take(cam("front")), false);
    assert.equal(r.take(cam("rear")), true);
    assert.equal(r.topic, cam("rear").topic);
  });
});
