/**
 * Time-to-collision from confirmed radar returns only. A single radar scan carries stationary clutter
 * (guardrails, signs, the road) at random places; a clutter return that happens to fall in the ego lane
 * closes at the ego's own speed and, taken at face value, asks for a hard brake from nothing (phantom
 * braking: in the simulator's drives it replaced a calm KEEP in about one frame in ten). A real obstacle is
 * there scan after scan where its previous range, lateral offset and closing speed say it should be. So a return counts
 * for the safety rule only when one of the two previous scans had a return that predicts it (2-of-3: one
 * missed detection does not hide a pedestrian) — the confirmation costs one scan (50 ms at 20 Hz).
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
}

export const DEFAULT_TTC_CONFIRM: TtcConfirmConfig = { gateM: 0.5, gatePerM: 0.01, gateMps: 0.6, maxGapS: 0.15 };

interface Scan {
  stampNs: bigint;
  /** In-lane returns ahead that approach. */
  pts: { range: number; y: number; vr: number }[];
}

export class TtcConfirmer {
  private history: Scan[] = [];
  private last: { stampNs: bigint; ttc: number; confirmed: { range: number; closingMps: number }[] } | undefined;

  /** The confirmed in-lane approaching returns of the latest scan (range m, closing speed m/s > 0). */
  get confirmed(): readonly { range: number; closingMps: number }[] {
    return this.last?.confirmed ?? [];
  }

  constructor(private readonly cfg: TtcConfirmConfig = DEFAULT_TTC_CONFIRM) {}

  /** Smallest TTC among the confirmed in-lane returns of the scan stamped stampNs (Infinity: none). */
  confirmedTtc(stampNs: bigint, points: readonly RadarPoint[], laneHalfWidthM: number): number {
    if (this.last && this.last.stampNs === stampNs) return this.last.ttc; // the same scan in the next frame
    const pts = points.filter((p) => Math.abs(p.y) < laneHalfWidthM && Number.isFinite(ttcOf(p))).map((p) => ({ range: p.range, y: p.y, vr: p.vr }));
    const c = this.cfg;
    let best = Infinity;
    const confirmed: { range: number; closingMps: number }[] = [];
    for (const p of pts) {
      const seen = this.history.some((h) => {
        const dt = Number(stampNs - h.stampNs) / 1e9;
        if (!(dt > 0 && dt <= c.maxGapS)) return false;
        const gate = c.gateM + c.gatePerM * p.range;
        return h.pts.some((q) => Math.abs(q.range + q.vr * dt - p.range) <= gate && Math.abs(q.y - p.y) <= gate && Math.abs(q.vr - p.vr) <= c.gateMps);
      });
      if (seen) {
        best = Math.min(best, p.range / -p.vr);
        confirmed.push({ range: p.range, closingMps: -p.vr });
      }
    }
    this.history = [...this.history, { stampNs, pts }].filter((h) => Number(stampNs - h.stampNs) / 1e9 <= c.maxGapS).slice(-2);
    this.last = { stampNs, ttc: best, confirmed };
    return best;
  }
}
