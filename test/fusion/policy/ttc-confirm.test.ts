import assert from "node:assert/strict";
import type { RadarPoint } from "../../../fusion/features/radar.ts";
import { TtcConfirmer } from "../../../fusion/policy/ttc-confirm.ts";
import { mulberry32 } from "../../../domain/random.ts";

const MS = 1_000_000n;
const pt = (range: number, vr: number, y = 0): RadarPoint => ({ x: range, y, range, vr, rcs: 0 });

describe("fusion/policy/ttc-confirm", () => {
  it("confirms a closing obstacle from its third scan (3-of-4), and across one missed detection", () => {
    const c = new TtcConfirmer();
    assert.equal(c.confirmedTtc(0n, [pt(30, -10)], 1.8), Infinity);
    assert.equal(c.confirmedTtc(50n * MS, [pt(29.5, -10)], 1.8), Infinity, "one earlier scan is not enough");
    assert.ok(Math.abs(c.confirmedTtc(100n * MS, [pt(29, -10)], 1.8) - 2.9) < 1e-9);
    assert.ok(Math.abs(c.confirmedTtc(150n * MS, [], 1.8) - 2.85) < 1e-9, "missed: the track coasts on its prediction");
    assert.ok(Math.abs(c.confirmedTtc(200n * MS, [pt(28, -10)], 1.8) - 2.8) < 1e-9, "met again by the track's prediction");
    assert.ok(Math.abs(c.confirmedTtc(200n * MS, [], 1.8) - 2.8) < 1e-9, "the same scan in the next frame keeps its answer");
    assert.equal(c.confirmed.length, 1);
  });

  it("tracks a cut-in from the next lane: confirmed as soon as it enters the ego lane", () => {
    const c = new TtcConfirmer();
    c.confirmedTtc(0n, [pt(20, -5, 2.0)], 1.8); // drifting in at 1.5 m/s
    c.confirmedTtc(50n * MS, [pt(19.75, -5, 1.9)], 1.8);
    assert.ok(Math.abs(c.confirmedTtc(100n * MS, [pt(19.5, -5, 1.75)], 1.8) - 3.9) < 1e-9);
  });

  it("reports the closing returns confirmed in the lanes beside (left +, right −)", () => {
    const c = new TtcConfirmer();
    for (let k = 0; k < 3; k++) c.confirmedTtc(BigInt(k) * 50n * MS, [pt(20 - k * 0.5, -10, 3.6), pt(40, -2, -3.6)], 1.8);
    assert.ok(Math.abs(c.sideTtc(1, 1.8) - 1.9) < 1e-9);
    assert.ok(Math.abs(c.sideTtc(-1, 1.8) - 20) < 1e-9);
    c.confirmedTtc(150n * MS, [], 1.8);
    assert.ok(Math.abs(c.sideTtc(1, 1.8) - 1.85) < 1e-9, "coasting");
    c.confirmedTtc(200n * MS, [], 1.8);
    c.confirmedTtc(250n * MS, [], 1.8);
    assert.equal(c.sideTtc(1, 1.8), Infinity, "dropped after two missed scans");
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
    assert.ok(confirmed <= 1, `clutter confirmed in ${confirmed} of 1000 scans`);
  });

  it("keeps a pedestrian detected in 60% of scans confirmed in most scans once tracked (3-of-4 alone: a quarter of them)", () => {
    const rand = mulberry32(4);
    const c = new TtcConfirmer();
    let confirmed = 0;
    const scans = 140; // closing at 5 m/s from 40 m to 5 m, a scan every 50 ms
    for (let k = 0; k < scans; k++) {
      const pts = rand() < 0.6 ? [pt(40 - 0.25 * k, -5, 0.5)] : [];
      if (Number.isFinite(c.confirmedTtc(BigInt(k) * 50n * MS, pts, 1.8))) confirmed++;
    }
    assert.ok(confirmed >= 0.55 * scans, // 89 here; 35 without tracks
      `confirmed in ${confirmed} of ${scans} scans`);
  });

  it("ignores returns outside the ego lane and returns that move away", () => {
    const c = new TtcConfirmer();
    c.confirmedTtc(0n, [pt(20, -5, 3), pt(20, 2)], 1.8);
    c.confirmedTtc(50n * MS, [pt(19.75, -5, 3), pt(20.1, 2)], 1.8);
    assert.equal(c.confirmedTtc(100n * MS, [pt(19.5, -5, 3), pt(20.2, 2)], 1.8), Infinity);
  });
});
