import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createNetServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import sinon from "sinon";
import { MessageDecoder, TopicRegistry } from "../../schemas/index.ts";
import { EmbeddedBroker, MqttTransport, PROTOBUF_CONTENT_TYPE, SensorSource, type MqttStatusEvent } from "../../sensors/index.ts";
import { mosquittoOrAedes, now, radar, sleep, uniqueVehicle, waitFor } from "./helpers.ts";

describe("sensors/mqtt-transport", function () {
  this.timeout(20_000);
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    sinon.restore();
  });

  async function broker(port?: number): Promise<EmbeddedBroker> {
    const b = await EmbeddedBroker.start(port === undefined ? {} : { port });
    cleanup.push(() => b.stop());
    return b;
  }
  async function transport(options: Partial<Parameters<typeof MqttTransport.connect>[0]> & { url: string }): Promise<MqttTransport> {
    const t = await MqttTransport.connect({ now, ...options });
    cleanup.push(() => t.close());
    return t;
  }

  it("speaks MQTT 5 to Mosquitto and tags each publish with content type and schema", async () => {
    const b = await mosquittoOrAedes();
    cleanup.push(() => b.stop());
    const sink = await transport({ url: b.url });
    const topic = `vehicles/${uniqueVehicle()}/sensors/radar/front`;
    const observer = await mqtt.connectAsync(b.url, { protocolVersion: b.kind === "mosquitto" ? 5 : 4 });
    cleanup.push(() => observer.endAsync());
    const got: mqtt.IPublishPacket[] = [];
    observer.on("message", (_t, _p, packet) => got.push(packet));
    await observer.subscribeAsync(topic, { qos: 1 });
    await sink.publish(topic, radar(1), { qos: 1 });
    await waitFor(() => got.length === 1, "the observer to get the message");
    if (b.kind === "mosquitto") {
      assert.equal(sink.protocolVersion, 5);
      assert.equal(got[0]!.properties?.contentType, PROTOBUF_CONTENT_TYPE);
      assert.deepEqual({ ...got[0]!.properties?.userProperties }, { schema: "fusiond.RadarScan" });
    } else {
      console.log("    ! fell back to aedes: checked that MQTT 3.1.1 was chosen and carries no properties");
      assert.equal(sink.protocolVersion, 4);
      assert.equal(got[0]!.properties, undefined);
    }
  });

  it("passes MQTT 5's schema and content type on, so that a payload naming another type is rejected as wrong_type", async () => {
    const b = await mosquittoOrAedes();
    cleanup.push(() => b.stop());
    if (b.kind !== "mosquitto") {
      console.log("    ! fell back to aedes (MQTT 3.1.1 only): no properties to check; the decoder's check is tested in test/schemas/strict-decode.test.ts");
      return;
    }
    const vehicle = uniqueVehicle();
    const topic = `vehicles/${vehicle}/sensors/radar/front`;
    const registry = new TopicRegistry(vehicle);
    const source = new SensorSource(await transport({ url: b.url, registry }), new MessageDecoder({ registry }));
    const accepted: number[] = [];
    const sub = source.messages([topic]).subscribe((m) => accepted.push((m.message as { seq: number }).seq));
    cleanup.push(async () => sub.unsubscribe());
    const pub = await mqtt.connectAsync(b.url, { protocolVersion: 5 });
    cleanup.push(() => pub.endAsync());
    const send = (seq: number, properties: mqtt.IClientPublishOptions["properties"]): Promise<unknown> =>
      pub.publishAsync(topic, Buffer.from(radar(seq)), { qos: 1, ...(properties ? { properties } : {}) });
    // Until the daemon-side SUBSCRIBE is in place, probes are lost: send them until one arrives.
    for (let i = 0; source.counters.received === 0; i++) {
      if (i > 200) throw new Error("the subscription never took effect");
      await send(0, undefined);
      await sleep(20);
    }
    await waitFor(() => accepted.length > 0, "a probe");
    const before = source.counters.received;
    accepted.length = 0;
    await send(1, { contentType: PROTOBUF_CONTENT_TYPE, userProperties: { schema: "fusiond.RadarScan" } });
    await send(2, { contentType: PROTOBUF_CONTENT_TYPE, userProperties: { schema: "fusiond.EgoState" } });
    await send(3, { contentType: "application/json" });
    await send(4, undefined);
    await waitFor(() => source.counters.received >= before + 4 && accepted.includes(4), "four messages at the source");
    assert.deepEqual(accepted.filter((seq) => seq > 0), [1, 4]);
    assert.equal(source.counters.rejected.wrong_type, 2);
  });

  it("falls back to MQTT 3.1.1 on aedes, which refuses MQTT 5; 'auto' is the default", async () => {
    const b = await broker();
    assert.equal((await transport({ url: b.url })).protocolVersion, 4);
    await assert.rejects(
      MqttTransport.connect({ url: b.url, now, protocolVersion: 5 }),
      (e: Error & { code?: string }) => e.code === "mqtt_connect_failed" && /Unacceptable protocol version/.test(e.message),
    );
  });

  it("subscribes with the QoS the topic registry gives each pattern, and unsubscribes when the last user leaves", async () => {
    const b = await broker();
    const requested: Array<[string, number]> = [];
    const unsubscribed: string[] = [];
    b.aedes.on("subscribe", (subs) => requested.push(...subs.map((s) => [s.topic, s.qos] as [string, number])));
    b.aedes.on("unsubscribe", (topics) => unsubscribed.push(...topics));
    const t = await transport({ url: b.url, defaultQos: 0 });
    const voice = "vehicles/v1/sensors/voice/+";
    const camera = "vehicles/v1/sensors/camera/+";
    const s1 = t.subscribe([voice, camera, "other/#"]).subscribe();
    const s2 = t.subscribe([voice]).subscribe();
    await waitFor(() => requested.length === 3, "three SUBSCRIBEs (shared patterns subscribed once)");
    assert.deepEqual(new Map(requested), new Map([[voice, 1], [camera, 0], ["other/#", 0]]));
    s1.unsubscribe();
    await waitFor(() => unsubscribed.length === 2, "camera and other/# to be unsubscribed");
    assert.deepEqual(unsubscribed.sort(), [camera, "other/#"].sort(), "voice still has a user");
    s2.unsubscribe();
    await waitFor(() => unsubscribed.includes(voice), "voice to be unsubscribed");
  });

  it("turns Nagle off on the client socket (a 6x throughput difference at QoS 1 4 KB)", async () => {
    const spy = sinon.spy(Socket.prototype, "setNoDelay");
    const b = await broker();
    const t = await transport({ url: b.url });
    assert.ok(spy.getCalls().some((c) => c.thisValue === t.client.stream && c.args[0] === true));
  });

  it("passes username and password through; refused credentials fail at once with mqtt_connect_failed", async () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    const b = await EmbeddedBroker.start({
      aedes: {
        authenticate: (_client, username, password, done) => {
          seen.push([username, password?.toString()]);
          const ok = username === "fusiond" && password?.toString() === "s3cret";
          done(ok ? null : Object.assign(new Error("bad credentials"), { returnCode: 4 as const }), ok);
        },
      },
    });
    cleanup.push(() => b.stop());
    await transport({ url: b.url, username: "fusiond", password: "s3cret" });
    const started = Date.now();
    await assert.rejects(
      MqttTransport.connect({ url: b.url, now, username: "fusiond", password: "wrong", connectTimeoutMs: 10_000 }),
      (e: Error & { code?: string }) => e.code === "mqtt_connect_failed",
    );
    assert.ok(Date.now() - started < 5000, "a refused CONNACK is not retried until the timeout");
    assert.deepEqual(seen, [
      ["fusiond", "s3cret"],
      ["fusiond", "wrong"],
    ]);
  });

  it("passes TLS options through: mqtts with our CA connects, without it the self-signed certificate is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fusiond-tls-"));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "pipe" });
    } catch (err) {
      throw new Error(`this test needs openssl (Debian package "openssl"): ${(err as Error).message}`);
    }
    const cert = readFileSync(join(dir, "cert.pem"));
    const aedes = await Aedes.createBroker();
    const server = createTlsServer({ key: readFileSync(join(dir, "key.pem")), cert }, (s) => aedes.handle(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanup.push(async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    });
    const url = `mqtts://127.0.0.1:${(server.address() as { port: number }).port}`;
    const t = await transport({ url, tls: { ca: cert } });
    assert.equal(t.client.connected, true);
    await assert.rejects(
      MqttTransport.connect({ url, now, connectTimeoutMs: 800, reconnect: { initialMs: 100, maxMs: 200 } }),
      (e: Error & { code?: string }) => e.code === "mqtt_connect_failed" && /self[- ]signed/i.test(e.message),
    );
  });

  it("reconnects with growing backoff, fails QoS 0 publishes while offline, and resubscribes when the broker returns", async () => {
    const b = await broker();
    const port = b.port;
    const events: MqttStatusEvent[] = [];
    const t = await transport({ url: b.url, reconnect: { initialMs: 100, maxMs: 1000 }, onStatus: (e) => events.push(e) });
    const topic = `vehicles/${uniqueVehicle()}/sensors/radar/front`;
    const got: string[] = [];
    const sub = t.subscribe([topic]).subscribe((m) => got.push(m.topic));
    cleanup.push(async () => sub.unsubscribe());
    await b.stop();
    // While the broker is away, something on its port that hangs up at once: each attempt is seen.
    const attempts: number[] = [];
    const refuser = createNetServer((s) => {
      attempts.push(performance.now());
      s.destroy();
    });
    await new Promise<void>((r) => refuser.listen(port, "127.0.0.1", r));
    await waitFor(() => attempts.length >= 4, "four reconnect attempts", 10_000);
    await new Promise<void>((r) => refuser.close(() => r()));
    const gaps = attempts.slice(1, 4).map((a, i) => a - attempts[i]!);
    // Nominal 200, 400, 800 ms (±20 % jitter); a late timer only lengthens a gap, so lower bounds are safe.
    assert.ok(gaps[0]! >= 150 && gaps[1]! >= 310 && gaps[2]! >= 630, `gaps between attempts grow: ${gaps.map((g) => g.toFixed(0)).join(", ")} ms`);
    const delays = events.flatMap((e) => (e.kind === "reconnecting" ? [e.delayMs] : []));
    assert.ok(delays[0]! >= 80 && delays[0]! <= 120, `first delay is the initial 100 ms ± 20 %: ${delays[0]}`);
    const offline = await t.publish(topic, radar(1), { qos: 0 });
    assert.equal(offline.ok, false, "QoS 0 while offline is refused, not queued without bound");
    assert.equal(t.counters.sendFailed, 1);

    await broker(port); // the broker is back on the same port
    await waitFor(() => t.client.connected, "the reconnection", 10_000);
    assert.equal(events.at(-1)?.kind, "connected");
    const other = await transport({ url: `mqtt://127.0.0.1:${port}` });
    for (let i = 0; got.length === 0; i++) {
      if (i > 200) throw new Error("the resubscription never delivered");
      await other.publish(topic, radar(2), { qos: 1 });
      await sleep(10);
    }
    assert.equal(got[0], topic);
  });
});
