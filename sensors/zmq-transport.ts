/**
 * ZeroMQ on zeromq v6: PUB/SUB with two frames per message, `[topic, protobuf bytes]`, over tcp or
 * ipc. The source is only a source (a SUB socket per subscription) and the sink only a sink (one PUB
 * socket): capabilities are types, as in zeromq.js itself.
 */
import { Publisher, Subscriber as ZmqSubscriber, type Socket } from "zeromq";
import { Observable, Subject } from "rxjs";
import { FusiondError, type RawMessage, type Rejection } from "../schemas/index.ts";
import { compilePatterns, literalPrefix } from "./patterns.ts";
import { PublishGate } from "./publish-gate.ts";
import type { NowNs, PublishOptions, PublishResult, RawSink, RawSource, SinkCounters } from "./transport.ts";
import type { ZmqCurve } from "./zmq-curve.ts";
import { registerZapDomain } from "./zmq-zap.ts";

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
  /** CURVE: "client" to connect to sensors that serve CURVE; "server" (with an allow-list) when binding. Default: plaintext. */
  curve?: ZmqCurve;
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
      const fail = (err: unknown): void => {
        this.sockets.delete(socket);
        socket.close();
        subscriber.error(bindError(endpoint, err as Error));
      };
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
      let release: (() => Promise<void>) | undefined;
      try {
        socket.subscribe(...prefixes);
        const mode = this.options.mode ?? "connect";
        const open = (): void => {
          if (socket.closed) return;
          if (mode === "connect") {
            socket.connect(endpoint);
            void loop();
          } else {
            // A socket cannot receive while its bind is in progress: start reading once bound.
            socket.bind(endpoint).then(() => void loop(), fail);
          }
        };
        const curve = this.options.curve;
        if (curve?.role === "server") {
          // The allow-list must be in force before the first peer can arrive.
          registerZapDomain(curve.allow, curve.onDenied).then((zap) => {
            release = zap.release;
            if (socket.closed) return void zap.release();
            applyCurve(socket, curve, zap.domain);
            open();
          }, fail);
        } else {
          if (curve) applyCurve(socket, curve);
          open();
        }
      } catch (err) {
        fail(err);
        return;
      }
      return () => {
        this.sockets.delete(socket);
        socket.close();
        void release?.();
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
 * What to do when the PUB socket is at its high-water mark. With ZMQ_XPUB_NODROP on (so that a full
 * queue is seen at all, not dropped silently), zeromq.js rejects such a send with EAGAIN at once,
 * whatever the send timeout (measured: sendTimeout 0, 60 and -1 all fail within 1 ms). So the policy is ours:
 * - "drop": refuse at once, counted as send_failed (sensor data: the next sample supersedes it);
 * - { waitMs }: retry every few ms for up to waitMs, then refuse and count (decisions).
 */
export type ZmqFullPolicy = "drop" | { waitMs: number; retryEveryMs?: number };

export interface ZmqSinkOptions {
  endpoint: string;
  /** Default "bind". */
  mode?: ZmqMode;
  /** Messages queued per subscriber before the socket is full (ZMQ_SNDHWM; default 10000). */
  sendHighWaterMark?: number;
  onFull?: ZmqFullPolicy;
  /** Publishes allowed pending at once (default 1000); only a waiting policy leaves any pending. */
  maxInFlight?: number;
  /** CURVE: "server" (usually, as the sink binds) with an allow-list of subscribers' public keys. Default: plaintext. */
  curve?: ZmqCurve;
}

export class ZmqSink implements RawSink {
  private readonly socket: Publisher;
  private readonly gate: PublishGate;
  /** zeromq.js allows one pending send per socket (EBUSY otherwise): sends are chained. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** With "drop" a send never waits (send timeout 0), so no chaining is needed. */
  private readonly dropWhenFull: boolean;
  private readonly waitMs: number;
  private readonly retryEveryMs: number;
  private releaseZap: (() => Promise<void>) | undefined;

  private constructor(private readonly options: ZmqSinkOptions) {
    const policy = options.onFull ?? "drop";
    this.dropWhenFull = policy === "drop";
    this.waitMs = policy === "drop" ? 0 : policy.waitMs;
    this.retryEveryMs = policy === "drop" ? 0 : Math.max(1, policy.retryEveryMs ?? Math.min(5, policy.waitMs));
    this.socket = new Publisher({
      linger: 0,
      noDrop: true,
      sendHighWaterMark: options.sendHighWaterMark ?? 10_000,
      sendTimeout: 0,
    });
    this.gate = new PublishGate(options.maxInFlight ?? 1000);
  }

  /** Opens the PUB socket (binding waits until the endpoint is listening). */
  static async open(options: ZmqSinkOptions): Promise<ZmqSink> {
    const sink = new ZmqSink(options);
    try {
      const curve = options.curve;
      if (curve?.role === "server") {
        // The allow-list must be in force before the first peer can arrive.
        const zap = await registerZapDomain(curve.allow, curve.onDenied);
        sink.releaseZap = zap.release;
        applyCurve(sink.socket, curve, zap.domain);
      } else if (curve) applyCurve(sink.socket, curve);
      if ((options.mode ?? "bind") === "bind") await sink.socket.bind(options.endpoint);
      else sink.socket.connect(options.endpoint);
    } catch (err) {
      sink.socket.close();
      await sink.releaseZap?.();
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
    const frames = [topic, payload];
    if (this.dropWhenFull) return this.gate.run(() => this.socket.send(frames).catch(explainFull));
    return this.gate.run(() => {
      // Retries must not let a later message overtake: sends are chained, one at a time.
      const next = this.tail.then(() => this.sendWithRetry(frames));
      this.tail = next.catch(() => undefined);
      return next;
    });
  }

  private async sendWithRetry(frames: Array<string | Uint8Array>): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      try {
        return await this.socket.send(frames);
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN" || Date.now() >= deadline || this.socket.closed) explainFull(err);
      }
      await new Promise((resolve) => setTimeout(resolve, this.retryEveryMs));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gate.drain(); // bounded: every pending send ends within onFull.waitMs
    this.socket.close();
    await this.releaseZap?.();
  }
}

/** Sets the CURVE options on a socket before it binds or connects (a server also gets its ZAP domain). */
function applyCurve(socket: Socket, curve: ZmqCurve, zapDomain?: string): void {
  const s = socket as Socket & { curveServer: boolean; curveSecretKey: string | null; curvePublicKey: string | null; curveServerKey: string | null; zapDomain: string | null };
  if (curve.role === "server") {
    s.curveServer = true;
    s.curveSecretKey = curve.secretKey;
    if (zapDomain) s.zapDomain = zapDomain;
  } else {
    s.curveServerKey = curve.serverKey;
    s.curvePublicKey = curve.publicKey;
    s.curveSecretKey = curve.secretKey;
  }
}

/** Rethrows a send failure, naming the high-water mark where that is what EAGAIN means. */
function explainFull(err: unknown): never {
  const e = err as Error & { code?: string };
  if (e.code === "EAGAIN") throw new Error(`EAGAIN: high-water mark reached, message not queued (${e.message})`);
  throw e;
}

function bindError(endpoint: string, err: Error): FusiondError {
  return new FusiondError("zmq_endpoint_failed", `ZeroMQ endpoint ${endpoint}: ${err.message}`, { endpoint }, { cause: err });
}
