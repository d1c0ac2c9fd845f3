/**
 * SensorSource: a raw transport subscription turned into `Observable<SensorMessage>` through the one
 * decode path (schemas' MessageDecoder). Bad input — unknown topic, oversized, undecodable, invalid —
 * becomes a counted Rejection on `rejections` and the stream goes on.
 */
import { Observable, Subject, type Subscription } from "rxjs";
import { MessageDecoder, type RejectReason, type Rejection, type SensorMessage } from "../schemas/index.ts";
import type { RawSource } from "./transport.ts";

export interface SourceCounters {
  /** Raw messages that reached the decoder. */
  received: number;
  /** Decoded and emitted. */
  accepted: number;
  /** Rejections by reason (including those the transport itself made, e.g. bad ZeroMQ framing). */
  rejected: Record<RejectReason, number>;
}

const zeroByReason = (): Record<RejectReason, number> => ({
  decode_error: 0,
  wrong_type: 0,
  oversized: 0,
  unknown_topic: 0,
  invalid: 0,
  future: 0,
  late: 0,
  duplicate: 0,
  out_of_order: 0,
  queue_overflow: 0,
  send_failed: 0,
});

export class SensorSource {
  readonly counters: SourceCounters = { received: 0, accepted: 0, rejected: zeroByReason() };
  private readonly rejected = new Subject<Rejection>();
  /** Every rejection, as it happens (hot; completes on close()). */
  readonly rejections: Observable<Rejection> = this.rejected.asObservable();
  readonly decoder: MessageDecoder;
  private readonly transportRejections: Subscription;

  constructor(
    readonly transport: RawSource,
    decoder: MessageDecoder = new MessageDecoder(),
  ) {
    this.decoder = decoder;
    this.transportRejections = transport.rejections.subscribe((r) => this.reject(r));
  }

  /**
   * Decoded messages on the given patterns (default: every registry topic). Each subscription takes
   * its own transport subscription; unsubscribing releases it.
   */
  messages(patterns: readonly string[] = this.decoder.registry.topics.map((t) => t.pattern)): Observable<SensorMessage> {
    const raw = this.transport.subscribe(patterns);
    const decoder = this.decoder;
    const counters = this.counters;
    return new Observable<SensorMessage>((subscriber) =>
      raw.subscribe({
        next: (msg) => {
          counters.received++;
          const result = decoder.decode(msg);
          if (result.ok) {
            counters.accepted++;
            subscriber.next(result.message);
          } else {
            this.reject(result.rejection);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
  }

  /** Stops forwarding transport rejections and completes `rejections`. Does not close the transport (its owner does). */
  close(): void {
    this.transportRejections.unsubscribe();
    this.rejected.complete();
  }

  private reject(r: Rejection): void {
    this.counters.rejected[r.reason]++;
    this.rejected.next(r);
  }
}
