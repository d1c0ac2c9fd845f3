import assert from "node:assert/strict";
import { datasetMessages, Perturbation } from "../../sim/dataset.ts";
import { Rng } from "../../sim/rng.ts";
import { scenariosOf } from "../../sim/scenarios.ts";
import type { ExpertLabel } from "../../sim/expert.ts";

const label = (action: ExpertLabel["action"]): ExpertLabel => ({ action, targetSpeedMps: 10, accelMps2: 0, reason: "follow" });

describe("sim dataset perturbations (DART-style)", () => {
  it("holds random free actions for about the requested fraction of steps, and yields at once to anything else", () => {
    const p = new Perturbation(0.2, Rng.fork(1, "perturb"));
    let off = 0;
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const c = p.command(label("KEEP"));
      if (Number.isNaN(c.targetSpeedMps)) off++;
    }
    assert.ok(off / n > 0.15 && off / n < 0.25, `perturbed ${((100 * off) / n).toFixed(1)}% of steps`);
    const q = new Perturbation(0.5, Rng.fork(2, "perturb"));
    for (let i = 0; i < 2000; i++) {
      q.command(label("KEEP"));
      const hazard = q.command(label("BRAKE_HARD"));
      assert.deepEqual(hazard, { action: "BRAKE_HARD", targetSpeedMps: 10 }, "the expert takes over for a hazard");
    }
  });

  it("changes the drive but not the labelling, deterministically per seed", () => {
    const spec = { ...scenariosOf("test")[1]!, durationS: 20 };
    const truths = (perturb: number): string[] => {
      const out: string[] = [];
      for (const m of datasetMessages(1, 20, { scenarios: [spec], perturb })) if (m.type === "fusiond.GroundTruth") out.push(JSON.stringify([m.message["speed_mps"], m.message["expert_action"]]));
      return out;
    };
    const clean = truths(0);
    const a = truths(0.3);
    assert.deepEqual(a, truths(0.3), "same seed, same drive");
    assert.notDeepEqual(a, clean, "the perturbed drive differs");
    assert.equal(a.length, clean.length);
  });
});
