import { strict as assert } from "node:assert";
import protobuf from "protobufjs";
import { DEFAULT_TOPICS, FusiondError, MessageDecoder, PROTOBUF_CONTENT_TYPE, TopicRegistry, defaultCodec, nsToTimestamp, type RawMessage } from "../../schemas/index.ts";
import { wireMismatch } from "../../schemas/wire-check.ts";

const codec = defaultCodec();
const T0 = 1_700_000_000_000_000_000n;
const stamp = (i = 0): { seconds: number; nanos: number } => nsToTimestamp(T0 + BigInt(i) * 20_000_000n);

/** One realistic message per registry type (every field set, so every wire type shows up). */
export const SAMPLES: Record<string, object> = {
  "foxglove.CompressedImage": { timestamp: stamp(), frame_id: "front", data: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), format: "jpeg" },
  "foxglove.RawImage": { timestamp: stamp(), frame_id: "front", width: 2, height: 1, encoding: "rgb8", step: 6, data: new Uint8Array(6) },
  "fusiond.RadarScan": { timestamp: stamp(), frame_id: "front", returns: [{ range_m: 12, azimuth_rad: 0.1, elevation_rad: 0, radial_velocity_mps: -2, rcs_dbsm: 5 }], seq: 3 },
  "foxglove.LocationFix": { timestamp: stamp(), frame_id: "gnss", latitude: 48.1, longitude: 11.5, altitude: 520, position_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 4], position_covariance_type: 2 },
  "foxglove.RawAudio": { timestamp: stamp(), data: new Uint8Array(64), format: "pcm-s16", sample_rate: 16000, number_of_channels: 1 },
  "fusiond.EgoState": { timestamp: stamp(), speed_mps: 12.5, yaw_rate_rps: 0.01, steering_rad: 0.02, accel_mps2: 0.3, lane_index: 1, frame_id: "base", lane_change: 0 },
};

describe("schemas/wire-check: strict decoding", () => {
  it("decodes every sensor type's own payload, all fields set", () => {
    for (const [type, value] of Object.entries(SAMPLES)) {
      const bytes = codec.encode(type, value);
      assert.equal(wireMismatch(codec.type(type), bytes), undefined, type);
      assert.deepEqual(codec.decodeStrict(type, bytes), codec.decode(type, bytes), type);
    }
  });

  it("rejects an EgoState on every sensor topic as wrong_type (50 of 50 per topic)", () => {
    const decoder = new MessageDecoder({ registry: new TopicRegistry("ego1") });
    const topics = ["camera/front", "camera_raw/front", "radar/front", "gnss/main", "voice/cabin"].map((s) => `vehicles/ego1/sensors/${s}`);
    for (const topic of topics) {
      const reasons = new Map<string, number>();
      for (let i = 0; i < 50; i++) {
        const payload = codec.encode("fusiond.EgoState", { ...SAMPLES["fusiond.EgoState"], timestamp: stamp(i), speed_mps: 10 + i / 10 });
        const r = decoder.decode({ topic, payload, receiveNs: T0 });
        const reason = r.ok ? "accepted" : r.rejection.reason;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      assert.deepEqual([...reasons], [["wrong_type", 50]], topic);
    }
  });

  it("rejects each sensor type on every other sensor type's topic (no two types pass for each other)", () => {
    const decoder = new MessageDecoder({ registry: new TopicRegistry("ego1") });
    const registry = new TopicRegistry("ego1");
    for (const spec of DEFAULT_TOPICS.filter((s) => s.type in SAMPLES)) {
      const topic = spec.template.replace("{v}", "ego1").replace("{id}", "x");
      for (const [type, value] of Object.entries(SAMPLES)) {
        const r = decoder.decode({ topic, payload: codec.encode(type, value), receiveNs: T0 });
        if (type === spec.type) assert.ok(r.ok, `${type} on its own topic ${topic}`);
        else assert.equal(r.ok ? "accepted" : r.rejection.reason, "wrong_type", `${type} on ${topic}`);
      }
      assert.ok(registry.lookup(topic));
    }
  });

  it("names the unknown field or the mismatched wire type", () => {
    const t = codec.type("fusiond.RadarScan");
    const good = codec.encode("fusiond.RadarScan", SAMPLES["fusiond.RadarScan"]!);
    const extra = protobuf.Writer.create().uint32((9 << 3) | 0).uint32(1).finish(); // field 9, varint
    assert.match(wireMismatch(t, concat(good, extra))!, /RadarScan has no field 9/);
    const seqAsString = protobuf.Writer.create().uint32((4 << 3) | 2).string("x").finish(); // seq is uint32
    assert.match(wireMismatch(t, concat(good, seqAsString))!, /RadarScan\.seq \(field 4\) arrived as length-delimited, declared varint/);
    // Inside a nested message too: a Timestamp with a field 3.
    const ts = protobuf.Writer.create().uint32((3 << 3) | 0).uint32(7).finish();
    const badStamp = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(ts).finish();
    assert.match(wireMismatch(t, badStamp)!, /google\.protobuf\.Timestamp has no field 3/);
    assert.throws(() => codec.decodeStrict("fusiond.RadarScan", badStamp), (e: unknown) => e instanceof FusiondError && e.code === "wrong_type");
  });

  it("accepts repeated scalars packed (proto3's default) and unpacked (older writers), as the spec requires", () => {
    const t = codec.type("foxglove.LocationFix");
    const w = protobuf.Writer.create();
    for (const v of [1, 2, 3]) w.uint32((4 << 3) | 1).double(v); // position_covariance unpacked
    const unpacked = w.finish();
    assert.equal(wireMismatch(t, unpacked), undefined);
    assert.deepEqual(codec.decodeStrict("foxglove.LocationFix", unpacked)["position_covariance"], [1, 2, 3]);
    const packedBadLength = protobuf.Writer.create().uint32((4 << 3) | 2).bytes(new Uint8Array(12)).finish(); // 12 is not n × 8
    assert.throws(() => codec.decodeStrict("foxglove.LocationFix", packedBadLength), (e: unknown) => e instanceof FusiondError && e.code === "decode_error");
  });

  it("keeps bytes that are not protobuf a decode_error even where their first field mismatches the type", () => {
    const overrun = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]); // field 1, length-delimited, length past the end
    // On a LocationFix, field 1 is a double: the wire type mismatches before the length is read.
    assert.throws(() => codec.decodeStrict("foxglove.LocationFix", overrun), (e: unknown) => e instanceof FusiondError && e.code === "decode_error");
    assert.throws(() => codec.decodeStrict("fusiond.EgoState", Uint8Array.from([0x00, 0x01])), (e: unknown) => e instanceof FusiondError && e.code === "decode_error", "field number 0");
  });

  it("keeps truncated and overrunning bytes a decode_error, not a wrong_type", () => {
    const good = codec.encode("fusiond.RadarScan", SAMPLES["fusiond.RadarScan"]!);
    for (const cut of [1, 5, good.length - 1]) {
      assert.throws(() => codec.decodeStrict("fusiond.RadarScan", good.subarray(0, cut)), (e: unknown) => e instanceof FusiondError && e.code === "decode_error", `cut at ${cut}`);
    }
  });
});

describe("schemas/decode: MQTT 5 schema and content type", () => {
  const decoder = new MessageDecoder({ registry: new TopicRegistry("ego1") });
  const topic = "vehicles/ego1/sensors/radar/front";
  const payload = codec.encode("fusiond.RadarScan", SAMPLES["fusiond.RadarScan"]!);
  const reason = (extra: Partial<RawMessage>): string => {
    const r = decoder.decode({ topic, payload, receiveNs: T0, ...extra });
    return r.ok ? "accepted" : r.rejection.reason;
  };

  it("accepts a payload whose schema and content type name the topic's type (or that carries none)", () => {
    assert.equal(reason({}), "accepted");
    assert.equal(reason({ schema: "fusiond.RadarScan", contentType: PROTOBUF_CONTENT_TYPE }), "accepted");
  });

  it("rejects a schema naming another type, or another content type, as wrong_type, bytes notwithstanding", () => {
    assert.equal(reason({ schema: "fusiond.EgoState" }), "wrong_type");
    assert.equal(reason({ schema: "fusiond.RadarScan,fusiond.EgoState" }), "wrong_type");
    assert.equal(reason({ contentType: "application/json" }), "wrong_type");
  });
});

describe("schemas/decode: accepted topics", () => {
  it("rejects a registry topic the acceptTopic predicate refuses as unknown_topic, before decoding", () => {
    const decoder = new MessageDecoder({ registry: new TopicRegistry("ego1"), acceptTopic: (t) => t.endsWith("/front") });
    const payload = codec.encode("fusiond.RadarScan", SAMPLES["fusiond.RadarScan"]!);
    assert.ok(decoder.decode({ topic: "vehicles/ego1/sensors/radar/front", payload, receiveNs: T0 }).ok);
    const r = decoder.decode({ topic: "vehicles/ego1/sensors/radar/x", payload: new Uint8Array([0xff]), receiveNs: T0 });
    assert.ok(!r.ok && r.rejection.reason === "unknown_topic" && /not an accepted sensor id/.test(r.rejection.detail));
  });

  it("clips a long topic in the rejection's detail", () => {
    const decoder = new MessageDecoder({ registry: new TopicRegistry("ego1") });
    const r = decoder.decode({ topic: "x/".repeat(5000), payload: new Uint8Array(1), receiveNs: T0 });
    assert.ok(!r.ok && r.rejection.detail.length < 300);
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
