/** Runs the one transport contract against every implementation. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBus, MemoryTransport, MqttTransport, ZmqSink, ZmqSource } from "../../sensors/index.ts";
import { aedes, mosquittoOrAedes, now, type TestBroker } from "./helpers.ts";
import { transportContract, type TransportFixture } from "./transport-contract.ts";

transportContract("in-memory fake", async () => {
  const bus = new MemoryBus();
  const transport = new MemoryTransport(bus, { now });
  return { source: transport, sink: transport, reliable: true, close: () => transport.close() };
});

async function mqttFixture(broker: TestBroker): Promise<TransportFixture> {
  let source: MqttTransport | undefined;
  let sink: MqttTransport | undefined;
  try {
    source = await MqttTransport.connect({ url: broker.url, now });
    sink = await MqttTransport.connect({ url: broker.url, now });
  } catch (err) {
    await source?.close();
    await broker.stop();
    throw err;
  }
  return {
    source,
    sink,
    reliable: true,
    close: async () => {
      await Promise.all([source!.close(), sink!.close()]);
      await broker.stop();
    },
  };
}

transportContract("MQTT on the embedded aedes broker (MQTT 3.1.1)", async () => mqttFixture(await aedes()));
transportContract("MQTT on Mosquitto 127.0.0.1:1883 (MQTT 5)", async () => mqttFixture(await mosquittoOrAedes()));

let endpoints = 0;
function zmqFixture(endpoint: () => string): () => Promise<TransportFixture> {
  return async () => {
    const sink = await ZmqSink.open({ endpoint: endpoint(), mode: "bind" });
    const source = new ZmqSource({ endpoint: sink.endpoint, now, mode: "connect" });
    return {
      source,
      sink,
      reliable: false,
      nativeSockets: () => source.openSockets + (sink.isOpen ? 1 : 0),
      close: async () => {
        await source.close();
        await sink.close();
      },
    };
  };
}

transportContract("ZeroMQ over tcp", zmqFixture(() => "tcp://127.0.0.1:*"));
transportContract("ZeroMQ over ipc", zmqFixture(() => `ipc://${join(tmpdir(), `fusiond-test-${process.pid}-${endpoints++}.sock`)}`));
