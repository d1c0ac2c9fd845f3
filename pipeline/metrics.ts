/**
 * Pipeline metrics: a fixed-bucket latency histogram (Prometheus-style cumulative buckets, so the
 * daemon can export it as is) and the snapshot the graph publishes. Memory is constant.
 */
import type { RejectReason } from "../schemas/errors.ts";
import type { DecisionLiveness } from "./decision-liveness.ts";
import type { DropReason } from "./drops.ts";

/** Upper bounds in ns: 1 ms … 10 s. */
export const LATENCY_BUCKETS_NS: readonly bigint[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].map((ms) => BigInt(ms) * 1_000_000n);

export interface HistogramSnapshot {
  /** Upper bounds (ns) and how many observations were ≤ each (cumulative); the last bound is +Inf. */
  buckets: Array<{ leNs: bigint | "+Inf"; count: number }>;
  count: number;
  sumNs: bigint;
  minNs: bigint | null;
  maxNs: bigint | null;
}

export class Histogram {
  private readonly counts: number[];
  private n = 0;
  private sum = 0n;
  private min: bigint | null = null;
  private max: bigint | null = null;

  constructor(readonly boundsNs: readonly bigint[] = LATENCY_BUCKETS_NS) {
    this.counts = new Array<number>(boundsNs.length + 1).fill(0);
  }

  observe(ns: bigint): void {
    let i = 0;
    while (i < this.boundsNs.length && ns > this.boundsNs[i]!) i++;
    this.counts[i]!++;
    this.n++;
    this.sum += ns;
    if (this.min === null || ns < this.min) this.min = ns;
    if (this.max === null || ns > this.max) this.max = ns;
  }

  /** The q-quantile (0..1) as the upper bound of its bucket (the max for the overflow bucket). */
  quantileNs(q: number): bigint | null {
    if (!this.n) return null;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i < this.boundsNs.length ? this.boundsNs[i]! : this.max;
    }
    return this.max;
  }

  snapshot(): HistogramSnapshot {
    let cumulative = 0;
    const buckets: HistogramSnapshot["buckets"] = this.boundsNs.map((leNs, i) => ({ leNs, count: (cumulative += this.counts[i]!) }));
    buckets.push({ leNs: "+Inf", count: this.n });
    return { buckets, count: this.n, sumNs: this.sum, minNs: this.min, maxNs: this.max };
  }
}

export interface TopicCounts {
  in: number;
  accepted: number;
  rejected: number;
}

export interface PipelineMetrics {
  /** Scheduler time of the snapshot, ns. */
  atNs: bigint;
  /** Messages from the sources (after decoding), per topic: in, accepted by validation, rejected. */
  topics: Record<string, TopicCounts>;
  messagesIn: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Frames emitted by the aligner, and why each left: final by the watermark, deadline, overflow, end of input. */
  frames: number;
  framesBy: { final: number; deadline: number; overflow: number; flushed: number };
  decisions: number;
  /** Every drop, by stage, topic and reason (validation rejections included as stage "validate"). */
  drops: Array<{ stage: string; topic: string; reason: DropReason; count: number }>;
  dropsTotal: number;
  /** From the last input's receive time to the decision, ns. */
  latency: HistogramSnapshot;
  /** From the frame's capture stamp (reference camera) to the decision, ns: the latency a user sees. */
  sensorToDecision: HistogramSnapshot;
  /** How long the aligner held each frame: emission − reference receive time, ns. */
  alignerWait: HistogramSnapshot;
  /** Topics tracked by health, and how many are not ok. */
  healthTopics: number;
  unhealthyTopics: number;
  /** Whether arriving reference frames are turned into decisions (pipeline/decision-liveness.ts). */
  liveness: DecisionLiveness;
  /** The sources have ended and every frame in flight has been decided. */
  done: boolean;
}
