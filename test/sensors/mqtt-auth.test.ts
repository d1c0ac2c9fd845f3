/**
 * MQTT with client certificates and a per-vehicle ACL, against a Mosquitto this test starts itself
 * (test/sensors/secure-mosquitto.ts): TLS, `require_certificate`, `use_identity_as_username`, and the
 * ACL as an acl_file (`pattern read vehicles/%u/#`) or the dynamic-security plugin.
 * What Mosquitto 2.0 does with a subscription outside the ACL, seen here: with an acl_file it grants
 * the SUBACK (MQTT 3.1.1 and 5 alike) and delivers nothing; with dynamic security it refuses the
 * SUBACK (0x80 on 3.1.1, 0x87 Not authorized on 5), which fails a subscription loudly.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { MqttTransport, type MqttTransportOptions } from "../../sensors/index.ts";
import { makePki, startSecureMosquitto, type ClientCert, type Pki, type SecureMosquitto } from "./secure-mosquitto.ts";
import { now, radar, sleep, uniqueVehicle, waitFor } from "./helpers.ts";

describe("MQTT with client certificates and a per-vehicle ACL (Mosquitto started by the test)", function () {
  this.timeout(60_000);
  let pki: Pki;
  const v1 = uniqueVehicle("a");
  const v2 = uniqueVehicle("b");
  let cert1: ClientCert;
  let cert2: ClientCert;
  const cleanup: Array<() => Promise<void> | void> = [];

  before(() => {
    pki = makePki();
    cert1 = pki.client(v1);
    cert2 = pki.client(v2);
  });
  after(() => pki?.remove());
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const tlsFor = (c: ClientCert, passphrase?: string): NonNullable<MqttTransportOptions["tls"]> => ({
    ca: readFileSync(pki.ca),
    cert: readFileSync(c.cert),
    key: readFileSync(c.key),
    ...(passphrase !== undefined ? { passphrase } : {}),
  });
  async function client(broker: SecureMosquitto, options: Partial<MqttTransportOptions>): Promise<MqttTransport> {
    const t = await MqttTransport.connect({ url: broker.url, now, connectTimeoutMs: 5000, ...options });
    cleanup.push(() => t.close());
    return t;
  }
  async function broker(acl: "acl_file" | "dynsec"): Promise<SecureMosquitto> {
    const b = await startSecureMosquitto(pki, [v1, v2], acl);
    cleanup.push(() => b.stop());
    return b;
  }

  describe("acl_file with pattern lines", () => {
    for (const protocolVersion of [4, 5] as const) {
      it(`MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}: a vehicle gets its own topics; a subscription outside its ACL is granted but delivers nothing`, async () => {
        const b = await broker("acl_file");
        const mine = await client(b, { tls: tlsFor(cert1), protocolVersion });
        const ownTopic = `vehicles/${v1}/sensors/radar/front`;
        const otherTopic = `vehicles/${v2}/sensors/radar/front`;
        const got: string[] = [];
        const stolen: string[] = [];
        const s1 = mine.subscribe([`vehicles/${v1}/sensors/#`]).subscribe((m) => got.push(m.topic));
        const s2 = mine.subscribe([`vehicles/${v2}/sensors/#`]).subscribe((m) => stolen.push(m.topic));
        cleanup.push(() => (s1.unsubscribe(), s2.unsubscribe()));
        // acl_file checks deliveries, not subscriptions: the SUBACK grants both.
        await mine.subscriptionsSettled();
        const theirs = await client(b, { tls: tlsFor(cert2), protocolVersion });
        const theirsGot: string[] = [];
        const s3 = theirs.subscribe([`vehicles/${v2}/sensors/#`]).subscribe((m) => theirsGot.push(m.topic));
        cleanup.push(() => s3.unsubscribe());
        await theirs.subscriptionsSettled();
        const sensors1 = await client(b, { tls: tlsFor(cert1), protocolVersion });
        for (let i = 0; i < 5; i++) await sensors1.publish(ownTopic, radar(i), { qos: 1 });
        for (let i = 0; i < 5; i++) await theirs.publish(otherTopic, radar(i), { qos: 1 });
        await waitFor(() => got.length === 5 && theirsGot.length === 5, `own data (got ${got.length}, theirs ${theirsGot.length})`);
        await sleep(300);
        assert.deepEqual(stolen, [], "the other vehicle's data must not reach this vehicle");
        // A publish outside the ACL is dropped by the broker (QoS 1 still acknowledged on 3.1.1).
        await sensors1.publish(otherTopic, radar(9), { qos: 1 }).catch(() => undefined);
        await sleep(300);
        assert.equal(theirsGot.length, 5, "a vehicle cannot publish on another vehicle's topics");
      });
    }

    it("refuses a client without a certificate, saying what to set", async () => {
      const b = await broker("acl_file");
      await assert.rejects(
        MqttTransport.connect({ url: b.url, now, tls: { ca: readFileSync(pki.ca) }, connectTimeoutMs: 3000, reconnect: { initialMs: 100, maxMs: 200 } }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "mqtt_connect_failed");
          assert.match(e.message, /certificate required/i);
          assert.match(e.message, /mqtt\.certFile/);
          return true;
        },
      );
    });

    it("refuses a certificate from a CA the broker does not trust", async () => {
      const b = await broker("acl_file");
      await assert.rejects(
        MqttTransport.connect({ url: b.url, now, tls: tlsFor(pki.stranger(v1)), connectTimeoutMs: 3000, reconnect: { initialMs: 100, maxMs: 200 } }),
        (e: Error & { code?: string }) => e.code === "mqtt_connect_failed",
      );
    });

    it("reads an encrypted client key with its passphrase; a wrong passphrase is an error that does not print it", async () => {
      const b = await broker("acl_file");
      const passphrase = "correct-horse-battery-staple";
      const enc = pki.client(v1, passphrase);
      assert.match(readFileSync(enc.key, "utf8"), /ENCRYPTED/);
      const t = await client(b, { tls: tlsFor(enc, passphrase) });
      assert.equal(t.client.connected, true);
      const wrong = "Tr0ub4dor&3-not-it";
      await assert.rejects(
        MqttTransport.connect({ url: b.url, now, tls: tlsFor(enc, wrong), connectTimeoutMs: 3000 }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "mqtt_connect_failed");
          assert.ok(!e.message.includes(wrong) && !JSON.stringify(e).includes(wrong), e.message);
          return true;
        },
      );
    });
  });

  describe("dynamic-security plugin", () => {
    for (const [protocolVersion, reason] of [
      [4, /unspecified error \(0x80\)/],
      [5, /not authorized \(0x87\)/],
    ] as const) {
      it(`MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}: a subscription outside the ACL is refused (SUBACK ${protocolVersion === 5 ? "0x87" : "0x80"}) with the topic, the reason and what to do`, async () => {
        const b = await broker("dynsec");
        const t = await client(b, { tls: tlsFor(cert1), protocolVersion });
        const got: string[] = [];
        const s1 = t.subscribe([`vehicles/${v1}/sensors/#`]).subscribe((m) => got.push(m.topic));
        let streamError: Error | undefined;
        const s2 = t.subscribe([`vehicles/${v2}/sensors/#`]).subscribe({ error: (e: Error) => (streamError = e) });
        cleanup.push(() => (s1.unsubscribe(), s2.unsubscribe()));
        await assert.rejects(t.subscriptionsSettled(), (e: Error & { code?: string; context?: Record<string, unknown> }) => {
          assert.equal(e.code, "subscribe_denied");
          assert.match(e.message, new RegExp(`"vehicles/${v2}/sensors/#"`));
          assert.match(e.message, reason);
          assert.match(e.message, /ACL/);
          assert.equal(e.context?.["pattern"], `vehicles/${v2}/sensors/#`);
          return true;
        });
        assert.equal((streamError as { code?: string } | undefined)?.code, "subscribe_denied");
        // The allowed subscription is unaffected.
        const pub = await client(b, { tls: tlsFor(cert1), protocolVersion });
        await pub.publish(`vehicles/${v1}/sensors/radar/front`, radar(1), { qos: 1 });
        await waitFor(() => got.length === 1, "the allowed subscription's message");
      });
    }
  });
});
