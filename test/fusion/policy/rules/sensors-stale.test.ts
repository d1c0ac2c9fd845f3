import assert from "node:assert/strict";
import { sensorsStale } from "../../../../fusion/policy/rules/sensors-stale.ts";
import { DEFAULT_SUPERVISOR } from "../../../../fusion/policy/supervisor.ts";
import { facts, proposal } from "./facts.ts";

describe("fusion/policy/rules/sensors-stale (rule 1)", () => {
  const cfg = DEFAULT_SUPERVISOR;

  it("lets the proposal through while camera or radar is fresh", () => {
    for (const f of [facts(), facts({ present: { ...facts().present, camera: false } }), facts({ ageS: { camera: 0.9, radar: 0.5 } }), facts({ ageS: { camera: 0.5, radar: 2 } })]) {
      const out = sensorsStale(proposal("ACCELERATE", 1), f, cfg);
      assert.deepEqual(out, { proposal: proposal("ACCELERATE", 1) });
    }
  });

  it("camera and radar both missing: STOP, and says so", () => {
    const out = sensorsStale(proposal("KEEP"), facts({ present: { camera: false, radar: false, gnss: true, ego: true, voice: false } }), cfg);
    assert.deepEqual(out.proposal, proposal("STOP"));
    assert.deepEqual(out.override, { reason: "OVERRIDE_SENSORS_STALE", detail: "camera missing, radar missing (stale after 0.5 s): stop safely" });
  });

  it("both older than staleAfterS: STOP with their ages, and no target-speed cap carried over", () => {
    const out = sensorsStale(proposal("KEEP", 3), facts({ ageS: { camera: 0.9, radar: 0.8 } }), cfg);
    assert.deepEqual(out.proposal, proposal("STOP"));
    assert.equal(out.override!.detail, "camera 0.90 s old, radar 0.80 s old (stale after 0.5 s): stop safely");
  });

  it("staleAfterS comes from the config", () => {
    const f = facts({ ageS: { camera: 0.9, radar: 0.8 } });
    assert.equal(sensorsStale(proposal("KEEP"), f, { ...cfg, staleAfterS: 1 }).override, undefined);
  });
});
