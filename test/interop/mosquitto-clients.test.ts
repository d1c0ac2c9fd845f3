/**
 * Interop with the real Mosquitto command-line clients: a message published with mosquitto_pub
 * (payload made by protoc --encode) arrives decoded through our MQTT source, and mosquitto_sub
 * reads exactly the bytes our MQTT sink published (and, on MQTT 5, its content type and schema).
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCodec, type SensorMessage } from "../../schemas/index.ts";
import { MqttTransport, SensorSink, SensorSource } from "../../sensors/index.ts";
import { mosquittoOrAedes, now, sleep, uniqueVehicle, type TestBroker } from "../sensors/helpers.ts";
import { protoc, requireTool, run } from "./tools.ts";

const RADAR_TEXT = `timestamp { seconds: 1700000000 nanos: 5 }
frame_id: "radar_front"
returns { range_m: 42.5 azimuth_rad: 0.25 radial_velocity_mps: -3 }
seq: 77
`;

describe("interop/mosquitto clients", function () {
  this.timeout(30_000);
  let broker: TestBroker;
  let transport: MqttTransport;
  let dir: string;
  let cli: { host: string; port: string; version: string };

  before(async () => {
    requireTool("protoc");
    requireTool("google-protos");
    requireTool("mosquitto_pub");
    requireTool("mosquitto_sub");
    broker = await mosquittoOrAedes();
    const url = new URL(broker.url);
    cli = { host: url.hostname, port: url.port, version: broker.kind === "mosquitto" ? "mqttv5" : "mqttv311" };
    transport = await MqttTransport.connect({ url: broker.url, now });
    dir = mkdtempSync(join(tmpdir(), "fusiond-mosq-"));
  });
  after(async () => {
    await transport?.close();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a message published with mosquitto_pub (payload from protoc --encode) arrives decoded through our MQTT source", async () => {
    const file = join(dir, "radar.bin");
    writeFileSync(file, protoc(["--encode=fusiond.RadarScan", "fusiond/radar_scan.proto"], RADAR_TEXT));
    const topic = `vehicles/${uniqueVehicle("mp")}/sensors/radar/front`;
    const source = new SensorSource(transport);
    const got: SensorMessage[] = [];
    const sub = source.messages([topic]).subscribe((m) => got.push(m));
    try {
      // Repeat until our subscription is live at the broker (then the first copy is enough).
      for (let i = 0; got.length === 0; i++) {
        if (i > 50) throw new Error("nothing published by mosquitto_pub arrived");
        await run("mosquitto_pub", ["-h", cli.host, "-p", cli.port, "-V", cli.version, "-q", "1", "-t", topic, "-f", file]).done;
        await sleep(50);
      }
      const m = got[0]!;
      assert.equal(m.type, "fusiond.RadarScan");
      assert.equal(m.stampNs, 1_700_000_000_000_000_005n);
      const msg = m.message as { seq: number; frame_id: string; returns: Array<{ range_m: number; azimuth_rad: number; radial_velocity_mps: number }> };
      assert.equal(msg.seq, 77);
      assert.equal(msg.frame_id, "radar_front");
      const r = msg.returns[0]!;
      assert.deepEqual([r.range_m, r.azimuth_rad, r.radial_velocity_mps], [42.5, 0.25, -3]);
      assert.deepEqual(source.counters.rejected.decode_error, 0);
    } finally {
      sub.unsubscribe();
      source.close();
    }
  });

  it("mosquitto_sub reads exactly the bytes our MQTT sink published, and protoc decodes them", async () => {
    const topic = `vehicles/${uniqueVehicle("ms")}/sensors/radar/rear`;
    const bytes = protoc(["--encode=fusiond.RadarScan", "fusiond/radar_scan.proto"], RADAR_TEXT);
    const sink = new SensorSink(transport);
    const common = ["-h", cli.host, "-p", cli.port, "-V", cli.version, "-q", "1", "-t", topic, "-C", "1"];
    const raw = run("mosquitto_sub", [...common, "-N"]);
    const props = broker.kind === "mosquitto" ? run("mosquitto_sub", [...common, "-F", "%C|%P|%t"]) : undefined;
    let finished = false;
    const all = Promise.all([raw.done, props?.done]).finally(() => (finished = true));
    try {
      // Publish until both subscribers have their message (they subscribe asynchronously).
      for (let i = 0; !finished; i++) {
        if (i > 100) throw new Error("mosquitto_sub got nothing");
        await sink.publish(topic, defaultCodec().decode("fusiond.RadarScan", bytes));
        await sleep(50);
      }
      const [payload, properties] = await all;
      assert.ok(payload!.equals(bytes), "byte for byte what protoc --encode made and we re-encoded");
      assert.match(protoc(["--decode=fusiond.RadarScan", "fusiond/radar_scan.proto"], payload).toString(), /seq: 77/);
      if (props) {
        assert.equal(properties!.toString().trim(), `application/x-protobuf|schema:fusiond.RadarScan|${topic}`);
      } else {
        console.log("    ! fell back to aedes (MQTT 3.1.1): content type and schema property not checked");
      }
    } finally {
      raw.kill();
      props?.kill();
      await all.catch(() => undefined);
    }
  });
});
