/**
 * Counted drops. Every bounded buffer and every rejecting stage in pipeline/ reports what it
 * threw away as a DropEvent, counted by (stage, topic, reason); nothing is dropped silently.
 */
import type { RejectReason } from "../schemas/errors.ts";

/**
 * Why a message (or a frame) was thrown away. The RejectReason values cover bad or late input;
 * the others are policy decisions of a stage:
 * - `conflated`: a conflating buffer replaced it with a newer item;
 * - `decide_error`: the injected decide() failed for this frame.
 */
export type DropReason = RejectReason | "conflated" | "decide_error";

export interface DropEvent {
  /** The stage that dropped it, e.g. "validate", "align", "decide". */
  stage: string;
  topic: string;
  reason: DropReason;
  /** Event stamp of what was dropped, ns, when it had one. */
  stampNs?: bigint;
}

/** Counts drops by stage, topic and reason. Memory is bounded by the number of distinct keys. */
export class DropCounter {
  private readonly counts = new Map<string, { stage: string; topic: string; reason: DropReason; count: number }>();
  private totalCount = 0;

  /** Counts one drop (and returns it, for chaining into a stream). */
  add(event: DropEvent): DropEvent {
    const key = `${event.stage}\u0000${event.topic}\u0000${event.reason}`;
    const hit = this.counts.get(key);
    if (hit) hit.count++;
    else this.counts.set(key, { stage: event.stage, topic: event.topic, reason: event.reason, count: 1 });
    this.totalCount++;
    return event;
  }

  get total(): number {
    return this.totalCount;
  }

  /** How many drops match the given fields (all of them when none is given). */
  count(filter: Partial<Pick<DropEvent, "stage" | "topic" | "reason">> = {}): number {
    let n = 0;
    for (const c of this.counts.values()) {
      if (filter.stage !== undefined && c.stage !== filter.stage) continue;
      if (filter.topic !== undefined && c.topic !== filter.topic) continue;
      if (filter.reason !== undefined && c.reason !== filter.reason) continue;
      n += c.count;
    }
    return n;
  }

  /** Every (stage, topic, reason) with its count, sorted for stable output. */
  snapshot(): Array<{ stage: string; topic: string; reason: DropReason; count: number }> {
    return [...this.counts.values()]
      .map((c) => ({ ...c }))
      .sort((a, b) => (a.stage + a.topic + a.reason < b.stage + b.topic + b.reason ? -1 : 1));
  }
}
