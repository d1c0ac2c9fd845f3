import { strict as assert } from "node:assert";
import { from, lastValueFrom, toArray } from "rxjs";
import { FusiondError, nsToTimestamp } from "../../schemas/index.ts";
import { MemoryBus, MemoryTransport, SensorSink, type PublishResult, type RawSink } from "../../sensors/index.ts";
import { codec, now, STAMP0 } from "./helpers.ts";

describe("sensors/sensor-sink", () => {
  const decision = { frame_stamp: nsToTimestamp(STAMP0), action: "BRAKE_HARD" as const, target_speed_mps: 0 };

  it("encodes with the topic's type and publishes with its registry QoS and type", async () => {
    const bus = new MemoryBus();
    const transport = new MemoryTransport(bus, { now });
    const sink = new SensorSink(transport);
    assert.deepEqual(await sink.publish("vehicles/ego1/decision", decision), { ok: true });
    const [sent] = bus.history;
    assert.equal(sent!.topic, "vehicles/ego1/decision");
    assert.deepEqual(sent!.options, { qos: 1, type: "fusiond.DrivingDecision" });
    assert.equal(codec.toJSON("fusiond.DrivingDecision", codec.decode("fusiond.DrivingDecision", sent!.payload))["action"], "BRAKE_HARD");
    assert.equal(sink.counters.sent, 1);
    await transport.close();
  });

  it("publishEncoded sends bytes encoded once as they are, with the topic's QoS and type", async () => {
    const bus = new MemoryBus();
    const transport = new MemoryTransport(bus, { now });
    const sink = new SensorSink(transport);
    const bytes = codec.encode("fusiond.DrivingDecision", decision);
    assert.deepEqual(await sink.publishEncoded("vehicles/ego1/decision", bytes), { ok: true });
    const [sent] = bus.history;
    assert.deepEqual([...sent!.payload], [...bytes]);
    assert.deepEqual(sent!.options, { qos: 1, type: "fusiond.DrivingDecision" });
    await assert.rejects(sink.publishEncoded("nowhere/x", bytes), (e: unknown) => e instanceof FusiondError && e.code === "unknown_topic");
    await transport.close();
  });

  it("refuses a topic outside the registry and a message that does not fit its type", async () => {
    const sink = new SensorSink(new MemoryTransport(new MemoryBus(), { now }));
    await assert.rejects(sink.publish("nowhere/x", decision), (e: unknown) => e instanceof FusiondError && e.code === "unknown_topic");
    await assert.rejects(
      sink.publish("vehicles/ego1/decision", { frame_stamp: 5 }),
      (e: unknown) => e instanceof FusiondError && e.code === "invalid_message",
    );
  });

  it("publishAll sends one at a time: the next publish starts when the previous one is done", async () => {
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    const slow: RawSink = {
      inFlight: 0,
      counters: { sent: 0, queueOverflow: 0, sendFailed: 0 },
      async publish(topic): Promise<PublishResult> {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 2));
        order.push(topic);
        active--;
        return { ok: true };
      },
      close: async () => {},
    };
    const sink = new SensorSink(slow);
    const topics = ["vehicles/a/decision", "vehicles/b/decision", "vehicles/c/decision"];
    const results = await lastValueFrom(sink.publishAll(from(topics.map((topic) => ({ topic, message: decision })))).pipe(toArray()));
    assert.equal(results.length, 3);
    assert.equal(maxActive, 1);
    assert.deepEqual(order, topics);
  });
});
