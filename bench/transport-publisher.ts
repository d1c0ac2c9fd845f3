/**
 * The publisher of bench/transport.bench.ts, run as a child process (`fork` with `--import tsx`) so
 * that the receiver being measured has its process and event loop to itself. The same publisher
 * serves the bare and our receiver. Commands arrive over IPC (advanced serialization, so payloads
 * travel as bytes):
 *   { op: "probe", topic, payload }        one QoS 0 publish (has a subscription become live?)
 *   { op: "run", topic, payload, count }   `count` publishes as fast as the transport lets it; answers
 *                                          { op: "done", seconds } with its own publish time
 *   { op: "close" }                        disconnect and exit
 * argv: "mqtt" URL PROTOCOL_VERSION, or "zmq" (binds tcp://127.0.0.1:* and reports the endpoint).
 */
import mqtt, { type MqttClient } from "mqtt";
import { Publisher } from "zeromq";

type Command =
  | { op: "probe"; topic: string; payload: Uint8Array }
  | { op: "run"; topic: string; payload: Uint8Array; count: number }
  | { op: "close" };

const [kind, url, version] = process.argv.slice(2);
const reply = (m: object): void => void process.send!(m);
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

let client: MqttClient | undefined;
let pub: Publisher | undefined;
if (kind === "mqtt") {
  client = await mqtt.connectAsync(url!, { protocolVersion: Number(version) as 4 | 5 });
  (client.stream as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
} else {
  pub = new Publisher({ linger: 0, noDrop: true, sendHighWaterMark: 10_000, sendTimeout: 0 });
  await pub.bind("tcp://127.0.0.1:*");
}

async function send(topic: string, payload: Buffer, qos: 0 | 1): Promise<void> {
  if (client) {
    const c = client;
    return new Promise((resolve, reject) => c.publish(topic, payload, { qos }, (e) => (e ? reject(e) : resolve())));
  }
  for (;;) {
    try {
      return await pub!.send([topic, payload]);
    } catch (e) {
      // At the high-water mark zeromq.js fails at once with EAGAIN: wait a turn and retry (nothing dropped).
      if ((e as { code?: string }).code !== "EAGAIN") throw e;
      await new Promise((r) => setImmediate(r));
    }
  }
}

process.on("message", (m: Command) => {
  void (async () => {
    if (m.op === "probe") {
      await send(m.topic, asBuffer(m.payload), 0);
      reply({ op: "probed" });
    } else if (m.op === "run") {
      const payload = asBuffer(m.payload);
      const t0 = process.hrtime.bigint();
      if (client) {
        // QoS 1 with up to 1000 publishes awaiting PUBACK.
        const window = new Set<Promise<void>>();
        for (let i = 0; i < m.count; i++) {
          const p: Promise<void> = send(m.topic, payload, 1).then(() => void window.delete(p));
          window.add(p);
          if (window.size >= 1000) await Promise.race(window);
        }
        await Promise.all(window);
      } else {
        for (let i = 0; i < m.count; i++) await send(m.topic, payload, 1); // zeromq.js: one send pending per socket
      }
      reply({ op: "done", seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    } else if (m.op === "close") {
      if (client) await client.endAsync();
      pub?.close();
      process.disconnect();
    }
  })().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
});

reply({ op: "ready", endpoint: pub?.lastEndpoint ?? undefined });
