import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_FEATURE_CONFIG, RADAR_POINT_FEATURES } from "../../../fusion/features/config.ts";
import { minLaneTtc, radarFeatures, radarPoints } from "../../../fusion/features/radar.ts";

const ret = (range_m: number, azimuth_rad: number, radial_velocity_mps: number) => ({ range_m, azimuth_rad, elevation_rad: 0, radial_velocity_mps, rcs_dbsm: 10 });

describe("fusion/features/radar", () => {
  it("keeps the nearest K returns, nearest first, with a mask", () => {
    const k = DEFAULT_FEATURE_CONFIG.radar.maxReturns;
    const returns = Array.from({ length: k + 5 }, (_, i) => ret(100 - i, 0.5, 0));
    const f = radarFeatures({ returns }, DEFAULT_FEATURE_CONFIG);
    assert.equal(f.pointMask.reduce((a, b) => a + b, 0), k);
    assert.ok(Math.abs(f.points[2]! - (100 - k - 4) / 100) < 1e-6, "first slot holds the nearest return");
  });

  it("computes ego-lane TTC from approaching returns only", () => {
    const pts = radarPoints({ returns: [ret(30, 0, -10), ret(10, 0, 5), ret(20, 1.2, -20)] });
    assert.equal(minLaneTtc(pts, 1.8), 3);
    const f = radarFeatures({ returns: [ret(30, 0, -10)] }, DEFAULT_FEATURE_CONFIG);
    assert.equal(f.minTtcS, 3);
    assert.equal(radarFeatures({ returns: [] }, DEFAULT_FEATURE_CONFIG).minTtcS, Infinity);
  });

  it("missing radar is masked; non-finite returns are dropped", () => {
    const f = radarFeatures(undefined, DEFAULT_FEATURE_CONFIG);
    assert.equal(f.present, false);
    assert.equal(f.minTtcS, undefined);
    const g = radarFeatures({ returns: [ret(Number.NaN, 0, 0), ret(5, 0, 0)] }, DEFAULT_FEATURE_CONFIG);
    assert.equal(g.pointMask.reduce((a, b) => a + b, 0), 1);
  });

  it("features are finite and bounded for any finite scan (property)", () => {
    const r = fc.record({ range_m: fc.double({ min: 0, max: 300, noNaN: true }), azimuth_rad: fc.double({ min: -1.5, max: 1.5, noNaN: true }), elevation_rad: fc.double({ min: -0.3, max: 0.3, noNaN: true }), radial_velocity_mps: fc.double({ min: -60, max: 60, noNaN: true }), rcs_dbsm: fc.double({ min: -30, max: 40, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(r, { maxLength: 60 }), (returns) => {
        const f = radarFeatures({ returns }, DEFAULT_FEATURE_CONFIG);
        assert.ok([...f.points, ...f.summary].every((v) => Number.isFinite(v) && Math.abs(v) <= 3));
        assert.equal(f.points.length, DEFAULT_FEATURE_CONFIG.radar.maxReturns * RADAR_POINT_FEATURES);
      }),
      { numRuns: 200 },
    );
  });
});
