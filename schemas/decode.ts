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
}

export type DecodeResult = { ok: true; message: SensorMessage } | { ok: false; rejection: Rejection };

export interface DecoderOptions {
  registry?: TopicRegistry;
  codec?: ProtoCodec;
  /** Global payload limit, bytes; the smaller of this and the topic's own limit applies. */
  maxBytes?: number;
}

export class MessageDecoder {
  readonly registry: TopicRegistry;
  readonly codec: ProtoCodec;
  private readonly maxBytes: number;

  constructor(options: DecoderOptions = {}) {
    this.registry = options.registry ?? new TopicRegistry();
    this.codec = options.codec ?? defaultCodec();
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Decodes one raw message, or says why it was rejected. Never throws on bad input. */
  decode(raw: RawMessage): DecodeResult {
    const { topic, payload, receiveNs } = raw;
    const spec = this.registry.lookup(topic);
    if (!spec) return reject(raw, "unknown_topic", `no topic registry entry matches "${topic}"`);
    const limit = Math.min(this.maxBytes, spec.maxBytes);
    if (payload.length > limit) return reject(raw, "oversized", `${payload.length} bytes > limit ${limit} for ${spec.type}`);
    let message;
    try {
      message = this.codec.decode(spec.type, payload);
    } catch (err) {
      return reject(raw, "decode_error", (err as Error).message);
    }
    const stampNs = eventStampNs(message, spec.stampField);
    if (stampNs === undefined) return reject(raw, "invalid", `${spec.type} has no ${spec.stampField} (event time is required)`);
    return { ok: true, message: { topic, type: spec.type, kind: spec.kind, message, stampNs, receiveNs, bytes: payload } };
  }
}

// Module-level, not a closure per call: decode() runs for every message (a closure cost ~0.5 µs each under tsx).
function reject(raw: RawMessage, reason: Rejection["reason"], detail: string): DecodeResult {
  return { ok: false, rejection: { reason, topic: raw.topic, detail, receiveNs: raw.receiveNs, bytes: raw.payload.length } };
}
