/**
 * Receive throughput of our sources beside the bare libraries, same broker, same publisher, same run:
 * - MQTT: SensorSource over MqttTransport (decoded SensorMessages/s) vs a bare mqtt.js client
 *   counting 'message' events (no decoding); both subscribe at QoS 1 and receive the same
 *   foxglove.RawAudio bytes on a voice topic, through Mosquitto on 127.0.0.1:1883 if it is up, else
 *   the embedded aedes broker (the output says which).
 * - ZeroMQ: SensorSource over ZmqSource vs a bare zeromq Subscriber loop; PUB/SUB over tcp.
 * The publisher is a child process (bench/transport-publisher.ts), the same one for bare and ours, so
 * the receiver has this process to itself; it publishes as fast as the transport lets it (MQTT: 1000
 * QoS 1 publishes in flight; ZeroMQ: PUB with noDrop, retried on EAGAIN).
 * Per configuration: one warm-up pair, then ROUNDS pairs of bare and ours back to back, the order
 * alternating. Rate = messages / (last − first receipt); the row is the median of the rounds, the
 * ratio the ratio of medians, the note the min–max. Beside it, the receiving process's CPU time per
 * message (what the receiver costs, whoever bounds the rate).
 * Last, the per-message CPU cost of the decode path in memory, beside a bare protobufjs decode.
 * Run: `npm run bench -- transport`.
 */
import { connect as netConnect } from "node:net";
import { loadavg } from "node:os";
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { Subscriber } from "zeromq";
import { Subject } from "rxjs";
import { defaultCodec, MessageDecoder, nsToTimestamp, type RawMessage, type Rejection } from "../schemas/index.ts";
import { MqttTransport, SensorSource, ZmqSource } from "../sensors/index.ts";
import { median, type BenchRow, type BenchSuite } from "./harness.ts";

const SIZES = [
  // Enough messages per round for ~0.3–1 s of receiving on an idle machine (shorter rounds were mostly noise).
  { label: "64 B", bytes: 64, count: { mqtt: 20_000, zmq: 100_000 } },
  { label: "4 KB", bytes: 4096, count: { mqtt: 15_000, zmq: 40_000 } },
  { label: "100 KB", bytes: 100 * 1024, count: { mqtt: 3_000, zmq: 6_000 } },
];
/** Bare and ours alternate (bare first in even rounds, ours first in odd) so that drift hits both alike; one warm-up pair first. */
const ROUNDS = 7;
const now = (): bigint => process.hrtime.bigint();

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

/** The publisher: a child process (bench/transport-publisher.ts), driven over IPC. */
class Publisher {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string | undefined,
  ) {}

  static async start(args: ["mqtt", string, "4" | "5"] | ["zmq"]): Promise<Publisher> {
    const child = fork(fileURLToPath(new URL("./transport-publisher.ts", import.meta.url)), args, {
      execArgv: ["--import", "tsx"],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const ready = (await next(child, "ready")) as { endpoint?: string };
    return new Publisher(child, ready.endpoint);
  }

  async probe(topic: string): Promise<void> {
    // A valid SimStep: our source emits only what decodes.
    const payload = defaultCodec().encode("fusiond.SimStep", { stamp: nsToTimestamp(1_700_000_000_000_000_000n), step: 1 });
    this.child.send({ op: "probe", topic, payload });
    await next(this.child, "probed");
  }

  /** Publishes `count` copies; resolves with the publisher's own seconds. */
  async run(topic: string, payload: Uint8Array, count: number): Promise<number> {
    this.child.send({ op: "run", topic, payload, count });
    return ((await next(this.child, "done")) as { seconds: number }).seconds;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send({ op: "close" });
    await exited;
  }
}

function next(child: ChildProcess, op: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the publisher process exited (${code}) before "${op}"`));
    const onMessage = (m: { op: string }): void => {
      if (m.op !== op) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(m);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
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
type Open = (pattern: string, hit: (topic: string) => void) => Promise<Receiver>;
interface RoundResult {
  /** Receipts/s between the first and the last receipt. */
  rate: number;
  received: number;
  /** The publisher's own publish rate this round. */
  publishRate: number;
  /** CPU time of this (the receiving) process per message received, µs: user + system, GC included. */
  cpuUs: number;
}

/** One measured round: subscribe, wait until probes come through, publish, count. */
async function round(publisher: Publisher, payload: Uint8Array, count: number, open: Open): Promise<RoundResult> {
  const vehicle = `bench${process.pid}r${roundId++}`;
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
    const cpu0 = process.cpuUsage();
    const publishSeconds = await publisher.run(topic, payload, count);
    await Promise.race([arrived, counter.quiet(300)]);
    const cpu = process.cpuUsage(cpu0);
    return {
      rate: counter.rate(),
      received: counter.count,
      publishRate: count / publishSeconds,
      cpuUs: counter.count ? (cpu.user + cpu.system) / counter.count : 0,
    };
  } finally {
    await receiver.close();
  }
}
let roundId = 0;

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

const spread = (xs: number[], digits = 0): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

/**
 * ROUNDS rounds of bare and ours back to back, the order alternating (bare first in even rounds), after
 * one uncounted warm-up pair; rows: median receive rate ours vs bare (ratio of medians), and the
 * receiving process's CPU per message ours vs bare.
 */
async function compare(
  log: (line: string) => void,
  what: { transport: string; bareName: string; size: (typeof SIZES)[number]; count: number },
  publisher: Publisher,
  bareOpen: Open,
  oursOpen: Open,
): Promise<BenchRow[]> {
  const { transport, bareName, size, count } = what;
  const payload = payloadOf(size.bytes);
  const bare: RoundResult[] = [];
  const ours: RoundResult[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    const bareFirst = Math.abs(r) % 2 === 0;
    const first = await round(publisher, payload, count, bareFirst ? bareOpen : oursOpen);
    const second = await round(publisher, payload, count, bareFirst ? oursOpen : bareOpen);
    if (r < 0) continue; // the warm-up pair: JIT, broker, sockets; not counted
    const [b, o] = bareFirst ? [first, second] : [second, first];
    // Mosquitto drops QoS 1 beyond max_queued_messages (1000) per client when the subscriber lags;
    // the rate is then still the receiver's own over what it got.
    if (b.received < count || o.received < count) log(`  ${size.label} round ${r + 1}: received bare ${b.received}, ours ${o.received} of ${count}`);
    bare.push(b);
    ours.push(o);
  }
  const rate = (xs: RoundResult[]): number[] => xs.map((x) => x.rate);
  const cpu = (xs: RoundResult[]): number[] => xs.map((x) => x.cpuUs);
  const pub = [...bare, ...ours].map((x) => x.publishRate);
  const rateRatio = median(rate(ours)) / median(rate(bare));
  const cpuRatio = median(cpu(bare)) / median(cpu(ours));
  log(
    `${transport} ${size.label} (${payload.length} B payload, ${count} msgs/round): ` +
      `bare ${rate(bare).map((x) => x.toFixed(0)).join("/")} msg/s, ours ${rate(ours).map((x) => x.toFixed(0)).join("/")} msg/s; ` +
      `ratio of medians ${rateRatio.toFixed(2)}; receiver CPU µs/msg bare ${cpu(bare).map((x) => x.toFixed(1)).join("/")}, ` +
      `ours ${cpu(ours).map((x) => x.toFixed(1)).join("/")}; publisher ${median(pub).toFixed(0)} msg/s (${spread(pub)})`,
  );
  const goal = size.bytes >= 4096 ? { goal: "≥ 0.8× bare" } : {};
  return [
    {
      name: `${transport} source ${size.label} (decoded)`,
      value: median(rate(ours)),
      unit: "msg/s",
      baseline: { name: `${bareName} ${size.label}`, value: median(rate(bare)) },
      ...goal,
      note: `medians of ${ROUNDS}; ours ${spread(rate(ours))}, bare ${spread(rate(bare))} msg/s; publisher ${median(pub).toFixed(0)} msg/s`,
    },
    {
      name: `${transport} source ${size.label} receiver CPU`,
      value: median(cpu(ours)),
      unit: "µs/msg",
      baseline: { name: `${bareName} ${size.label} receiver CPU`, value: median(cpu(bare)) },
      lowerIsBetter: true,
      note: `medians of ${ROUNDS}; ours ${spread(cpu(ours), 1)}, bare ${spread(cpu(bare), 1)} µs/msg; ratio ${cpuRatio.toFixed(2)}`,
    },
  ];
}

async function mqttRows(log: (line: string) => void): Promise<BenchRow[]> {
  const mosquitto = await portOpen(1883);
  const { EmbeddedBroker } = await import("../sensors/index.ts");
  const broker = mosquitto ? undefined : await EmbeddedBroker.start();
  const url = broker?.url ?? "mqtt://127.0.0.1:1883";
  const protocolVersion = mosquitto ? 5 : 4;
  log(`MQTT broker: ${mosquitto ? "Mosquitto on 127.0.0.1:1883 (MQTT 5)" : `embedded aedes at ${url} (MQTT 3.1.1; Mosquitto not reachable)`}, QoS 1`);
  const publisher = await Publisher.start(["mqtt", url, protocolVersion === 5 ? "5" : "4"]);
  const bareOpen: Open = async (pattern, hit) => {
    const client = await mqtt.connectAsync(url, { protocolVersion });
    (client.stream as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on("message", (topic) => hit(topic));
    await client.subscribeAsync(pattern, { qos: 1 });
    return { close: () => client.endAsync() };
  };
  const oursOpen: Open = async (pattern, hit) => {
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
  };
  const rows: BenchRow[] = [];
  try {
    for (const size of SIZES) {
      rows.push(...(await compare(log, { transport: "MQTT", bareName: "bare mqtt.js", size, count: size.count.mqtt }, publisher, bareOpen, oursOpen)));
    }
  } finally {
    await publisher.close();
    await broker?.stop();
  }
  return rows;
}

async function zmqRows(log: (line: string) => void): Promise<BenchRow[]> {
  const publisher = await Publisher.start(["zmq"]);
  const endpoint = publisher.endpoint!;
  log(`ZeroMQ: PUB (child process) ${endpoint} → SUB, frames [topic, bytes]`);
  const bareOpen: Open = async (pattern, hit) => {
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
  };
  const oursOpen: Open = async (pattern, hit) => {
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
  };
  const rows: BenchRow[] = [];
  try {
    for (const size of SIZES) {
      rows.push(...(await compare(log, { transport: "ZeroMQ", bareName: "bare zeromq", size, count: size.count.zmq }, publisher, bareOpen, oursOpen)));
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
    const load = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");
    log(`load average at start: ${load()} (1/5/15 min)`);
    const rows = [...(await mqttRows(log)), ...(await zmqRows(log)), ...decodePathRows(log)];
    log(`suite took ${((Date.now() - started) / 1000).toFixed(1)} s; load average at end: ${load()}`);
    return rows;
  },
};
export default suite;
