/** Neighbour queries over the ego and the traffic: leaders and followers in a lateral corridor. */
import type { Ego, World } from "./types.ts";

/** A body on the road, as the neighbour queries see it. */
export interface Body {
  id: number;
  s: number;
  d: number;
  v: number;
  lengthM: number;
  widthM: number;
}

/** The ego's id in neighbour queries. */
export const EGO_ID = 0;

export function egoBody(e: Ego): Body {
  return { id: EGO_ID, s: e.s, d: e.d, v: e.v, lengthM: e.lengthM, widthM: e.widthM };
}

/** Every body on the road: the ego first, then the traffic. */
export function bodies(w: World): Body[] {
  const out: Body[] = [egoBody(w.ego)];
  for (const v of w.vehicles) out.push(v);
  return out;
}

/** Does a body overlap the lateral corridor [lo, hi] by more than `slack` metres? */
export function inCorridor(b: Body, lo: number, hi: number, slack = 0.3): boolean {
  return Math.min(b.d + b.widthM / 2, hi) - Math.max(b.d - b.widthM / 2, lo) > slack;
}

export interface Neighbour {
  body: Body;
  /** Bumper-to-bumper gap, m (negative: overlapping). */
  gap: number;
}

/**
 * The nearest body ahead of (or behind) station s, of a subject of length `len`, in the corridor.
 * Bodies with the same id as `selfId` are skipped.
 */
export function nearest(all: readonly Body[], selfId: number, s: number, len: number, lo: number, hi: number, ahead: boolean): Neighbour | undefined {
  let best: Neighbour | undefined;
  for (const b of all) {
    if (b.id === selfId) continue;
    if (ahead ? b.s < s : b.s >= s) continue;
    if (!inCorridor(b, lo, hi)) continue;
    const gap = ahead ? b.s - s - (b.lengthM + len) / 2 : s - b.s - (b.lengthM + len) / 2;
    if (!best || gap < best.gap) best = { body: b, gap };
  }
  return best;
}

/** Lateral corridor of a lane (its full width). */
export function laneCorridor(laneWidthM: number, lane: number): [number, number] {
  return [lane * laneWidthM, (lane + 1) * laneWidthM];
}

/** Bodies overlap (collision). */
export function overlaps(a: Body, b: Body): boolean {
  return Math.abs(a.s - b.s) < (a.lengthM + b.lengthM) / 2 && Math.abs(a.d - b.d) < (a.widthM + b.widthM) / 2;
}

/** Quintic smoothstep for lane changes: zero speed and acceleration at both ends. */
export function smooth(x: number): number {
  const t = Math.min(1, Math.max(0, x));
  return t * t * t * (10 + t * (-15 + 6 * t));
}
