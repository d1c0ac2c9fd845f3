/**
 * How late the simulator hands each message to its sink, after the message's stamp (live mode): per kind
 * (camera, radar, ego, ...), a fixed histogram (0.1 ms buckets up to 100 ms, 1 ms buckets up to 5 s) and the max, so memory is
 * constant whatever the length of the drive. At sensor latency 0 a message is due at its stamp, and what
 * this shows is the simulator's own lateness (its main thread busy, its timers late), before any transport.
 */

/** Fine buckets (0.1 ms) up to FINE_MS, then 1 ms buckets up to 5 s; beyond that the max. */
const FINE_MS = 100;
const FINE = 1000;
const BUCKETS = FINE + 4900;
const bucketOf = (ms: number): number => (ms <= FINE_MS ? Math.max(0, Math.ceil(ms * 10)) : Math.min(BUCKETS, FINE + Math.ceil(ms - FINE_MS)));
const upperMs = (i: number): number => (i <= FINE ? i / 10 : FINE_MS + (i - FINE));

export interface LatenessSummary {
  n: number;
  /** Quantiles as the upper bound of their bucket (0.1 ms up to 100 ms, 1 ms up to 5 s, the max beyond), ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

class LateHistogram {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  private n = 0;
  private max = 0;

  observe(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.n++;
    if (ms > this.max) this.max = ms;
  }

  summary(): LatenessSummary {
    const q = (p: number): number => {
      const rank = Math.max(1, Math.ceil(p * this.n));
      let seen = 0;
      for (let i = 0; i <= BUCKETS; i++) {
        seen += this.counts[i]!;
        if (seen >= rank) return i < BUCKETS ? Math.min(this.max, upperMs(i)) : this.max;
      }
      return this.max;
    };
    return { n: this.n, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: this.max };
  }
}

/** Send lateness per message kind (the kinds an episode emits: a bounded set). */
export class SendLateness {
  private readonly byKind = new Map<string, LateHistogram>();

  observe(kind: string, lateMs: number): void {
    let h = this.byKind.get(kind);
    if (!h) this.byKind.set(kind, (h = new LateHistogram()));
    h.observe(lateMs);
  }

  summary(): Record<string, LatenessSummary> {
    return Object.fromEntries([...this.byKind].map(([k, h]) => [k, h.summary()]));
  }
}
