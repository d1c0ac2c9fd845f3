/** Every error fusiond raises on purpose carries a stable `code` and the context it happened in. */
export class FusiondError extends Error {
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;
  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FusiondError";
    this.code = code;
    this.context = context;
  }
}

/** Why an input message was rejected. Rejections are counted by reason and never stop a stream. */
export type RejectReason =
  | "decode_error" // the payload is not a valid message of the topic's type
  | "wrong_type" // protobuf, but of another type: an unknown field, a wire-type mismatch, or an MQTT 5 schema/content type naming another
  | "oversized" // larger than the configured payload limit
  | "unknown_topic" // no registry entry matches the topic
  | "invalid" // decoded, but failed validation (missing stamp, NaN, out of range)
  | "future" // stamped further ahead of its receive time than the pipeline allows (a sender's clock is ahead)
  | "late" // older than the allowed lateness
  | "duplicate" // same topic and stamp as one already taken
  | "out_of_order" // stamp went backwards on its topic
  | "queue_overflow" // a bounded queue was full
  | "send_failed"; // a sink could not deliver (e.g. ZeroMQ high-water mark)

/** One rejected input, with enough context to find it again. */
export interface Rejection {
  reason: RejectReason;
  topic: string;
  detail: string;
  /** Receive time, ns (the clock of whoever rejected it). */
  receiveNs: bigint;
  /** Payload size in bytes, when there was a payload. */
  bytes?: number;
}
