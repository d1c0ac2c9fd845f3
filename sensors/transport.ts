/**
 * The raw transport ports. A transport moves protobuf bytes on topics; it knows nothing of message
 * types beyond what it needs on the wire (the MQTT 5 `schema` property). Decoding is SensorSource's job.
 *
 * Capabilities are types, as in zeromq.js: a `RawSource` can only be subscribed to, a `RawSink` can
 * only be published to; MQTT and the in-memory fake are both (`Transport`), a ZeroMQ SUB socket is
 * only a source and a PUB socket only a sink, so publishing on a source fails at compile time.
 */
import type { Observable } from "rxjs";
import type { QoS, RawMessage, Rejection } from "../schemas/index.ts";

/** A clock giving nanoseconds; injected (only bin/ picks the wall clock). Used for receive stamps. */
export type NowNs = () => bigint;

export interface RawSource {
  /**
   * Subscribes to MQTT-style patterns (`+` one level, `#` the rest). Each subscription of the
   * returned Observable takes its own broker subscription (or socket); unsubscribing releases it.
   * Messages of one topic arrive in the order they were published. Closing the transport completes
   * the Observable; it errors only when the subscription itself fails (refused by the broker).
   */
  subscribe(patterns: readonly string[]): Observable<RawMessage>;
  /**
   * Input the transport itself could not turn into a RawMessage (e.g. a ZeroMQ message that is
   * not two frames). Hot; never errors.
   */
  readonly rejections: Observable<Rejection>;
  /** Releases every socket; completes open subscriptions. Idempotent. */
  close(): Promise<void>;
}

export interface PublishOptions {
  /** Delivery guarantee (MQTT); ignored by ZeroMQ, which has none. */
  qos: QoS;
  /** Full protobuf type name, sent as the MQTT 5 `schema` user property when the broker speaks MQTT 5. */
  type?: string;
}

/**
 * What became of one publish. Delivery failures are results, not exceptions: a sink never throws
 * at its caller for a full queue or a broken link, it says so and counts it.
 */
export type PublishResult =
  | { ok: true }
  | { ok: false; reason: "queue_overflow" | "send_failed" | "closed"; detail: string };

/** Counters a sink keeps; monotonically increasing. */
export interface SinkCounters {
  /** Publishes that the transport took (MQTT: written at QoS 0, acknowledged at QoS 1/2). */
  sent: number;
  /** Refused because `maxInFlight` publishes were already pending. */
  queueOverflow: number;
  /** The transport refused or lost it (ZeroMQ high-water mark, MQTT error). */
  sendFailed: number;
}

export interface RawSink {
  /**
   * Publishes one message. Backpressure is explicit: at most `maxInFlight` publishes may be
   * pending; beyond that the call resolves at once with `queue_overflow` (counted) instead of
   * queueing without bound. Await each call to go no faster than the transport.
   */
  publish(topic: string, payload: Uint8Array, options: PublishOptions): Promise<PublishResult>;
  /** Publishes pending right now (for callers that pace themselves). */
  readonly inFlight: number;
  readonly counters: Readonly<SinkCounters>;
  /** Waits for pending publishes (bounded by the implementation's linger), then releases every socket. Idempotent. */
  close(): Promise<void>;
}

/** A transport that is both (MQTT, the in-memory fake). */
export interface Transport extends RawSource, RawSink {}

export const newSinkCounters = (): SinkCounters => ({ sent: 0, queueOverflow: 0, sendFailed: 0 });
