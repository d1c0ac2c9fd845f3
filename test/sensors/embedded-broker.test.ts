import { strict as assert } from "node:assert";
import mqtt from "mqtt";
import { EmbeddedBroker } from "../../sensors/index.ts";
import { freePort, netHandles, portOpen, waitFor } from "./helpers.ts";

describe("sensors/embedded-broker", () => {
  it("starts on a free port and stops with clients still connected, releasing every socket", async () => {
    const before = netHandles();
    const broker = await EmbeddedBroker.start();
    assert.match(broker.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    await client.publishAsync("a/b", "x", { qos: 1 });
    await broker.stop();
    await waitFor(() => !client.connected, "the client to see the broker go");
    await client.endAsync(true);
    await broker.stop(); // idempotent
    assert.equal(await portOpen(broker.port), false);
    await waitFor(() => netHandles() <= before, "Node's socket handles to be released");
  });

  it("starts on a given port, and again on the same port after a stop", async () => {
    const port = await freePort();
    const first = await EmbeddedBroker.start({ port });
    assert.equal(first.port, port);
    await first.stop();
    const second = await EmbeddedBroker.start({ port });
    assert.equal(second.port, port);
    await assert.rejects(EmbeddedBroker.start({ port }), /EADDRINUSE/);
    await second.stop();
  });

  it("delivers QoS 1 between two MQTT 3.1.1 clients", async () => {
    const broker = await EmbeddedBroker.start();
    const a = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const b = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const got: string[] = [];
    b.on("message", (_t, p) => got.push(p.toString()));
    await b.subscribeAsync("x/#", { qos: 1 });
    await a.publishAsync("x/y", "hello", { qos: 1 });
    await waitFor(() => got.length === 1, "the message");
    assert.deepEqual(got, ["hello"]);
    await Promise.all([a.endAsync(), b.endAsync()]);
    await broker.stop();
  });
});
