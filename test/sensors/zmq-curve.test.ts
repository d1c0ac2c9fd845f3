/**
 * ZeroMQ CURVE with an allow-list enforced by our ZAP handler (sensors/zmq-zap.ts), on real sockets
 * over tcp loopback: an allowed key connects and gets the data, an unknown key and a plaintext peer
 * get nothing, whichever end serves (the decision PUB that binds, or a SUB that binds).
 */
import { strict as assert } from "node:assert";
import { Publisher, Subscriber, curveKeyPair } from "zeromq";
import type { RawMessage } from "../../schemas/index.ts";
import {
  formatCurveCertificate,
  parseCurveCertificate,
  z85Encode,
  zapCounters,
  ZmqSink,
  ZmqSource,
  type CurveKeyPair,
  type ZapDenial,
} from "../../sensors/index.ts";
import { freePort, now, radar, sleep, waitFor } from "./helpers.ts";

describe("sensors/zmq CURVE and the ZAP allow-list", function () {
  this.timeout(20_000);
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const pair = (): CurveKeyPair => curveKeyPair();

  it("encodes Z85 as RFC 32 says (its test vector) and reads back the certificate files it writes", () => {
    assert.equal(z85Encode(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])), "HelloWorld");
    const p = pair();
    const secret = formatCurveCertificate(p, "secret", "2026-12-07T00:00:00Z");
    const pub = formatCurveCertificate(p, "public", "2026-12-07T00:00:00Z");
    assert.deepEqual(parseCurveCertificate(secret, "x.key_secret"), p);
    assert.deepEqual(parseCurveCertificate(pub, "x.key"), { publicKey: p.publicKey });
    assert.ok(!pub.includes(p.secretKey));
    assert.throws(() => parseCurveCertificate("curve\n    public-key = \"short\"\n", "bad.key"), (e: Error & { code?: string }) => {
      assert.equal(e.code, "bad_curve_key");
      assert.match(e.message, /bad\.key/);
      return true;
    });
  });

  it("the decision PUB as CURVE server: an allowed subscriber gets the data; an unknown key and a plaintext subscriber get nothing", async () => {
    const server = pair();
    const allowed = pair();
    const stranger = pair();
    const denials: ZapDenial[] = [];
    const sink = await ZmqSink.open({
      endpoint: "tcp://127.0.0.1:*",
      curve: { role: "server", secretKey: server.secretKey, allow: [allowed.publicKey], onDenied: (d) => denials.push(d) },
    });
    cleanup.push(() => sink.close());
    const source = (keys: CurveKeyPair | undefined): { got: RawMessage[] } => {
      const src = new ZmqSource({ endpoint: sink.endpoint, now, ...(keys ? { curve: { role: "client", ...keys, serverKey: server.publicKey } } : {}) });
      const got: RawMessage[] = [];
      const sub = src.subscribe(["vehicles/+/decision"]).subscribe((m) => got.push(m));
      cleanup.push(async () => (sub.unsubscribe(), await src.close()));
      return { got };
    };
    const ok = source(allowed);
    const unknown = source(stranger);
    const plain = source(undefined);
    const deniedBefore = zapCounters.denied;
    // PUB/SUB joins late: publish until the allowed subscriber has several messages.
    for (let i = 0; ok.got.length < 5; i++) {
      await sink.publish("vehicles/v1/decision", radar(i), { qos: 0 });
      await sleep(20);
      if (i > 250) throw new Error("the allowed subscriber never received anything");
    }
    for (let i = 0; i < 10; i++) {
      await sink.publish("vehicles/v1/decision", radar(100 + i), { qos: 0 });
      await sleep(20);
    }
    assert.equal(unknown.got.length, 0, "a client key outside the allow-list gets nothing");
    assert.equal(plain.got.length, 0, "a plaintext client gets nothing");
    await waitFor(() => denials.some((d) => d.clientKey === stranger.publicKey), "the ZAP denial of the unknown key");
    assert.ok(denials.every((d) => d.clientKey !== allowed.publicKey));
    assert.match(denials[0]!.reason, /allow-list/);
    assert.ok(zapCounters.denied > deniedBefore);
  });

  it("a SUB that binds as CURVE server: an allowed sensor's messages arrive; an unknown key's and a plaintext sensor's do not", async () => {
    const server = pair();
    const allowed = pair();
    const stranger = pair();
    // The sensors connect, so they need the port before the bind: a free one rather than a wildcard.
    const port = await freePort();
    const bound = new ZmqSource({ endpoint: `tcp://127.0.0.1:${port}`, now, mode: "bind", curve: { role: "server", secretKey: server.secretKey, allow: [allowed.publicKey] } });
    const got: RawMessage[] = [];
    const sub = bound.subscribe(["vehicles/+/sensors/#"]).subscribe((m) => got.push(m));
    cleanup.push(async () => (sub.unsubscribe(), await bound.close()));
    const publisher = (keys: CurveKeyPair | undefined): Publisher => {
      const pub = new Publisher({ linger: 0 });
      if (keys) {
        pub.curveServerKey = server.publicKey;
        pub.curvePublicKey = keys.publicKey;
        pub.curveSecretKey = keys.secretKey;
      }
      pub.connect(`tcp://127.0.0.1:${port}`);
      cleanup.push(() => pub.close());
      return pub;
    };
    const good = publisher(allowed);
    const bad = publisher(stranger);
    const plain = publisher(undefined);
    for (let i = 0; got.filter((m) => m.topic.endsWith("/good")).length < 5; i++) {
      await good.send(["vehicles/v1/sensors/radar/good", radar(i)]);
      await bad.send(["vehicles/v1/sensors/radar/bad", radar(i)]);
      await plain.send(["vehicles/v1/sensors/radar/plain", radar(i)]);
      await sleep(20);
      if (i > 250) throw new Error("the allowed sensor's messages never arrived");
    }
    await sleep(200);
    assert.deepEqual([...new Set(got.map((m) => m.topic))], ["vehicles/v1/sensors/radar/good"]);
  });

  it("a plaintext SUB socket next to a CURVE one in the same process is not affected by the ZAP handler", async () => {
    const server = pair();
    const curveSink = await ZmqSink.open({ endpoint: "tcp://127.0.0.1:*", curve: { role: "server", secretKey: server.secretKey, allow: [] } });
    cleanup.push(() => curveSink.close());
    const plainSink = await ZmqSink.open({ endpoint: "tcp://127.0.0.1:*" });
    cleanup.push(() => plainSink.close());
    const sub = new Subscriber({ linger: 0 });
    cleanup.push(() => sub.close());
    sub.connect(plainSink.endpoint);
    sub.subscribe("");
    let received = 0;
    void (async () => {
      for await (const _ of sub) received++;
    })();
    for (let i = 0; received === 0; i++) {
      await plainSink.publish("t", radar(i), { qos: 0 });
      await sleep(20);
      if (i > 250) throw new Error("plaintext PUB/SUB did not work beside a CURVE server");
    }
  });
});
