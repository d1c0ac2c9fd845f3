/**
 * Time-to-collision from confirmed radar returns only. A single radar scan carries stationary clutter
 * (guardrails, signs, the road) at random places; a clutter return that happens to fall in the ego lane
 * closes at the ego's own speed and, taken at face value, asks for a hard brake from nothing (phantom
 * braking: in the simulator's drives it replaced a calm KEEP in about one frame in ten). A real obstacle is
 * there scan after scan where its previous range, lateral offset and closing speed say it should be. So a return counts
 * for the safety rule only when two of the three previous scans had a return that predicts it (3-of-4, the
 * M-of-N confirmation of radar trackers: one missed detection does not hide a pedestrian). 2-of-3 was not
 * enough: with 4–10 clutter returns a scan, chance pairs still asked for a hard brake from nothing about once
 * a minute of driving in the held-out drives. The confirmation costs two scans (100 ms at 20 Hz) for an
 * obstacle that appears from nowhere; one tracked for longer is confirmed at once.
 */
import type { RadarPoint } from "../features/radar.ts";
import { ttcOf } from "../features/radar.ts";

export interface TtcConfirmConfig {
  /** Range and lateral gates around the predicted position: base + per metre of range, m. */
  gateM: number;
  gatePerM: number;
  /** Radial velocity gate, m/s. */
  gateMps: number;
  /** Scans older than this cannot confirm, s. */
  maxGapS: number;
  /** How many previous scans are kept, and in how many of them a return must have been predicted. */
  previousScans: number;
  minSeen: number;
}

export const DEFAULT_TTC_CONFIRM: TtcConfirmConfig = { gateM: 0.5, gatePerM: 0.01, gateMps: 0.6, maxGapS: 0.2, previousScans: 3, minSeen: 2 };

interface Scan {
  stampNs: bigint;
  /** Returns ahead that approach, wherever they are laterally (a cut-in is tracked before it enters the lane). */
  pts: { range: number; y: number; vr: number }[];
}

/** A confirmed approaching return: range m, lateral offset m (left +), closing speed m/s (> 0), TTC s. */
export interface ConfirmedReturn {
  range: number;
  y: number;
  closingMps: number;
  ttcS: number;
}

export class TtcConfirmer {
  private history: Scan[] = [];
  private last: { stampNs: bigint; ttc: number; confirmed: ConfirmedReturn[]; all: ConfirmedReturn[] } | undefined;

  /** The confirmed in-lane approaching returns of the latest scan. */
  get confirmed(): readonly ConfirmedReturn[] {
    return this.last?.confirmed ?? [];
  }

  /**
   * Smallest TTC among the latest scan's confirmed approaching returns in the lane beside the ego lane
   * (dir +1: left, −1: right; lanes as wide as the ego lane), s; Infinity when none.
   */
  sideTtc(dir: 1 | -1, laneHalfWidthM: number): number {
    let best = Infinity;
    for (const r of this.last?.all ?? []) {
      const y = r.y * dir;
      if (y >= laneHalfWidthM && y < 3 * laneHalfWidthM) best = Math.min(best, r.ttcS);
    }
    return best;
  }

  constructor(private readonly cfg: TtcConfirmConfig = DEFAULT_TTC_CONFIRM) {}

  /** Smallest TTC among the confirmed in-lane returns of the scan stamped stampNs (Infinity: none). */
  confirmedTtc(stampNs: bigint, points: readonly RadarPoint[], laneHalfWidthM: number): number {
    if (this.last && this.last.stampNs === stampNs) return this.last.ttc; // the same scan in the next frame
    const pts = points.filter((p) => Number.isFinite(ttcOf(p))).map((p) => ({ range: p.range, y: p.y, vr: p.vr }));
    const c = this.cfg;
    let best = Infinity;
    const confirmed: ConfirmedReturn[] = [];
    const all: ConfirmedReturn[] = [];
    for (const p of pts) {
      const seen = this.history.filter((h) => {
        const dt = Number(stampNs - h.stampNs) / 1e9;
        if (!(dt > 0 && dt <= c.maxGapS)) return false;
        const gate = c.gateM + c.gatePerM * p.range;
        return h.pts.some((q) => Math.abs(q.range + q.vr * dt - p.range) <= gate && Math.abs(q.y - p.y) <= gate && Math.abs(q.vr - p.vr) <= c.gateMps);
      }).length;
      if (seen < c.minSeen) continue;
      const r = { range: p.range, y: p.y, closingMps: -p.vr, ttcS: p.range / -p.vr };
      all.push(r);
      if (Math.abs(p.y) < laneHalfWidthM) {
        best = Math.min(best, r.ttcS);
        confirmed.push(r);
      }
    }
    this.history = [...this.history, { stampNs, pts }].filter((h) => Number(stampNs - h.stampNs) / 1e9 <= c.maxGapS).slice(-c.previousScans);
    this.last = { stampNs, ttc: best, confirmed, all };
    return best;
  }
}
