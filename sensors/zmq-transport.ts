/**
 * ZeroMQ on zeromq v6: PUB/SUB with two frames per message, `[topic, protobuf bytes]`, over tcp or
 * ipc. The source is only a source (a SUB socket per subscription) and the sink only a sink (one PUB
 * socket): capabilities are types, as in zeromq.js itself.
 */
import { Publisher, Subscriber as ZmqSubscriber } from "zeromq";
import { Observable, Subject } from "rxjs";
import { FusiondError, type RawMessage, type Rejection } from "../schemas/index.ts";
import { compilePatterns, literalPrefix } from "./patterns.ts";
import { PublishGate } from "./publish-gate.ts";
import type { NowNs, PublishOptions, PublishResult, RawSink, RawSource, SinkCounters } from "./transport.ts";

/** "bind" listens on the endpoint, "connect" dials it; either side may do either. */
export type ZmqMode = "bind" | "connect";

export interface ZmqSourceOptions {
  /** tcp://127.0.0.1:5555, ipc:///tmp/fusiond.sock */
  endpoint: string;
  now: NowNs;
  /** Default "connect" (sensors bind their PUB sockets). */
  mode?: ZmqMode;
  /** Messages ZeroMQ queues per peer before dropping (ZMQ_RCVHWM; default 10000). */
  receiveHighWaterMark?: number;
}

/** A SUB socket per subscription; patterns become ZeroMQ prefixes, then match exactly on receipt. */
export class ZmqSource implements RawSource {
  readonly rejections = new Subject<Rejection>();
  private readonly sockets = new Set<ZmqSubscriber>();
  private closed = false;

  constructor(private readonly options: ZmqSourceOptions) {}

  /** Open SUB sockets (one per live subscription). */
  get openSockets(): number {
    return this.sockets.size;
  }

  subscribe(patterns: readonly string[]): Observable<RawMessage> {
    const matches = compilePatterns(patterns);
    const prefixes = [...new Set(patterns.map(literalPrefix))];
    return new Observable<RawMessage>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      const { endpoint, now } = this.options;
      const socket = new ZmqSubscriber({ linger: 0, receiveHighWaterMark: this.options.receiveHighWaterMark ?? 10_000 });
      this.sockets.add(socket);
      try {
        if ((this.options.mode ?? "connect") === "connect") socket.connect(endpoint);
        // bind is asynchronous; a failure closes the socket and errors the subscription below.
        else socket.bind(endpoint).catch((err: Error) => subscriber.error(bindError(endpoint, err)));
        socket.subscribe(...prefixes);
      } catch (err) {
        this.sockets.delete(socket);
        socket.close();
        subscriber.error(bindError(endpoint, err as Error));
        return;
      }
      const loop = async (): Promise<void> => {
        try {
          for await (const frames of socket) {
            const receiveNs = now();
            const topic = frames[0]?.toString("utf8") ?? "";
            if (frames.length !== 2) {
              this.rejections.next({
                reason: "decode_error",
                topic,
                detail: `ZeroMQ message has ${frames.length} frames, expected 2: [topic, protobuf bytes]`,
                receiveNs,
                bytes: frames.reduce((n, f) => n + f.length, 0),
              });
              continue;
            }
            if (matches(topic)) subscriber.next({ topic, payload: frames[1]!, receiveNs });
          }
          subscriber.complete(); // the socket was closed
        } catch (err) {
          if (socket.closed) subscriber.complete();
          else subscriber.error(err);
        }
      };
      void loop();
      return () => {
        this.sockets.delete(socket);
        socket.close();
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.close(); // ends each receive loop, which completes its subscriber
    this.sockets.clear();
    this.rejections.complete();
  }
}

/**
 * What to do when the PUB socket is at its high-water mark. zeromq.js rejects such a send with
 * EAGAIN rather than waiting (ZMQ_XPUB_NODROP on, send timeout bounded), so the choice is explicit:
 * - "drop": refuse at once, counted as send_failed (sensor data: the next sample supersedes it);
 * - { waitMs }: let ZeroMQ retry for up to waitMs, then refuse and count (decisions).
 */
export type ZmqFullPolicy = "drop" | { waitMs: number };

export interface ZmqSinkOptions {
  endpoint: string;
  /** Default "bind". */
  mode?: ZmqMode;
  /** Messages queued per subscriber before the socket is full (ZMQ_SNDHWM; default 10000). */
  sendHighWaterMark?: number;
  onFull?: ZmqFullPolicy;
  /** Publishes allowed pending at once (default 1000); only a waiting policy leaves any pending. */
  maxInFlight?: number;
}

export class ZmqSink implements RawSink {
  private readonly socket: Publisher;
  private readonly gate: PublishGate;
  /** zeromq.js allows one pending send per socket (EBUSY otherwise): sends are chained. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** With "drop" a send never waits (send timeout 0), so no chaining is needed. */
  private readonly dropWhenFull: boolean;

  private constructor(private readonly options: ZmqSinkOptions) {
    const policy = options.onFull ?? "drop";
    this.dropWhenFull = policy === "drop";
    this.socket = new Publisher({
      linger: 0,
      noDrop: true,
      sendHighWaterMark: options.sendHighWaterMark ?? 10_000,
      sendTimeout: policy === "drop" ? 0 : policy.waitMs,
    });
    this.gate = new PublishGate(options.maxInFlight ?? 1000);
  }

  /** Opens the PUB socket (binding waits until the endpoint is listening). */
  static async open(options: ZmqSinkOptions): Promise<ZmqSink> {
    const sink = new ZmqSink(options);
    try {
      if ((options.mode ?? "bind") === "bind") await sink.socket.bind(options.endpoint);
      else sink.socket.connect(options.endpoint);
    } catch (err) {
      sink.socket.close();
      throw bindError(options.endpoint, err as Error);
    }
    return sink;
  }

  get inFlight(): number {
    return this.gate.inFlight;
  }
  get counters(): Readonly<SinkCounters> {
    return this.gate.counters;
  }
  /** The endpoint as bound, with a wildcard port resolved (tcp://127.0.0.1:* → tcp://127.0.0.1:41234). */
  get endpoint(): string {
    return this.socket.lastEndpoint ?? this.options.endpoint;
  }
  get isOpen(): boolean {
    return !this.socket.closed;
  }

  publish(topic: string, payload: Uint8Array, _options: PublishOptions): Promise<PublishResult> {
    if (this.dropWhenFull) return this.gate.run(() => this.socket.send([topic, payload]));
    return this.gate.run(() => {
      const next = this.tail.then(() => this.socket.send([topic, payload]));
      this.tail = next.catch(() => undefined);
      return next;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gate.drain(); // bounded: every pending send ends within onFull.waitMs
    this.socket.close();
  }
}

function bindError(endpoint: string, err: Error): FusiondError {
  return new FusiondError("zmq_endpoint_failed", `ZeroMQ endpoint ${endpoint}: ${err.message}`, { endpoint }, { cause: err });
}
