/**
 * A model with camera slots (models/multi-camera: front, rear, left, right) evaluated on its cameras (issue 16):
 * closed loop renders the model's camera set and aligns it as the daemon does; open loop aligns the recording's
 * cameras. Each decision's sensors list every camera slot; a single-camera model's list none.
 */
import assert from "node:assert/strict";
import { runEpisodeInProcess } from "../../../eval/run/closed-loop.ts";
import { loadEvalModel } from "../../../eval/run/decider.ts";
import { evalAligner, simCamerasFor } from "../../../eval/run/model-cameras.ts";
import { EVAL_ALIGNER } from "../../../eval/run/harness.ts";
import { withModelRadarScan } from "../../../pipeline/model-alignment.ts";
import { servedRadarScan } from "../../../fusion/index.ts";
import { memoryOpener, runOpenLoop } from "../../../eval/run/open-loop.ts";
import { scenariosForSeeds } from "../../../eval/run/scenarios.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { recordDrive } from "../../bin/eval-helpers.ts";

const OTHERS = ["rear", "left", "right"];

describe("eval: a model with camera slots is evaluated on its cameras", function () {
  this.timeout(300_000);

  it("aligns the model's cameras (the first the reference) and has the simulator render them; a single-camera model is as before", async () => {
    const m = await loadEvalModel("models/multi-camera", "cpu");
    try {
      const a = evalAligner(m.spec, "sim");
      assert.equal(a.referenceTopic, "vehicles/sim/sensors/camera/front");
      assert.deepEqual(a.cameras, ["front", ...OTHERS].map((id) => `vehicles/sim/sensors/camera/${id}`));
      assert.deepEqual(simCamerasFor(m.spec), { ids: ["front", ...OTHERS], width: 64, height: 64 });
    } finally {
      m.close();
    }
    const d = await loadEvalModel("models/default", "cpu");
    try {
      // No cameras of its own: the evaluation's alignment, with the radar scan it is served on.
      assert.deepEqual(evalAligner(d.spec, "sim"), withModelRadarScan(EVAL_ALIGNER, servedRadarScan(d.spec)));
      // The shipped default is served on the latest scan at or before the camera (its input spec's serving choice).
      assert.equal(evalAligner(d.spec, "sim").radarScan, "latest");
      assert.equal(evalAligner(d.spec, "sim").cameras, undefined);
      assert.equal(simCamerasFor(d.spec), undefined);
    } finally {
      d.close();
    }
  });

  it("closed loop: every decision fuses the four cameras the simulator renders", async () => {
    const m = await loadEvalModel("models/multi-camera", "cpu");
    try {
      const [spec] = scenariosForSeeds([3], 4);
      const r = await runEpisodeInProcess(spec!, m, { mask: [] });
      assert.ok(r.row.decisions >= 70, `decisions: ${r.row.decisions}`);
      const answered = r.points.filter((p) => p.decision && p.decision !== "none");
      assert.ok(answered.length >= 70);
      for (const id of OTHERS) {
        const ok = answered.filter((p) => p.sensors?.[`camera ${id}`] === "ok").length;
        assert.ok(ok >= answered.length - 1, `camera ${id}: ${ok} of ${answered.length} decisions`);
      }
    } finally {
      m.close();
    }
  });

  it("open loop: a four-camera recording is scored with every camera slot filled", async () => {
    const drive = await recordDrive(scenariosOf("test").slice(0, 1).map((s) => ({ ...s, durationS: 4 })), 4, { cameraSet: { ids: ["front", "rear", "left", "right"], width: 64, height: 64 } });
    const m = await loadEvalModel("models/multi-camera", "cpu");
    try {
      const r = await runOpenLoop(["drive.mcap"], m, { mask: [], open: memoryOpener({ "drive.mcap": drive }) });
      assert.ok(r.records.length >= 70, `records: ${r.records.length}`);
      for (const id of OTHERS) {
        const ok = r.records.filter((x) => x.sensors[`camera ${id}`] === "ok").length;
        assert.ok(ok >= r.records.length - 1, `camera ${id}: ${ok} of ${r.records.length}`);
      }
    } finally {
      m.close();
    }
  });
});
