/**
 * Decision liveness: are reference frames arriving while no decision comes out? Sensor health says
 * whether inputs arrive; this says whether the pipeline turns them into decisions. A stalled pipeline —
 * every frame dropped as late behind a hijacked watermark, a model that hangs, a stage that swallows
 * everything — is `stalled` once `stallFrames` reference messages have arrived since the last decision,
 * and stays so until the next decision. /healthz turns that into 503 with the reason.
 *
 * Pure: callers pass the scheduler time. Only topics that validation has accepted before count as
 * references, so stray or hostile camera ids cannot fake a stall (nor hide one on a known topic).
 */
import { NS_PER_MS } from "../schemas/time.ts";

export interface DecisionLivenessOptions {
  /** Reference messages since the last decision that mean "stalled" (default 10: half a second at 20 Hz). */
  stallFrames?: number;
  /** Most reference topics remembered (default 64). */
  maxTopics?: number;
}

export interface DecisionLiveness {
  stalled: boolean;
  /** Reference messages that arrived since the last decision (or since start). */
  referencesSinceDecision: number;
  /** Scheduler time of the last decision, ns; null before the first. */
  lastDecisionNs: bigint | null;
  /** Scheduler time of the last reference message, ns; null before the first. */
  lastReferenceNs: bigint | null;
  /** Why it is stalled, in words (absent when not stalled). */
  reason?: string;
}

export class DecisionLivenessMonitor {
  private readonly stallFrames: number;
  private readonly maxTopics: number;
  private readonly known = new Set<string>();
  private since = 0;
  private lastDecision: bigint | null = null;
  private lastReference: bigint | null = null;
  private firstReferenceSince: bigint | null = null;
  /** Times the pipeline went from deciding to stalled. */
  stalls = 0;

  constructor(options: DecisionLivenessOptions = {}) {
    this.stallFrames = options.stallFrames ?? 10;
    this.maxTopics = options.maxTopics ?? 64;
    if (!(this.stallFrames >= 1)) throw new RangeError("decision liveness stallFrames must be ≥ 1");
  }

  /** A reference topic whose message passed validation: from now on its arrivals count. */
  accepted(topic: string): void {
    if (this.known.size < this.maxTopics) this.known.add(topic);
  }

  /** A message arrived on a reference topic (before validation: a rejected frame is still a frame that came). */
  arrived(topic: string, nowNs: bigint): void {
    if (!this.known.has(topic)) return;
    this.since++;
    this.lastReference = nowNs;
    this.firstReferenceSince ??= nowNs;
    if (this.since === this.stallFrames) this.stalls++;
  }

  decision(nowNs: bigint): void {
    this.since = 0;
    this.lastDecision = nowNs;
    this.firstReferenceSince = null;
  }

  snapshot(nowNs: bigint): DecisionLiveness {
    const stalled = this.since >= this.stallFrames;
    const out: DecisionLiveness = {
      stalled,
      referencesSinceDecision: this.since,
      lastDecisionNs: this.lastDecision,
      lastReferenceNs: this.lastReference,
    };
    if (stalled) {
      const from = this.lastDecision ?? this.firstReferenceSince ?? nowNs;
      const ms = Number((nowNs - from) / NS_PER_MS);
      out.reason = `no decision for ${ms} ms while ${this.since} reference frames arrived${this.lastDecision === null ? " (none since start)" : ""}`;
    }
    return out;
  }
}
