/**
 * The in-memory fake of the Transport port, for tests: a `MemoryBus` plays the broker, each
 * `MemoryTransport` is one client on it. Delivery is asynchronous (a microtask per publish, like
 * bytes coming off a socket) and preserves publish order; payloads are copied, as a wire would.
 */
import { Observable, Subject } from "rxjs";
import type { RawMessage, Rejection } from "../schemas/index.ts";
import { compilePatterns, type TopicMatcher } from "./patterns.ts";
import { PublishGate } from "./publish-gate.ts";
import type { NowNs, PublishOptions, PublishResult, SinkCounters, Transport } from "./transport.ts";

interface BusSubscriber {
  matches: TopicMatcher;
  deliver(topic: string, payload: Uint8Array): void;
}

/** The in-memory "broker". Tests may publish on it directly and inspect what was published. */
export class MemoryBus {
  private readonly subscribers = new Set<BusSubscriber>();
  /** Every message published on the bus, in order (for assertions); bounded by `historyLimit`. */
  readonly history: Array<{ topic: string; payload: Uint8Array; options: PublishOptions }> = [];

  constructor(readonly historyLimit = 10_000) {}

  /** Number of live subscriptions (to check that unsubscribing releases them). */
  get subscriptionCount(): number {
    return this.subscribers.size;
  }

  attach(sub: BusSubscriber): () => void {
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  /** Delivers a copy of the payload to every matching subscriber, after the current task. */
  publish(topic: string, payload: Uint8Array, options: PublishOptions = { qos: 0 }): Promise<void> {
    const copy = Uint8Array.from(payload);
    if (this.history.length >= this.historyLimit) this.history.shift();
    this.history.push({ topic, payload: copy, options });
    return new Promise((resolve) =>
      queueMicrotask(() => {
        for (const s of this.subscribers) if (s.matches(topic)) s.deliver(topic, copy);
        resolve();
      }),
    );
  }
}

export interface MemoryTransportOptions {
  now: NowNs;
  /** Publishes allowed pending at once (default 1000). */
  maxInFlight?: number;
}

export class MemoryTransport implements Transport {
  readonly rejections = new Subject<Rejection>();
  private readonly gate: PublishGate;
  private readonly live = new Set<() => void>();
  private closed = false;

  constructor(
    readonly bus: MemoryBus,
    private readonly options: MemoryTransportOptions,
  ) {
    this.gate = new PublishGate(options.maxInFlight ?? 1000);
  }

  get inFlight(): number {
    return this.gate.inFlight;
  }
  get counters(): Readonly<SinkCounters> {
    return this.gate.counters;
  }

  subscribe(patterns: readonly string[]): Observable<RawMessage> {
    const matches = compilePatterns(patterns);
    return new Observable<RawMessage>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      const detach = this.bus.attach({
        matches,
        deliver: (topic, payload) => subscriber.next({ topic, payload, receiveNs: this.options.now() }),
      });
      const end = (): void => {
        detach();
        subscriber.complete();
      };
      this.live.add(end);
      return () => {
        this.live.delete(end);
        detach();
      };
    });
  }

  publish(topic: string, payload: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    return this.gate.run(() => this.bus.publish(topic, payload, options));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gate.drain();
    for (const end of [...this.live]) end();
    this.live.clear();
    this.rejections.complete();
  }
}
