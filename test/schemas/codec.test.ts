import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import "protobufjs/ext/descriptor.js";
import { FusiondError, PROTO_DIR, defaultCodec, eventStampNs, nsToTimestamp, timestampToNs } from "../../schemas/index.ts";
import { generateFoxgloveProtos } from "../../scripts/generate-foxglove-protos.ts";

describe("schemas/codec", () => {
  const codec = defaultCodec();

  it("knows every wire type of docs/architecture.md", () => {
    for (const t of [
      "foxglove.CompressedImage",
      "foxglove.RawImage",
      "foxglove.LocationFix",
      "foxglove.RawAudio",
      "fusiond.RadarScan",
      "fusiond.EgoState",
      "fusiond.DrivingDecision",
      "fusiond.SimStep",
      "fusiond.GroundTruth",
    ]) {
      assert.ok(codec.typeNames().includes(t), t);
    }
  });

  it("round-trips a radar scan with its stamp", () => {
    const stamp = 1_700_000_000_123_456_789n;
    const bytes = codec.encode("fusiond.RadarScan", {
      timestamp: nsToTimestamp(stamp),
      returns: [{ range_m: 12.5, azimuth_rad: -0.25, elevation_rad: 0.01, radial_velocity_mps: -3, rcs_dbsm: 7 }],
      seq: 9,
    });
    const msg = codec.decode("fusiond.RadarScan", bytes);
    assert.equal(eventStampNs(msg, "timestamp"), stamp);
    assert.equal(msg.returns[0]!.range_m, 12.5);
    assert.equal(msg.returns[0]!.azimuth_rad, -0.25);
  });

  it("encodes the action enum by name and number", () => {
    const bytes = codec.encode("fusiond.DrivingDecision", { action: "BRAKE_HARD", probabilities: [{ action: 7, probability: 0.5 }] });
    const json = codec.toJSON("fusiond.DrivingDecision", codec.decode("fusiond.DrivingDecision", bytes));
    assert.equal(json["action"], "BRAKE_HARD");
    assert.deepEqual(json["probabilities"], [{ action: "STOP", probability: 0.5 }]);
  });

  it("refuses an unknown enum name instead of encoding it as 0", () => {
    // The types refuse these at compile time; the codec must refuse them at run time too (names from the wire or a config).
    // @ts-expect-error not a DrivingAction
    assert.throws(() => codec.encode("fusiond.DrivingDecision", { action: "FLY" }), /action: unknown DrivingAction value "FLY"; allowed: .*BRAKE_HARD/);
    // @ts-expect-error not a DrivingAction
    assert.throws(() => codec.encode("fusiond.DrivingDecision", { probabilities: [{ action: "NOPE" }] }), /probabilities\.action: unknown DrivingAction/);
  });

  it("rejects bytes that are not the type with a decode_error naming the type", () => {
    assert.throws(
      () => codec.decode("fusiond.RadarScan", Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f])),
      (e: unknown) => e instanceof FusiondError && e.code === "decode_error" && e.message.startsWith("fusiond.RadarScan"),
    );
  });

  it("rejects an unknown type with the list of known ones", () => {
    assert.throws(() => codec.encode("fusiond.Nope", {}), /unknown message type "fusiond.Nope"; known: .*fusiond.RadarScan/);
  });

  it("orders the descriptor files dependencies first, the type's own file last", () => {
    const files = codec.fileClosure("foxglove.LocationFix");
    assert.equal(files.at(-1), "foxglove/LocationFix.proto");
    for (const dep of ["foxglove/Color.proto", "foxglove/Vector3.proto", "foxglove/KeyValuePair.proto", "google/protobuf/timestamp.proto"]) {
      assert.ok(files.indexOf(dep) >= 0 && files.indexOf(dep) < files.length - 1, dep);
    }
  });

  it("builds a FileDescriptorSet from which protobufjs alone decodes the message", () => {
    for (const typeName of ["fusiond.SimStep", "foxglove.LocationFix", "fusiond.DrivingDecision"]) {
      const root = protobuf.Root.fromDescriptor(codec.fileDescriptorSet(typeName), { keepCase: true });
      const bytes = codec.encode(typeName, {});
      assert.doesNotThrow(() => root.lookupType(typeName).decode(bytes), typeName);
    }
    const root = protobuf.Root.fromDescriptor(codec.fileDescriptorSet("foxglove.LocationFix"), { keepCase: true });
    const decoded = root.lookupType("foxglove.LocationFix").decode(codec.encode("foxglove.LocationFix", { latitude: 48.1, heading: 1.5 }));
    assert.equal((decoded as unknown as { latitude: number }).latitude, 48.1);
  });

  it("keeps the generated Foxglove .proto files equal to the generator's output", () => {
    for (const [rel, text] of generateFoxgloveProtos()) {
      assert.equal(readFileSync(join(PROTO_DIR, rel), "utf8"), text, `${rel} is stale: run npm run generate:protos`);
    }
  });

  it("converts timestamps exactly, negative ones included", () => {
    for (const ns of [0n, 1n, 999_999_999n, 1_000_000_000n, 1_700_000_000_123_456_789n, -1n]) {
      assert.equal(timestampToNs(nsToTimestamp(ns)), ns);
    }
  });
});

import { MessageDecoder, TopicRegistry as Registry } from "../../schemas/index.ts";

describe("schemas/decode", () => {
  const codec = defaultCodec();
  const decoder = new MessageDecoder({ registry: new Registry("ego1"), maxBytes: 1000 });
  const topic = "vehicles/ego1/sensors/radar/front";

  it("decodes a payload on a known topic into a SensorMessage with event and receive stamps", () => {
    const payload = codec.encode("fusiond.RadarScan", { timestamp: { seconds: 3, nanos: 5 } });
    const r = decoder.decode({ topic, payload, receiveNs: 99n });
    assert.ok(r.ok);
    if (r.ok) {
      assert.equal(r.message.kind, "radar");
      assert.equal(r.message.type, "fusiond.RadarScan");
      assert.equal(r.message.stampNs, 3_000_000_005n);
      assert.equal(r.message.receiveNs, 99n);
      assert.equal(r.message.bytes, payload);
    }
  });

  it("rejects unknown topics, oversized, undecodable and unstamped payloads with a reason", () => {
    const reason = (topic: string, payload: Uint8Array): string | undefined => {
      const r = decoder.decode({ topic, payload, receiveNs: 1n });
      return r.ok ? undefined : r.rejection.reason;
    };
    assert.equal(reason("vehicles/ego1/lidar", new Uint8Array(1)), "unknown_topic");
    assert.equal(reason(topic, new Uint8Array(1001)), "oversized");
    assert.equal(reason(topic, Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f])), "decode_error");
    assert.equal(reason(topic, codec.encode("fusiond.RadarScan", { seq: 1 })), "invalid");
  });
});
