/**
 * The one decode path from raw bytes on a topic to a SensorMessage, shared by every source
 * (MQTT, ZeroMQ, MCAP replay) so that replay exercises exactly what a live drive does.
 */
import { defaultCodec, type ProtoCodec } from "./codec.ts";
import type { Rejection } from "./errors.ts";
import { eventStampNs } from "./stamp.ts";
import { TopicRegistry } from "./topics.ts";
import type { SensorMessage } from "./types.ts";

/** Bytes as a transport delivered them. */
export interface RawMessage {
  topic: string;
  payload: Uint8Array;
  /** Receive time on this host, ns (or the recorded log_time on replay). */
  receiveNs: bigint;
  /** MQTT 5 user property `schema` as sent (the full message name), when the transport carries one. */
  schema?: string;
  /** MQTT 5 content type as sent, when the transport carries one. */
  contentType?: string;
}

/** The content type fusiond's MQTT 5 publishers put on protobuf payloads (docs/architecture.md §2). */
export const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";

export type DecodeResult = { ok: true; message: SensorMessage } | { ok: false; rejection: Rejection };

export interface DecoderOptions {
  registry?: TopicRegistry;
  codec?: ProtoCodec;
  /** Global payload limit, bytes; the smaller of this and the topic's own limit applies. */
  maxBytes?: number;
  /**
   * Topics accepted among those the registry knows (e.g. a SensorAllowList's `accepts`); any other is
   * rejected as `unknown_topic` before its payload is looked at. Default: every registry topic.
   */
  acceptTopic?: (topic: string) => boolean;
  /**
   * Strict wire check (default true): a payload with a field its topic's type does not declare, or a
   * field in another wire type, is rejected as `wrong_type` (ProtoCodec.decodeStrict).
   */
  strict?: boolean;
}

export class MessageDecoder {
  readonly registry: TopicRegistry;
  readonly codec: ProtoCodec;
  private readonly maxBytes: number;
  private readonly acceptTopic: ((topic: string) => boolean) | undefined;
  private readonly strict: boolean;

  constructor(options: DecoderOptions = {}) {
    this.registry = options.registry ?? new TopicRegistry();
    this.codec = options.codec ?? defaultCodec();
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.acceptTopic = options.acceptTopic;
    this.strict = options.strict ?? true;
  }

  /** Decodes one raw message, or says why it was rejected. Never throws on bad input. */
  decode(raw: RawMessage): DecodeResult {
    const { topic, payload, receiveNs } = raw;
    const spec = this.registry.lookup(topic);
    if (!spec) return reject(raw, "unknown_topic", `no topic registry entry matches "${clip(topic)}"`);
    if (this.acceptTopic && !this.acceptTopic(topic)) return reject(raw, "unknown_topic", `"${clip(topic)}" is not an accepted sensor id (name it in the config's sensors list or --sensor)`);
    const limit = Math.min(this.maxBytes, spec.maxBytes);
    if (payload.length > limit) return reject(raw, "oversized", `${payload.length} bytes > limit ${limit} for ${spec.type}`);
    if (raw.schema !== undefined && raw.schema !== spec.type) return reject(raw, "wrong_type", `MQTT 5 schema "${clip(raw.schema)}" on a ${spec.type} topic`);
    if (raw.contentType !== undefined && raw.contentType !== PROTOBUF_CONTENT_TYPE) {
      return reject(raw, "wrong_type", `MQTT 5 content type "${clip(raw.contentType)}", expected ${PROTOBUF_CONTENT_TYPE}`);
    }
    let message;
    if (this.strict) {
      const r = this.codec.decodeChecked(spec.type, payload);
      if (!r.ok) return reject(raw, r.code, r.detail);
      message = r.message;
    } else {
      try {
        message = this.codec.decode(spec.type, payload);
      } catch (err) {
        return reject(raw, "decode_error", (err as Error).message);
      }
    }
    const stampNs = eventStampNs(message, spec.stampField);
    if (stampNs === undefined) return reject(raw, "invalid", `${spec.type} has no ${spec.stampField} (event time is required)`);
    // The registry's entry says which type the topic carries, and the decode above was of exactly that type:
    // the one place where a kind is joined to its message type (TopicSpec checks the pairing at compile time).
    const decoded = { topic, type: spec.type, kind: spec.kind, message, stampNs, receiveNs, bytes: payload } as SensorMessage;
    return { ok: true, message: decoded };
  }
}

// Module-level, not a closure per call: decode() runs for every message (a closure cost ~0.5 µs each under tsx).
function reject(raw: RawMessage, reason: Rejection["reason"], detail: string): DecodeResult {
  return { ok: false, rejection: { reason, topic: raw.topic, detail, receiveNs: raw.receiveNs, bytes: raw.payload.length } };
}

/** Names from the wire are shown, never trusted to be short: a log line stays a line. */
function clip(s: string): string {
  return s.length > 160 ? `${s.slice(0, 160)}…(${s.length} chars)` : s;
}
