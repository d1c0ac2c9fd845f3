/**
 * Receive throughput of our sources beside the bare libraries, same broker, same publisher, same run:
 * - MQTT: SensorSource over MqttTransport (decoded SensorMessages/s) vs a bare mqtt.js client
 *   counting 'message' events; QoS 1 (foxglove.RawAudio on the voice topic), through Mosquitto on
 *   127.0.0.1:1883 if it is up, else the embedded aedes broker (the output says which).
 * - ZeroMQ: SensorSource over ZmqSource vs a bare zeromq Subscriber loop; PUB/SUB over tcp.
 * The publisher runs in a worker thread so it does not share the receiver's event loop; it publishes
 * as fast as the transport lets it (MQTT: 1000 QoS 1 publishes in flight; ZeroMQ: retries on EAGAIN).
 * Rate = messages / (last receipt − first receipt); bare and ours alternate, median of the rounds.
 * Last, the per-message CPU cost of the decode path in memory, beside a bare protobufjs decode.
 * Run: `npm run bench -- transport`.
 */
import { createRequire } from "node:module";
import { connect as netConnect } from "node:net";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import mqtt from "mqtt";
import { Subscriber } from "zeromq";
import { Subject } from "rxjs";
import { defaultCodec, MessageDecoder, nsToTimestamp, type RawMessage, type Rejection } from "../schemas/index.ts";
import { MqttTransport, SensorSource, ZmqSource } from "../sensors/index.ts";
import { median, type BenchRow, type BenchSuite } from "./harness.ts";

const SIZES = [
  { label: "64 B", bytes: 64, count: { mqtt: 4_000, zmq: 20_000 } },
  { label: "4 KB", bytes: 4096, count: { mqtt: 2_500, zmq: 8_000 } },
  { label: "100 KB", bytes: 100 * 1024, count: { mqtt: 500, zmq: 1_200 } },
];
/** Bare and ours alternate (bare first in even rounds, ours first in odd) so that drift hits both alike; one warm-up round first. */
const ROUNDS = 4;
const now = (): bigint => process.hrtime.bigint();
const require = createRequire(import.meta.url);
const moduleUrl = (name: string): string => pathToFileURL(require.resolve(name)).href;

/** A RawAudio message of (about) `size` bytes in total, as a sensor would send it. */
function payloadOf(size: number): Uint8Array {
  const codec = defaultCodec();
  const make = (n: number): Uint8Array =>
    codec.encode("foxglove.RawAudio", {
      timestamp: nsToTimestamp(1_700_000_000_000_000_000n),
      data: new Uint8Array(n).fill(7),
      format: "pcm-s16",
      sample_rate: 16000,
      number_of_channels: 1,
    });
  const overhead = make(0).length + 3; // length prefix grows with the data
  return make(Math.max(0, size - overhead));
}

/** The publisher thread: plain JS, told what to do by messages. */
const PUBLISHER = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const mqtt = (await import(workerData.mqtt)).default;
  const zmq = await import(workerData.zeromq);
  let client, pub;
  if (workerData.kind === "mqtt") {
    client = await mqtt.connectAsync(workerData.url, { protocolVersion: workerData.protocolVersion });
    client.stream.setNoDelay(true);
  } else {
    pub = new zmq.Publisher({ linger: 0, noDrop: true, sendHighWaterMark: 10000, sendTimeout: 0 });
    await pub.bind("tcp://127.0.0.1:*");
  }
  const send = async (topic, payload, qos) => {
    if (client) return new Promise((res, rej) => client.publish(topic, payload, { qos }, (e) => (e ? rej(e) : res())));
    for (;;) {
      try { return await pub.send([topic, payload]); }
      catch (e) { if (e.code !== "EAGAIN") throw e; await new Promise((r) => setImmediate(r)); }
    }
  };
  parentPort.on("message", async (m) => {
    if (m.op === "probe") { await send(m.topic, Buffer.from(m.payload), 0); parentPort.postMessage({ op: "probed" }); }
    if (m.op === "run") {
      const payload = Buffer.from(m.payload);
      const t0 = process.hrtime.bigint();
      const window = new Set();
      for (let i = 0; i < m.count; i++) {
        const p = send(m.topic, payload, 1).then(() => window.delete(p));
        window.add(p);
        if (window.size >= 1000 || !client) await (client ? Promise.race(window) : p);
      }
      await Promise.all(window);
      parentPort.postMessage({ op: "done", seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    }
    if (m.op === "close") { if (client) await client.endAsync(); if (pub) pub.close(); parentPort.postMessage({ op: "closed" }); }
  });
  parentPort.postMessage({ op: "ready", endpoint: pub ? pub.lastEndpoint : undefined });
})().catch((e) => { console.error(e); process.exit(1); });
`;

class Publisher {
  private constructor(
    private readonly worker: Worker,
    readonly endpoint: string | undefined,
  ) {}

  static async start(data: { kind: "mqtt"; url: string; protocolVersion: 4 | 5 } | { kind: "zmq" }): Promise<Publisher> {
    const worker = new Worker(PUBLISHER, { eval: true, workerData: { ...data, mqtt: moduleUrl("mqtt"), zeromq: moduleUrl("zeromq") } });
    const ready = (await next(worker, "ready")) as { endpoint?: string };
    return new Publisher(worker, ready.endpoint);
  }

  async probe(topic: string): Promise<void> {
    // A valid SimStep: our source emits only what decodes.
    const payload = defaultCodec().encode("fusiond.SimStep", { stamp: nsToTimestamp(1_700_000_000_000_000_000n), step: 1 });
    this.worker.postMessage({ op: "probe", topic, payload });
    await next(this.worker, "probed");
  }

  /** Publishes `count` copies; resolves with the publisher's own seconds. */
  async run(topic: string, payload: Uint8Array, count: number): Promise<number> {
    this.worker.postMessage({ op: "run", topic, payload, count });
    return ((await next(this.worker, "done")) as { seconds: number }).seconds;
  }

  async close(): Promise<void> {
    this.worker.postMessage({ op: "close" });
    await next(this.worker, "closed");
    await this.worker.terminate();
  }
}

function next(worker: Worker, op: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { op: string }): void => {
      if (m.op !== op) return;
      worker.off("message", onMessage);
      worker.off("error", reject);
      resolve(m);
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
  });
}

/** Counts receipts on `topic`; the receiver calls `hit` for each message, any topic. */
class Counter {
  count = 0;
  first = 0n;
  last = 0n;
  probed = false;
  private wanted = Infinity;
  private onDone: (() => void) | undefined;
  constructor(readonly topic: string) {}

  hit = (topic: string): void => {
    if (topic !== this.topic) {
      this.probed = true;
      return;
    }
    const t = process.hrtime.bigint();
    if (this.count === 0) this.first = t;
    this.last = t;
    if (++this.count >= this.wanted) this.onDone?.();
  };

  /** Resolves when `n` messages arrived. */
  expect(n: number): Promise<void> {
    this.wanted = n;
    return new Promise((resolve) => (this.onDone = resolve));
  }

  /** Resolves once nothing has arrived for `quietMs` (a broker may drop what overflows its queue). */
  async quiet(quietMs: number): Promise<void> {
    for (let seen = -1; seen !== this.count; ) {
      seen = this.count;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  rate(): number {
    return this.count > 1 ? (this.count - 1) / (Number(this.last - this.first) / 1e9) : 0;
  }
}

interface Receiver {
  close(): Promise<void>;
}

/** One measured round: subscribe, wait until probes come through, publish, count. */
async function round(
  publisher: Publisher,
  vehicle: string,
  payload: Uint8Array,
  count: number,
  open: (pattern: string, hit: (topic: string) => void) => Promise<Receiver>,
): Promise<{ rate: number; received: number; publishSeconds: number }> {
  const topic = `vehicles/${vehicle}/sensors/voice/bench`;
  const counter = new Counter(topic);
  const receiver = await open(`vehicles/${vehicle}/#`, counter.hit);
  try {
    for (let i = 0; !counter.probed; i++) {
      if (i > 500) throw new Error("the subscription never became live");
      await publisher.probe(`vehicles/${vehicle}/sim/step`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const arrived = counter.expect(count);
    const publishSeconds = await publisher.run(topic, payload, count);
    await Promise.race([arrived, counter.quiet(300)]);
    return { rate: counter.rate(), received: counter.count, publishSeconds };
  } finally {
    await receiver.close();
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: "127.0.0.1" });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** Runs the two measurements of round r back to back, bare first in even-numbered rounds. */
async function paired<T>(r: number, bare: () => Promise<T>, ours: () => Promise<T>): Promise<[T, T]> {
  if (Math.abs(r) % 2 === 0) {
    const b = await bare();
    return [b, await ours()];
  }
  const o = await ours();
  return [await bare(), o];
}

/** The median of the per-round ratios ours/bare (each pair measured back to back). */
const pairedRatio = (ours: number[], bare: number[]): number => median(ours.map((o, i) => o / bare[i]!));

let roundId = 0;
const vehicleId = (): string => `bench${process.pid}r${roundId++}`;

async function mqttRows(log: (line: string) => void): Promise<BenchRow[]> {
  const mosquitto = await portOpen(1883);
  const { EmbeddedBroker } = await import("../sensors/index.ts");
  const broker = mosquitto ? undefined : await EmbeddedBroker.start();
  const url = broker?.url ?? "mqtt://127.0.0.1:1883";
  const protocolVersion = mosquitto ? 5 : 4;
  log(`MQTT broker: ${mosquitto ? "Mosquitto on 127.0.0.1:1883 (MQTT 5)" : `embedded aedes at ${url} (MQTT 3.1.1; Mosquitto not reachable)`}, QoS 1`);
  const publisher = await Publisher.start({ kind: "mqtt", url, protocolVersion });
  const rows: BenchRow[] = [];
  try {
    for (const size of SIZES) {
      const payload = payloadOf(size.bytes);
      const bare: number[] = [];
      const ours: number[] = [];
      const pubRates: number[] = [];
      for (let r = -1; r < ROUNDS; r++) {
        const bareRound = (): ReturnType<typeof round> => round(publisher, vehicleId(), payload, size.count.mqtt, async (pattern, hit) => {
          const client = await mqtt.connectAsync(url, { protocolVersion });
          (client.stream as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
          client.on("message", (topic) => hit(topic));
          await client.subscribeAsync(pattern, { qos: 1 });
          return { close: () => client.endAsync() };
        });
        const oursRound = (): ReturnType<typeof round> => round(publisher, vehicleId(), payload, size.count.mqtt, async (pattern, hit) => {
          const transport = await MqttTransport.connect({ url, now });
          const source = new SensorSource(transport, new MessageDecoder());
          const sub = source.messages([pattern]).subscribe((m) => hit(m.topic));
          return {
            close: async () => {
              sub.unsubscribe();
              source.close();
              await transport.close();
            },
          };
        });
        const [b, o] = await paired(r, bareRound, oursRound);
        if (r < 0) continue; // round -1 warms up the JIT, the broker and the sockets; not counted
        if (b.received < size.count.mqtt || o.received < size.count.mqtt) {
          // Mosquitto drops QoS 1 beyond max_queued_messages (1000) per client when the subscriber
          // is the bottleneck; the rate is then the receiver's own, which is what is measured.
          log(`  ${size.label} round ${r + 1}: broker dropped some (received bare ${b.received}, ours ${o.received} of ${size.count.mqtt})`);
        }
        bare.push(b.rate);
        ours.push(o.rate);
        pubRates.push(size.count.mqtt / b.publishSeconds, size.count.mqtt / o.publishSeconds);
      }
      log(
        `MQTT ${size.label} (${payload.length} B payload): bare ${bare.map((x) => x.toFixed(0)).join("/")} msg/s, ours ${ours.map((x) => x.toFixed(0)).join("/")} msg/s` +
          `, per-round ratio median ${pairedRatio(ours, bare).toFixed(2)}, publisher ${median(pubRates).toFixed(0)} msg/s`,
      );
      rows.push({
        name: `MQTT source ${size.label} (decoded)`,
        value: median(ours),
        unit: "msg/s",
        baseline: { name: `bare mqtt.js ${size.label}`, value: median(bare) },
        ...(size.bytes >= 4096 ? { goal: "≥ 0.8× bare" } : {}),
        note: `median of per-round ratios ${pairedRatio(ours, bare).toFixed(2)}; publisher ${median(pubRates).toFixed(0)} msg/s`,
      });
    }
  } finally {
    await publisher.close();
    await broker?.stop();
  }
  return rows;
}

async function zmqRows(log: (line: string) => void): Promise<BenchRow[]> {
  const publisher = await Publisher.start({ kind: "zmq" });
  const endpoint = publisher.endpoint!;
  log(`ZeroMQ: PUB (worker thread) ${endpoint} → SUB, frames [topic, bytes]`);
  const rows: BenchRow[] = [];
  try {
    for (const size of SIZES) {
      const payload = payloadOf(size.bytes);
      const bare: number[] = [];
      const ours: number[] = [];
      for (let r = -1; r < ROUNDS; r++) {
        const bareRound = (): ReturnType<typeof round> => round(publisher, vehicleId(), payload, size.count.zmq, async (pattern, hit) => {
          const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 10_000 });
          sub.connect(endpoint);
          sub.subscribe(pattern.replace("#", ""));
          const loop = (async () => {
            try {
              for await (const [topic] of sub) hit(topic!.toString());
            } catch {
              /* closed */
            }
          })();
          return {
            close: async () => {
              sub.close();
              await loop;
            },
          };
        });
        const oursRound = (): ReturnType<typeof round> => round(publisher, vehicleId(), payload, size.count.zmq, async (pattern, hit) => {
          const transport = new ZmqSource({ endpoint, now });
          const source = new SensorSource(transport, new MessageDecoder());
          const sub = source.messages([pattern]).subscribe((m) => hit(m.topic));
          return {
            close: async () => {
              sub.unsubscribe();
              source.close();
              await transport.close();
            },
          };
        });
        const [b, o] = await paired(r, bareRound, oursRound);
        if (r < 0) continue; // warm-up round, not counted
        if (b.received < size.count.zmq || o.received < size.count.zmq) {
          log(`  ${size.label} round ${r + 1}: received bare ${b.received}, ours ${o.received} of ${size.count.zmq}`);
        }
        bare.push(b.rate);
        ours.push(o.rate);
      }
      log(
        `ZeroMQ ${size.label} (${payload.length} B payload): bare ${bare.map((x) => x.toFixed(0)).join("/")} msg/s, ours ${ours.map((x) => x.toFixed(0)).join("/")} msg/s` +
          `, per-round ratio median ${pairedRatio(ours, bare).toFixed(2)}`,
      );
      rows.push({
        name: `ZeroMQ source ${size.label} (decoded)`,
        value: median(ours),
        unit: "msg/s",
        baseline: { name: `bare zeromq ${size.label}`, value: median(bare) },
        ...(size.bytes >= 4096 ? { goal: "≥ 0.8× bare" } : {}),
        note: `median of per-round ratios ${pairedRatio(ours, bare).toFixed(2)}`,
      });
    }
  } finally {
    await publisher.close();
  }
  return rows;
}

/**
 * The per-message CPU cost of our receive path with no network at all: RawMessages pushed through
 * SensorSource (rx + MessageDecoder: registry lookup, size check, protobuf decode, event stamp) beside
 * the bare protobufjs decode of the same bytes. Less sensitive to a loaded machine than the rates above.
 */
function decodePathRows(log: (line: string) => void): BenchRow[] {
  const codec = defaultCodec();
  const type = codec.type("foxglove.RawAudio");
  const topic = "vehicles/bench/sensors/voice/bench";
  const rows: BenchRow[] = [];
  for (const size of SIZES) {
    const payload = payloadOf(size.bytes);
    const raw = new Subject<RawMessage>();
    const source = new SensorSource({ subscribe: () => raw, rejections: new Subject<Rejection>(), close: async () => {} }, new MessageDecoder());
    let n = 0;
    const sub = source.messages([topic]).subscribe(() => n++);
    const time = (fn: () => void): number => {
      for (let i = 0; i < 100_000; i++) fn(); // warm-up
      const samples: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 50_000; i++) fn();
        samples.push(Number(process.hrtime.bigint() - t0) / 50_000);
      }
      return median(samples);
    };
    const bare = time(() => void type.decode(payload));
    const ours = time(() => raw.next({ topic, payload, receiveNs: now() }));
    sub.unsubscribe();
    source.close();
    if (n === 0) throw new Error("nothing decoded");
    log(`decode path ${size.label}: ours ${ours.toFixed(0)} ns/msg, bare protobufjs decode ${bare.toFixed(0)} ns/msg`);
    rows.push({
      name: `SensorSource decode path ${size.label} (in memory)`,
      value: ours,
      unit: "ns/msg",
      baseline: { name: `bare protobufjs decode ${size.label}`, value: bare },
      lowerIsBetter: true,
    });
  }
  return rows;
}

const suite: BenchSuite = {
  name: "transport",
  description: "decoded messages/s of our MQTT and ZeroMQ sources beside bare mqtt.js and zeromq (same broker, same publisher, same run)",
  async run(log) {
    const started = Date.now();
    const rows = [...(await mqttRows(log)), ...(await zmqRows(log)), ...decodePathRows(log)];
    log(`suite took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return rows;
  },
};
export default suite;
