/**
 * ROS 2 types beyond the drive test's: radar_msgs/RadarScan (its definition only in the file), TwistStamped
 * for the ego motion, audio_common_msgs/AudioDataStamped for voice, an Image (bgr8), all in CDR.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapWriter, type IWritable } from "@mcap/core";
import { parse } from "@foxglove/rosmsg";
import { MessageWriter } from "@foxglove/rosmsg2-serialization";
import { convertRosFile, decodeRecording, fileSource, McapRecording } from "../../../replay/index.ts";
import { ros2SchemaText } from "../../fixtures/ros/ros2-mcap-writer.ts";

const TIME = "\n================================================================================\nMSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n";
const HEADER = "\n================================================================================\nMSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id" + TIME;
const SCHEMAS: Record<string, string> = {
  "radar_msgs/RadarScan":
    "std_msgs/Header header\nradar_msgs/RadarReturn[] returns\n================================================================================\nMSG: radar_msgs/RadarReturn\nfloat32 range\nfloat32 azimuth\nfloat32 elevation\nfloat32 doppler_velocity\nfloat32 amplitude" +
    HEADER,
  "audio_common_msgs/AudioDataStamped":
    "std_msgs/Header header\naudio_common_msgs/AudioData audio\n================================================================================\nMSG: audio_common_msgs/AudioData\nuint8[] data" + HEADER,
  "geometry_msgs/TwistStamped": ros2SchemaText("geometry_msgs/TwistStamped"),
  "sensor_msgs/Image": ros2SchemaText("sensor_msgs/Image"),
};

describe("ROS 2 types: radar_msgs, TwistStamped, AudioDataStamped, Image", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-rostest-types-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("converts each, stamps from the headers, receive times from log_time", async () => {
    const parts: Uint8Array[] = [];
    let pos = 0n;
    const writable: IWritable = { position: () => pos, write: async (b) => void (parts.push(b.slice()), (pos += BigInt(b.length))) };
    const w = new McapWriter({ writable });
    await w.start({ profile: "ros2", library: "test" });
    const header = (ns: number) => ({ stamp: { sec: 1700000000, nanosec: ns }, frame_id: "f" });
    let seq = 0;
    const put = async (topic: string, type: string, msg: unknown, logNs: bigint): Promise<void> => {
      const text = SCHEMAS[type]!;
      const schemaId = await w.registerSchema({ name: type.replace("/", "/msg/"), encoding: "ros2msg", data: new TextEncoder().encode(text) });
      const channelId = await w.registerChannel({ topic, schemaId, messageEncoding: "cdr", metadata: new Map() });
      await w.addMessage({ channelId, sequence: seq++, logTime: logNs, publishTime: logNs, data: new MessageWriter(parse(text, { ros2: true })).writeMessage(msg) });
    };
    const T = 1_700_000_000_000_000_000n;
    await put("/radar/scan", "radar_msgs/RadarScan", { header: header(5), returns: [{ range: 12, azimuth: 0.25, elevation: 0, doppler_velocity: -2, amplitude: 9 }] }, T + 10n);
    await put("/vehicle/twist", "geometry_msgs/TwistStamped", { header: header(7), twist: { linear: { x: 8.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.05 } } }, T + 11n);
    await put("/audio", "audio_common_msgs/AudioDataStamped", { header: header(9), audio: { data: new Uint8Array([1, 2, 3, 4]) } }, T + 12n);
    await put("/cam/image_raw", "sensor_msgs/Image", { header: header(11), height: 1, width: 2, encoding: "bgr8", is_bigendian: 0, step: 6, data: new Uint8Array(6) }, T + 13n);
    await w.end();
    const input = join(dir, "types.mcap");
    writeFileSync(input, Buffer.concat(parts));

    const output = join(dir, "out.mcap");
    const report = await convertRosFile(input, output);
    assert.deepEqual(report.unmapped, []);
    assert.deepEqual(report.rejected, []);
    const rec = await McapRecording.open(await fileSource(output));
    const got = new Map<string, { stamp: bigint; receive: bigint; message: Record<string, unknown> }>();
    for await (const { message: m } of decodeRecording(rec)) if (m) got.set(m.topic, { stamp: m.stampNs, receive: m.receiveNs, message: m.message });
    await rec.close();
    const radar = got.get("vehicles/ros/sensors/radar/0")!;
    assert.equal(radar.stamp, T + 5n);
    assert.equal(radar.receive, T + 10n);
    const ret = (radar.message["returns"] as Record<string, number>[])[0]!;
    assert.deepEqual([ret["range_m"], ret["azimuth_rad"], ret["elevation_rad"], ret["radial_velocity_mps"], ret["rcs_dbsm"]], [12, 0.25, 0, -2, 9]);
    const ego = got.get("vehicles/ros/ego")!;
    assert.equal(ego.stamp, T + 7n);
    assert.equal(ego.message["speed_mps"], 8.5);
    assert.ok(Math.abs(Number(ego.message["yaw_rate_rps"]) - 0.05) < 1e-12);
    assert.equal(ego.message["accel_mps2"], null, "no Imu: missing");
    const voice = got.get("vehicles/ros/sensors/voice/audio")!;
    assert.equal(voice.stamp, T + 9n);
    assert.deepEqual([...(voice.message["data"] as Uint8Array)], [1, 2, 3, 4]);
    const cam = got.get("vehicles/ros/sensors/camera_raw/cam")!;
    assert.equal(cam.message["encoding"], "bgr8");
    assert.equal(cam.stamp, T + 11n);
  });
});
