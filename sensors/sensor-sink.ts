/**
 * SensorSink: encodes messages (decisions, simulated sensors) with the codec and publishes them on a
 * raw sink, with the QoS and type the topic registry gives the topic.
 */
import { concatMap, type Observable } from "rxjs";
import { FusiondError, MessageDecoder, type BoundTopic, type ProtoCodec, type TopicRegistry } from "../schemas/index.ts";
import type { PublishResult, RawSink, SinkCounters } from "./transport.ts";

export interface Outgoing {
  topic: string;
  /** A plain object with the proto field names of the topic's type. */
  message: object;
}

export class SensorSink {
  readonly codec: ProtoCodec;
  readonly registry: TopicRegistry;

  /** The codec and registry default to those of a default MessageDecoder (the process-wide codec). */
  constructor(
    readonly sink: RawSink,
    options: { codec?: ProtoCodec; registry?: TopicRegistry } = {},
  ) {
    const defaults = options.codec && options.registry ? undefined : new MessageDecoder();
    this.codec = options.codec ?? defaults!.codec;
    this.registry = options.registry ?? defaults!.registry;
  }

  get counters(): Readonly<SinkCounters> {
    return this.sink.counters;
  }

  /**
   * Encodes and publishes one message. Delivery problems come back as a PublishResult (counted by
   * the sink); a topic missing from the registry or a message that does not fit its type is the
   * caller's bug and rejects with FusiondError `unknown_topic` / `invalid_message`.
   */
  async publish(topic: string, message: object): Promise<PublishResult> {
    return this.publishEncoded(topic, this.codec.encode(this.specOf(topic).type, message));
  }

  /**
   * Publishes bytes already encoded as the topic's type (e.g. a decision encoded once for the recorder and
   * every sink), with the topic's QoS. Rejects with `unknown_topic` like publish.
   */
  async publishEncoded(topic: string, bytes: Uint8Array): Promise<PublishResult> {
    const spec = this.specOf(topic);
    return this.sink.publish(topic, bytes, { qos: spec.qos, type: spec.type });
  }

  private specOf(topic: string): BoundTopic {
    const spec = this.registry.lookup(topic);
    if (!spec) throw new FusiondError("unknown_topic", `no topic registry entry matches "${topic}"`, { topic });
    return spec;
  }

  /** Publishes a stream one message at a time (each waits for the previous one: backpressure). */
  publishAll(outgoing: Observable<Outgoing>): Observable<PublishResult> {
    return outgoing.pipe(concatMap((o) => this.publish(o.topic, o.message)));
  }
}
