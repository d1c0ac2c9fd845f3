/**
 * The raw source a command line names: an MQTT broker URL (MQTT 5, or 3.1.1 where the broker refuses 5) or a
 * ZeroMQ endpoint (connected, or bound for publishers to connect to), stamped on the wall clock.
 */
import { MqttTransport, type MqttTransportOptions } from "./mqtt-transport.ts";
import type { RawSource } from "./transport.ts";
import { wallNs } from "./wall-clock.ts";
import { ZmqSource } from "./zmq-transport.ts";

export type SourceChoice = { mqtt: string; options: Omit<MqttTransportOptions, "url" | "now"> } | { zmq: string; bind: boolean };

/** The source, and where it listens in words (for the start line). */
export async function openSourceChoice(c: SourceChoice): Promise<{ source: RawSource; where: string }> {
  if ("mqtt" in c) {
    const mqtt = await MqttTransport.connect({ url: c.mqtt, now: wallNs, ...c.options });
    return { source: mqtt, where: `${c.mqtt} (MQTT ${mqtt.protocolVersion === 5 ? "5" : "3.1.1"})` };
  }
  return { source: new ZmqSource({ endpoint: c.zmq, now: wallNs, mode: c.bind ? "bind" : "connect" }), where: `${c.zmq} (ZeroMQ ${c.bind ? "bind" : "connect"})` };
}
