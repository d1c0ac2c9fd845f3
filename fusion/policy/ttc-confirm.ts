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
 *
 * A confirmed return becomes a track: a return its prediction meets is confirmed at once, and a track whose
 * return is missed coasts on its prediction for up to `coastScans` scans. Pedestrians are detected in about
 * 60% of scans; without tracks the 3-of-4 rule would see one only in ~40% of them, and the TTC rule would
 * flicker on and off while it walks into the lane.
 *
 * This is the supervisor's one state across frames, kept here and out of the rules: the engine holds one
 * TtcConfirmer per drive, feeds it each new scan, and hands what it confirms to the rules as facts
 * (SensorFacts.minTtcS, sideTtcS, confirmed in supervisor.ts), so that every rule stays a pure function.
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
  /** Scans a confirmed track coasts on its prediction when its return is missed. */
  coastScans: number;
}

export const DEFAULT_TTC_CONFIRM: TtcConfirmConfig = { gateM: 0.5, gatePerM: 0.01, gateMps: 0.6, maxGapS: 0.2, previousScans: 3, minSeen: 2, coastScans: 2 };

interface Track {
  range: number;
  y: number;
  vr: number;
  stampNs: bigint;
  misses: number;
}

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
  private tracks: Track[] = [];
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
    const gateOf = (range: number): number => c.gateM + c.gatePerM * range;
    const predicts = (q: { range: number; y: number; vr: number }, dt: number, p: { range: number; y: number; vr: number }): boolean =>
      Math.abs(q.range + q.vr * dt - p.range) <= gateOf(p.range) && Math.abs(q.y - p.y) <= gateOf(p.range) && Math.abs(q.vr - p.vr) <= c.gateMps;
    const add = (range: number, y: number, vr: number): void => {
      const r = { range, y, closingMps: -vr, ttcS: range / -vr };
      all.push(r);
      if (Math.abs(y) < laneHalfWidthM) {
        best = Math.min(best, r.ttcS);
        confirmed.push(r);
      }
    };
    const tracks: Track[] = [];
    const matched = new Set<Track>();
    for (const p of pts) {
      const track = this.tracks.find((t) => !matched.has(t) && predicts(t, Number(stampNs - t.stampNs) / 1e9, p));
      if (track) matched.add(track);
      const seen =
        track !== undefined ||
        this.history.filter((h) => {
          const dt = Number(stampNs - h.stampNs) / 1e9;
          return dt > 0 && dt <= c.maxGapS && h.pts.some((q) => predicts(q, dt, p));
        }).length >= c.minSeen;
      if (!seen) continue;
      add(p.range, p.y, p.vr);
      tracks.push({ range: p.range, y: p.y, vr: p.vr, stampNs, misses: 0 });
    }
    // Missed tracks coast on their prediction for a few scans.
    for (const t of this.tracks) {
      if (matched.has(t) || t.misses >= c.coastScans) continue;
      const range = t.range + t.vr * (Number(stampNs - t.stampNs) / 1e9);
      if (!(range > 0)) continue;
      add(range, t.y, t.vr);
      tracks.push({ ...t, range, stampNs, misses: t.misses + 1 });
    }
    this.tracks = tracks;
    this.history = [...this.history, { stampNs, pts }].filter((h) => Number(stampNs - h.stampNs) / 1e9 <= c.maxGapS).slice(-c.previousScans);
    this.last = { stampNs, ttc: best, confirmed, all };
    return best;
  }
}
