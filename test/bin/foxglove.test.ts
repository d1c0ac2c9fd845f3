/** The Foxglove WebSocket live view: a client (speaking foxglove.websocket.v1) sees the channels and gets the messages it subscribes to. */
import { strict as assert } from "node:assert";
import WebSocket from "ws";
import { defaultCodec, nsToTimestamp } from "../../schemas/index.ts";
import { FoxgloveLiveView, HEALTH_TOPIC } from "../../bin/daemon/foxglove.ts";
import { waitFor } from "../sensors/helpers.ts";

describe("bin/daemon/foxglove: live view", () => {
  it("advertises a protobuf channel per topic with the codec's FileDescriptorSet and streams subscribed messages", async () => {
    const codec = defaultCodec();
    const live = await FoxgloveLiveView.start({ host: "127.0.0.1", port: 0, codec });
    const ws = new WebSocket(live.url, ["foxglove.websocket.v1"]);
    const text: Array<Record<string, unknown>> = [];
    const binary: Buffer[] = [];
    ws.on("message", (data, isBinary) => (isBinary ? binary.push(data as Buffer) : text.push(JSON.parse(String(data)) as Record<string, unknown>)));
    try {
      await new Promise<void>((r, j) => (ws.once("open", () => r()), ws.once("error", j)));
      await waitFor(() => text.some((m) => m["op"] === "serverInfo"), "serverInfo");
      const bytes = codec.encode("fusiond.RadarScan", { timestamp: nsToTimestamp(5_000_000_000n), returns: [{ range_m: 12 }] });
      live.publish("vehicles/v/sensors/radar/front", "fusiond.RadarScan", bytes, 5_000_000_000n); // advertises; nobody subscribed yet
      live.publishJson(HEALTH_TOPIC, "fusiond.TopicHealth", { topic: "x", ok: true }, 5_000_000_000n);
      await waitFor(() => text.filter((m) => m["op"] === "advertise").length >= 2, "advertise");
      const channels = text.filter((m) => m["op"] === "advertise").flatMap((m) => m["channels"] as Array<Record<string, unknown>>);
      const radar = channels.find((c) => c["topic"] === "vehicles/v/sensors/radar/front")!;
      assert.equal(radar["encoding"], "protobuf");
      assert.equal(radar["schemaName"], "fusiond.RadarScan");
      assert.deepEqual(Buffer.from(radar["schema"] as string, "base64"), Buffer.from(codec.fileDescriptorSet("fusiond.RadarScan")));
      assert.ok(channels.some((c) => c["topic"] === HEALTH_TOPIC && c["encoding"] === "json"));
      ws.send(JSON.stringify({ op: "subscribe", subscriptions: [{ id: 7, channelId: radar["id"] }] }));
      await waitFor(() => live.subscriptions === 1, "the subscription");
      live.publish("vehicles/v/sensors/radar/front", "fusiond.RadarScan", bytes, 6_000_000_000n);
      await waitFor(() => binary.length === 1, "a message");
      const frame = binary[0]!;
      assert.equal(frame[0], 1, "opcode MessageData");
      assert.equal(frame.readUInt32LE(1), 7, "the client's subscription id");
      assert.equal(frame.readBigUInt64LE(5), 6_000_000_000n);
      assert.deepEqual(Buffer.from(frame.subarray(13)), Buffer.from(bytes));
    } finally {
      ws.close();
      await live.close();
    }
  });
});
