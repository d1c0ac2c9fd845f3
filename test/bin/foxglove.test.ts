/** The Foxglove WebSocket live view: a client (speaking foxglove.websocket.v1) sees the channels and gets the messages it subscribes to. */
import { strict as assert } from "node:assert";
import WebSocket from "ws";
import { defaultCodec, nsToTimestamp } from "../../schemas/index.ts";
import { FoxgloveLiveView, HEALTH_TOPIC, originAllowed } from "../../bin/daemon/foxglove.ts";
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

  /** Opens a WebSocket and resolves with "open" or the HTTP status it was refused with. */
  function attempt(url: string, headers: Record<string, string> = {}): Promise<number | "open"> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ["foxglove.websocket.v1"], { headers });
      ws.once("open", () => (ws.close(), resolve("open")));
      ws.once("unexpected-response", (_req, res) => (resolve(res.statusCode ?? 0), ws.terminate()));
      ws.once("error", (e) => reject(e));
    });
  }

  it("accepts no Origin and loopback origins by default, refuses any other Origin with 403, and admits listed ones", async () => {
    const live = await FoxgloveLiveView.start({ host: "127.0.0.1", port: 0, codec: defaultCodec() });
    const listed = await FoxgloveLiveView.start({ host: "127.0.0.1", port: 0, codec: defaultCodec(), allowedOrigins: ["https://app.foxglove.dev"] });
    try {
      assert.equal(await attempt(live.url), "open", "a non-browser client sends no Origin");
      for (const origin of ["http://localhost:3000", "http://127.0.0.1:8080", "https://[::1]"]) assert.equal(await attempt(live.url, { origin }), "open", origin);
      for (const origin of ["https://evil.example", "http://localhost.evil.example", "https://app.foxglove.dev", "null", "file://"]) {
        assert.equal(await attempt(live.url, { origin }), 403, origin);
      }
      assert.equal(await attempt(listed.url, { origin: "https://app.foxglove.dev" }), "open");
      assert.equal(await attempt(listed.url, { origin: "https://evil.example" }), 403);
      assert.equal(originAllowed("HTTPS://APP.FOXGLOVE.DEV/", ["https://app.foxglove.dev"]), true);
    } finally {
      await live.close();
      await listed.close();
    }
  });

  it("with a token, refuses a client without it (401) and admits one that sends it as a Bearer header or ?token=", async () => {
    const token = "live-view-token-0123456789";
    const live = await FoxgloveLiveView.start({ host: "127.0.0.1", port: 0, codec: defaultCodec(), token });
    try {
      assert.equal(await attempt(live.url), 401);
      assert.equal(await attempt(live.url, { authorization: "Bearer wrong-token-0123456789" }), 401);
      assert.equal(await attempt(`${live.url}/?token=nope`), 401);
      assert.equal(await attempt(live.url, { authorization: `Bearer ${token}` }), "open");
      assert.equal(await attempt(`${live.url}/?token=${token}`), "open");
      // The Origin check comes first: the right token from a foreign page is still refused.
      assert.equal(await attempt(`${live.url}/?token=${token}`, { origin: "https://evil.example" }), 403);
    } finally {
      await live.close();
    }
  });
});
