import assert from "node:assert/strict";
import type { RadarPoint } from "../../../fusion/features/radar.ts";
import { TtcConfirmer } from "../../../fusion/policy/ttc-confirm.ts";
import { mulberry32 } from "../../../schemas/index.ts";

const MS = 1_000_000n;
const pt = (range: number, vr: number, y = 0): RadarPoint => ({ x: range, y, range, vr, rcs: 0 });

describe("fusion/policy/ttc-confirm", () => {
  it("confirms a closing obstacle from its second scan, and across one missed detection", () => {
    const c = new TtcConfirmer();
    assert.equal(c.confirmedTtc(0n, [pt(30, -10)], 1.8), Infinity);
    assert.equal(c.confirmedTtc(50n * MS, [pt(29.5, -10)], 1.8), 2.95);
    assert.equal(c.confirmedTtc(100n * MS, [], 1.8), Infinity); // missed
    assert.ok(Math.abs(c.confirmedTtc(150n * MS, [pt(28.5, -10)], 1.8) - 2.85) < 1e-9, "predicted from the scan before the miss");
    assert.ok(Math.abs(c.confirmedTtc(150n * MS, [], 1.8) - 2.85) < 1e-9, "the same scan in the next frame keeps its answer");
  });

  it("hardly ever confirms stationary clutter scattered at random (1000 scans of 10 returns over the radar's ±0.7 rad at 25 m/s)", () => {
    const rand = mulberry32(9);
    const c = new TtcConfirmer();
    let confirmed = 0;
    for (let k = 0; k < 1000; k++) {
      const pts = Array.from({ length: 10 }, () => {
        const range = 3 + rand() * 150;
        const az = (rand() - 0.5) * 1.4;
        return { x: range * Math.cos(az), y: range * Math.sin(az), range, vr: -25 * Math.cos(az), rcs: -8 };
      });
      if (Number.isFinite(c.confirmedTtc(BigInt(k) * 50n * MS, pts, 1.8))) confirmed++;
    }
    assert.ok(confirmed <= 10, `clutter confirmed in ${confirmed} of 1000 scans`);
  });

  it("ignores returns outside the ego lane and returns that move away", () => {
    const c = new TtcConfirmer();
    c.confirmedTtc(0n, [pt(20, -5, 3), pt(20, 2)], 1.8);
    assert.equal(c.confirmedTtc(50n * MS, [pt(19.75, -5, 3), pt(20.1, 2)], 1.8), Infinity);
  });
});
