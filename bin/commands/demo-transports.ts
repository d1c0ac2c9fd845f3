/** `fusiond demo`'s transports: the embedded MQTT broker (one client for the simulator), or ZeroMQ sockets on free ports. */
import { EmbeddedBroker, MqttTransport, ZmqSink, ZmqSource, type RawSink, type RawSource } from "../../sensors/index.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import type { TopicRegistry } from "../../schemas/index.ts";

export interface DemoTransports {
  broker: EmbeddedBroker | undefined;
  /** Where the simulator publishes its sensors, and where it reads the daemon's decisions. */
  simSink: RawSink;
  simDecisions: RawSource;
  /** The daemon config's transport part. */
  daemonInput: { mqtt?: { url: string; protocolVersion: 4 }; zmq?: { subscribe: string[]; publish: string } };
  /** Closes the simulator's side (the broker is stopped after them). */
  closers: Array<() => Promise<void> | void>;
}

async function freeTcpEndpoint(): Promise<string> {
  const { createServer } = await import("node:net");
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `tcp://127.0.0.1:${port}`;
}

export async function openDemoTransports(zmq: boolean, registry: TopicRegistry, say: (line: string) => void): Promise<DemoTransports> {
  const closers: Array<() => Promise<void> | void> = [];
  if (zmq) {
    const sensorsAt = await freeTcpEndpoint();
    const decisionsAt = await freeTcpEndpoint();
    const pub = await ZmqSink.open({ endpoint: sensorsAt, mode: "bind" });
    const simDecisions = new ZmqSource({ endpoint: decisionsAt, now: wallNs, mode: "connect" });
    closers.push(() => simDecisions.close(), () => pub.close());
    say(`fusiond demo: ZeroMQ sensors on ${sensorsAt}, decisions on ${decisionsAt}`);
    return { broker: undefined, simSink: pub, simDecisions, daemonInput: { zmq: { subscribe: [sensorsAt], publish: decisionsAt } }, closers };
  }
  const broker = await EmbeddedBroker.start();
  const simClient = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, now: wallNs, registry, clientId: "fusiond-demo-sim" });
  closers.push(() => simClient.close());
  say(`fusiond demo: embedded MQTT broker on ${broker.url}`);
  return { broker, simSink: simClient, simDecisions: simClient, daemonInput: { mqtt: { url: broker.url, protocolVersion: 4 } }, closers };
}
