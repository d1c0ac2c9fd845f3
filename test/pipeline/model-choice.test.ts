/** Which shipped model the daemon loads when none is named (pipeline/model-choice.ts, issue 16). */
import { strict as assert } from "node:assert";
import { chooseModel, singleCameraModelWarning, type ShippedModel } from "../../pipeline/model-choice.ts";

const ALL = ["camera", "radar", "gnss", "ego", "voice"];
const FOUR = ["front", "rear", "left", "right"];
const SHIPPED: ShippedModel[] = [
  { dir: "models/camera-only", cameras: undefined, modalities: ["camera"] },
  { dir: "models/default", cameras: undefined, modalities: ALL },
  { dir: "models/multi-camera", cameras: FOUR, modalities: ALL },
  { dir: "models/mc-ablation", cameras: ["rear", "front", "right", "left"], modalities: ["camera"] },
];

describe("chooseModel: the shipped model whose camera slots are the configured cameras", () => {
  it("four cameras (any order) take the multi-camera model, the one reading most modalities among those with the slots", () => {
    for (const cams of [FOUR, ["left", "front", "right", "rear"]]) {
      const c = chooseModel(cams, SHIPPED);
      assert.equal(c.dir, "models/multi-camera");
      assert.match(c.why, /camera slots \[front, rear, left, right\] are the configured cameras/);
      assert.equal(c.warning, undefined);
    }
  });

  it("one camera, or none named, takes models/default", () => {
    assert.equal(chooseModel(undefined, SHIPPED).dir, "models/default");
    assert.equal(chooseModel(["front"], SHIPPED).dir, "models/default");
    assert.match(chooseModel(["rear"], SHIPPED).why, /one camera \(rear\)/);
  });

  it("cameras no shipped model has slots for: models/default, with a warning that says what it fuses and what to do", () => {
    const c = chooseModel(["front", "rear"], SHIPPED);
    assert.equal(c.dir, "models/default");
    assert.match(c.warning ?? "", /no shipped model has camera slots \[front, rear\]: models\/default fuses the reference camera \(front\) only/);
    assert.match(c.warning ?? "", /fusiond train --cameras front,rear/);
    assert.match(c.warning ?? "", /models\/multi-camera: front,rear,left,right/);
  });

  it("a single-camera model named for several cameras: a warning naming the model that has their slots", () => {
    assert.equal(singleCameraModelWarning("models/default", ["front"], undefined, SHIPPED), undefined);
    assert.equal(singleCameraModelWarning("models/multi-camera", FOUR, FOUR, SHIPPED), undefined);
    const w = singleCameraModelWarning("models/default", FOUR, undefined, SHIPPED) ?? "";
    assert.match(w, /models\/default has no camera slots: it fuses the reference camera \(front\) only, and rear, left, right are aligned but not fused/);
    assert.match(w, /--model models\/multi-camera, or leave --model out/);
  });
});
