import { strict as assert } from "node:assert";
import { Publisher, Subscriber } from "zeromq";
import { MessageDecoder, type SensorMessage } from "../../schemas/index.ts";
import { SensorSource, ZmqSink, ZmqSource } from "../../sensors/index.ts";
import { audio, freePort, now, radar, sleep, waitFor } from "./helpers.ts";

describe("sensors/zmq-transport", function () {
  this.timeout(20_000);
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A SUB socket that subscribes and then never reads: the publisher's queues fill up. */
  async function stalledSubscriber(sink: ZmqSink): Promise<Subscriber> {
    const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 5 });
    cleanup.push(() => sub.close());
    sub.connect(sink.endpoint);
    sub.subscribe("");
    let received = false;
    void sub.receive().then(() => (received = true)); // one read, then never again
    for (let i = 0; ; i++) {
      // wait until the subscription reached the publisher: one message comes through
      await sink.publish("probe", new Uint8Array(1), { qos: 0 });
      await sleep(20);
      const got = received;
      if (got) return sub;
      if (i > 200) throw new Error("subscription never reached the publisher");
    }
  }

  it("at the high-water mark, the 'drop' policy refuses at once and counts it (zeromq says EAGAIN)", async () => {
    const sink = await ZmqSink.open({ endpoint: "tcp://127.0.0.1:*", sendHighWaterMark: 5, onFull: "drop" });
    cleanup.push(() => sink.close());
    await stalledSubscriber(sink);
    const payload = audio(1, 100_000);
    const results = [];
    const started = Date.now();
    for (let i = 0; i < 3000 && sink.counters.sendFailed === 0; i++) results.push(await sink.publish("vehicles/v/sensors/voice/m", payload, { qos: 0 }));
    assert.ok(sink.counters.sendFailed > 0, "the stalled subscriber made the socket full");
    const failed = results.find((r) => !r.ok);
    assert.equal(failed?.ok, false);
    assert.equal(!failed?.ok && failed?.reason, "send_failed");
    assert.match(!failed?.ok ? failed!.detail : "", /again|EAGAIN/i);
    assert.ok(Date.now() - started < 10_000, "no publish waited");
    assert.equal(sink.inFlight, 0);
  });

  it("a bounded wait policy retries for up to waitMs, then refuses and counts", async () => {
    const sink = await ZmqSink.open({ endpoint: "tcp://127.0.0.1:*", sendHighWaterMark: 5, onFull: { waitMs: 200 } });
    cleanup.push(() => sink.close());
    const sub = await stalledSubscriber(sink);
    const payload = audio(1, 100_000);
    let elapsed = 0;
    for (let i = 0; i < 3000 && sink.counters.sendFailed === 0; i++) {
      const t0 = Date.now();
      await sink.publish("vehicles/v/sensors/voice/m", payload, { qos: 0 });
      elapsed = Date.now() - t0;
    }
    assert.equal(sink.counters.sendFailed, 1);
    assert.ok(elapsed >= 190, `the refused publish waited about waitMs first (${elapsed} ms)`);
    // Many at once: each waits its turn (one pending send per socket), the window bounds the rest.
    const burst = await Promise.all(Array.from({ length: 5 }, () => sink.publish("vehicles/v/sensors/voice/m", payload, { qos: 0 })));
    assert.ok(burst.every((r) => !r.ok && r.reason === "send_failed"));
    // Once the subscriber reads again, a waiting send gets through within its wait.
    const t0 = Date.now();
    const waiting = sink.publish("vehicles/v/sensors/voice/m", payload, { qos: 0 });
    void (async () => {
      await sleep(10);
      for await (const _ of sub) void _; // drains until the socket is closed by cleanup
    })().catch(() => undefined);
    assert.deepEqual(await waiting, { ok: true });
    assert.ok(Date.now() - t0 >= 10, "it had to wait for the reader");
  });

  it("rejects a message that is not [topic, bytes] as decode_error and goes on", async () => {
    const pub = new Publisher({ linger: 0 });
    cleanup.push(() => pub.close());
    await pub.bind("tcp://127.0.0.1:*");
    const zsource = new ZmqSource({ endpoint: pub.lastEndpoint!, now });
    const source = new SensorSource(zsource, new MessageDecoder());
    cleanup.push(() => zsource.close());
    cleanup.push(() => source.close());
    const got: SensorMessage[] = [];
    source.messages(["vehicles/+/sensors/radar/+"]).subscribe((m) => got.push(m));
    const topic = "vehicles/v/sensors/radar/front";
    for (let i = 0; got.length === 0; i++) {
      if (i > 200) throw new Error("nothing came through");
      await pub.send([topic, radar(1)]);
      await sleep(10);
    }
    await pub.send([topic, radar(2), Buffer.from("extra")]);
    await pub.send([topic]);
    await pub.send([topic, radar(3)]);
    await waitFor(() => got.some((m) => (m.message as { seq: number }).seq === 3), "the scan after the bad ones");
    assert.equal(source.counters.rejected.decode_error, 2);
  });

  it("works the other way round: the source binds and the sensor's sink connects", async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const zsource = new ZmqSource({ endpoint, now, mode: "bind" });
    cleanup.push(() => zsource.close());
    const got: string[] = [];
    zsource.subscribe(["vehicles/#"]).subscribe((m) => got.push(m.topic));
    const sink = await ZmqSink.open({ endpoint, mode: "connect" });
    cleanup.push(() => sink.close());
    for (let i = 0; got.length === 0; i++) {
      if (i > 300) throw new Error("nothing came through");
      await sink.publish("vehicles/v/ego", radar(1), { qos: 0 });
      await sleep(10);
    }
    assert.equal(got[0], "vehicles/v/ego");
  });

  it("an endpoint that cannot be used fails with zmq_endpoint_failed", async () => {
    await assert.rejects(ZmqSink.open({ endpoint: "nonsense://x" }), (e: Error & { code?: string }) => e.code === "zmq_endpoint_failed");
    const zsource = new ZmqSource({ endpoint: "nonsense://x", now });
    cleanup.push(() => zsource.close());
    const err = await new Promise<unknown>((resolve) => zsource.subscribe(["#"]).subscribe({ error: resolve }));
    assert.equal((err as { code?: string }).code, "zmq_endpoint_failed");
    assert.equal(zsource.openSockets, 0, "the failed socket was closed");
  });
});
