/**
 * The MQTT transport on mqtt.js v5: a source and a sink over one client connection.
 * Subscription QoS per pattern comes from the topic registry; on MQTT 5 each publish carries
 * content type `application/x-protobuf` and user property `schema` = the full type name. The type
 * of an incoming message always comes from the registry (aedes speaks 3.1.1 and carries no properties);
 * an incoming message's content type and `schema`, when present, are passed on in the RawMessage and
 * the decoder rejects the message as `wrong_type` where they name another type.
 */
import type { IClientPublishOptions, IClientSubscribeOptions, IPublishPacket, MqttClient } from "mqtt";
import { Observable, Subject, type Subscriber } from "rxjs";
import { FusiondError, PROTOBUF_CONTENT_TYPE, TopicRegistry, type QoS, type RawMessage, type Rejection } from "../schemas/index.ts";
import { connectMqtt, type MqttConnectOptions } from "./mqtt-connect.ts";
import { compilePatterns, type TopicMatcher } from "./patterns.ts";
import { PublishGate } from "./publish-gate.ts";
import type { NowNs, PublishOptions, PublishResult, SinkCounters, Transport } from "./transport.ts";

export { PROTOBUF_CONTENT_TYPE };

export interface MqttTransportOptions extends MqttConnectOptions {
  now: NowNs;
  /** Decides subscription QoS per pattern (the highest QoS of the registry entries it can match). */
  registry?: TopicRegistry;
  /** QoS for a pattern that matches no registry entry (default 0). */
  defaultQos?: QoS;
  /** Publishes allowed pending at once (default 1000). */
  maxInFlight?: number;
  /** How long close() waits for pending QoS 1/2 acknowledgements before forcing (default 2000 ms). */
  closeTimeoutMs?: number;
}

interface LocalSubscription {
  matches: TopicMatcher;
  /** This subscription's patterns with their MQTT 5 subscription identifiers, lowest id first. */
  byId: Array<{ id: number; matches: TopicMatcher }>;
  subscriber: Subscriber<RawMessage>;
}

export class MqttTransport implements Transport {
  readonly rejections = new Subject<Rejection>();
  private readonly gate: PublishGate;
  private readonly registry: TopicRegistry;
  private readonly local = new Set<LocalSubscription>();
  /** Broker subscriptions shared by local subscriptions: pattern → users and MQTT 5 subscription identifier. */
  private readonly refs = new Map<string, { users: number; id: number }>();
  private nextSubscriptionId = 1;
  private readonly publishOptionsCache = new Map<string, IClientPublishOptions>();
  private closing: Promise<void> | undefined;
  /** SUBACKs not yet received, and the first refusal seen (for subscriptionsSettled()). */
  private readonly pendingSubacks = new Set<Promise<void>>();
  private refusal: FusiondError | undefined;

  private constructor(
    readonly client: MqttClient,
    /** What the broker accepted: 5, or 4 (3.1.1). */
    readonly protocolVersion: 4 | 5,
    private readonly options: MqttTransportOptions,
  ) {
    this.registry = options.registry ?? new TopicRegistry();
    this.gate = new PublishGate(options.maxInFlight ?? 1000);
    const now = options.now;
    client.on("message", (topic, payload, packet) => {
      const receiveNs = now();
      const props = packet.properties;
      // MQTT 5: what the publisher says the payload is; the decoder checks it against the topic's type.
      const raw: RawMessage = props?.userProperties || props?.contentType !== undefined ? withProperties(topic, payload, receiveNs, props) : { topic, payload, receiveNs };
      const ids = props?.subscriptionIdentifier;
      if (ids === undefined) {
        // MQTT 3.1.1 brokers (Mosquitto, aedes) send one copy however many subscriptions match.
        for (const l of this.local) if (l.matches(topic)) l.subscriber.next(raw);
        return;
      }
      // Mosquitto on MQTT 5 sends one copy per matching subscription, each tagged with its
      // identifier: a local subscription takes only the copy of its lowest matching identifier.
      for (const l of this.local) {
        const want = lowestMatchingId(l, topic); // a plain loop: this runs per message
        if (want !== undefined && (ids === want || (Array.isArray(ids) && ids.includes(want)))) {
          l.subscriber.next(raw);
        }
      }
    });
  }

  /** Connects (waiting for the first CONNACK) and returns the transport. */
  static async connect(options: MqttTransportOptions): Promise<MqttTransport> {
    const { client, protocolVersion } = await connectMqtt(options);
    return new MqttTransport(client, protocolVersion, options);
  }

  get inFlight(): number {
    return this.gate.inFlight;
  }
  get counters(): Readonly<SinkCounters> {
    return this.gate.counters;
  }

  /** Subscription QoS for a pattern: the highest QoS among registry entries it can match. */
  qosFor(pattern: string): QoS {
    const matching = this.registry.matching(pattern);
    if (matching.length === 0) return this.options.defaultQos ?? 0;
    return Math.max(...matching.map((t) => t.qos)) as QoS;
  }

  subscribe(patterns: readonly string[]): Observable<RawMessage> {
    const unique = [...new Set(patterns)];
    const matches = compilePatterns(unique);
    return new Observable<RawMessage>((subscriber) => {
      if (this.closing) {
        subscriber.complete();
        return;
      }
      const fresh = unique.filter((p) => {
        const ref = this.refs.get(p);
        if (ref) ref.users++;
        else this.refs.set(p, { users: 1, id: this.nextSubscriptionId++ });
        return !ref;
      });
      const byId = unique
        .map((p) => ({ id: this.refs.get(p)!.id, matches: compilePatterns([p]) }))
        .sort((a, b) => a.id - b.id);
      const entry: LocalSubscription = { matches, byId, subscriber };
      this.local.add(entry);
      // One SUBSCRIBE per pattern: the MQTT 5 subscription identifier is a packet property, not per topic.
      for (const p of fresh) {
        const opts: IClientSubscribeOptions = { qos: this.qosFor(p) };
        if (this.protocolVersion === 5) opts.properties = { subscriptionIdentifier: this.refs.get(p)!.id };
        let settle!: () => void;
        const pending = new Promise<void>((resolve) => (settle = resolve));
        this.pendingSubacks.add(pending);
        this.client.subscribe(p, opts, (err, granted) => {
          this.pendingSubacks.delete(pending);
          settle();
          // A connection lost before the SUBACK is not a refusal: mqtt.js subscribes again on reconnect.
          if (err && !this.client.connected) return;
          // mqtt.js 5 reports a refused SUBACK as an error carrying the packet (ErrorWithSubackPacket).
          const suback = (err as { packet?: { granted?: unknown[] } } | null)?.packet?.granted;
          const code = suback?.find((g): g is number => typeof g === "number" && g >= 128) ?? granted?.find((g) => g.qos >= 128)?.qos;
          if (err || code !== undefined) {
            const refusal = subscribeRefused(p, typeof code === "number" ? code : undefined, err?.message, this.options.username);
            this.refusal ??= refusal;
            subscriber.error(refusal);
          }
        });
      }
      return () => {
        this.local.delete(entry);
        const gone = unique.filter((p) => {
          const ref = this.refs.get(p);
          if (ref && --ref.users > 0) return false;
          this.refs.delete(p);
          return true;
        });
        if (gone.length && !this.closing && this.client.connected) this.client.unsubscribe(gone);
      };
    });
  }

  /**
   * Resolves once every SUBSCRIBE sent so far has its SUBACK; rejects with FusiondError
   * `subscribe_denied` if the broker refused any (MQTT 3.1.1 return code 0x80, MQTT 5 reason ≥ 0x80,
   * e.g. 0x87 Not authorized). Note that a broker may grant a subscription and still deliver nothing
   * its ACL forbids (Mosquitto's acl_file does; its dynamic-security plugin refuses the SUBACK):
   * only a refused SUBACK is detectable here. Gives up waiting after `timeoutMs` (resolving
   * "timeout": a broker slow to answer is not a refusal).
   */
  async subscriptionsSettled(timeoutMs = 10_000): Promise<"settled" | "timeout"> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const settled = (async (): Promise<"settled"> => {
      while (this.pendingSubacks.size > 0) await Promise.all([...this.pendingSubacks]);
      return "settled";
    })();
    const outcome = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    if (this.refusal) throw this.refusal;
    return outcome;
  }

  publish(topic: string, payload: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const opts = this.publishOptions(topic, options);
    return this.gate.run(
      () => new Promise<void>((resolve, reject) => this.client.publish(topic, buf, opts, (err) => (err ? reject(err) : resolve()))),
    );
  }

  private publishOptions(topic: string, options: PublishOptions): IClientPublishOptions {
    const type = options.type ?? this.registry.lookup(topic)?.type;
    const key = `${options.qos}|${type ?? ""}`;
    let opts = this.publishOptionsCache.get(key);
    if (!opts) {
      opts = { qos: options.qos };
      if (this.protocolVersion === 5 && type) {
        opts.properties = { contentType: PROTOBUF_CONTENT_TYPE, userProperties: { schema: type } };
      }
      this.publishOptionsCache.set(key, opts);
    }
    return opts;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.gate.drain().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.closeTimeoutMs ?? 2000))),
    ]);
    clearTimeout(timer);
    for (const l of [...this.local]) l.subscriber.complete();
    this.local.clear();
    // A graceful end sends DISCONNECT, but mqtt.js first waits for every outstanding packet (even
    // an UNSUBSCRIBE to a broker that is gone) with no limit: end gracefully only when nothing is
    // outstanding and the link is up, else force it.
    const graceful = !timedOut && this.client.connected && Object.keys(this.client.outgoing).length === 0;
    await this.client.endAsync(!graceful);
    this.rejections.complete();
  }
}

/** MQTT 5 reason codes a SUBACK may carry (3.1.1 has only 0x80). */
const SUBACK_REASONS: Record<number, string> = {
  0x80: "unspecified error",
  0x83: "implementation specific error",
  0x87: "not authorized",
  0x8f: "topic filter invalid",
  0x91: "packet identifier in use",
  0x97: "quota exceeded",
  0x9e: "shared subscriptions not supported",
  0xa1: "subscription identifiers not supported",
  0xa2: "wildcard subscriptions not supported",
};

function subscribeRefused(pattern: string, code: number | undefined, message: string | undefined, username: string | undefined): FusiondError {
  const reason = code !== undefined ? `${SUBACK_REASONS[code] ?? "refused"} (0x${code.toString(16)})` : (message ?? "refused");
  const who = username ? `user "${username}"` : "this client (its certificate identity, with use_identity_as_username)";
  return new FusiondError(
    "subscribe_denied",
    `the MQTT broker refused the subscription to "${pattern}": ${reason}. Its ACL must let ${who} read this topic ` +
      `(Mosquitto: e.g. "pattern read vehicles/%u/#" in the acl_file, or a subscribePattern ACL in a dynamic-security role), ` +
      `or subscribe to less (config "topics"; check "vehicle" names this vehicle). See docs/deployment.md, "Securing the transports".`,
    { pattern, ...(code !== undefined ? { reasonCode: code } : {}) },
  );
}

function lowestMatchingId(l: LocalSubscription, topic: string): number | undefined {
  for (const p of l.byId) if (p.matches(topic)) return p.id;
  return undefined;
}

/**
 * A RawMessage with the MQTT 5 `schema` user property and content type, as sent. A property sent
 * more than once must say the same each time; differing values are passed on as a list that
 * names no type, so the decoder rejects the message as `wrong_type`.
 */
function withProperties(topic: string, payload: Buffer, receiveNs: bigint, props: NonNullable<IPublishPacket["properties"]>): RawMessage {
  const raw: RawMessage = { topic, payload, receiveNs };
  const schema = props.userProperties?.["schema"];
  if (schema !== undefined) raw.schema = Array.isArray(schema) ? (new Set(schema).size === 1 ? schema[0]! : schema.join(",")) : schema;
  if (props.contentType !== undefined) raw.contentType = props.contentType;
  return raw;
}
