/** The timeline of one episode for the report: decisions vs the expert vs sensor health, step by step. Pure. */
import type { Timeline } from "./report.ts";

export interface TimelinePoint {
  tS: number;
  decision: string;
  expert: string;
  sensors: Record<string, "ok" | "stale" | "missing">;
  speedMps?: number;
  collision?: boolean;
}

/** At most `maxPoints` points (every k-th; a collision onset is always kept), times from the first point. */
export function buildTimeline(episode: string, source: Timeline["source"], points: readonly TimelinePoint[], maxPoints = 1500): Timeline {
  const k = Math.max(1, Math.ceil(points.length / maxPoints));
  const kept = points.filter((p, i) => i % k === 0 || p.collision);
  const t0 = kept[0]?.tS ?? 0;
  const sensors: Timeline["sensors"] = {};
  for (const m of Object.keys(kept[0]?.sensors ?? {})) sensors[m] = kept.map((p) => p.sensors[m] ?? "missing");
  const out: Timeline = {
    episode,
    source,
    t: kept.map((p) => Math.round((p.tS - t0) * 1000) / 1000),
    decision: kept.map((p) => p.decision),
    expert: kept.map((p) => p.expert),
    sensors,
  };
  if (kept.some((p) => p.speedMps !== undefined)) out.speedMps = kept.map((p) => p.speedMps ?? 0);
  const collisions = kept.flatMap((p, i) => (p.collision ? [i] : []));
  if (source === "closed-loop" || collisions.length) out.collisions = collisions;
  return out;
}
