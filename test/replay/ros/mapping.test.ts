/** The ROS mapping file (zod-validated YAML) and the defaults by type. */
import { strict as assert } from "node:assert";
import { FusiondError } from "../../../schemas/index.ts";
import { DEFAULT_MAPPING, defaultSensorId, parseMapping, resolveConnection } from "../../../replay/index.ts";

const conn = (topic: string, type: string) => ({ topic, type });

describe("ROS mapping", () => {
  it("parses a mapping file; explicit rules win over the defaults", () => {
    const m = parseMapping(
      `vehicle: ego1
topics:
  - topic: /sensors/cam*/compressed
    to: camera
    id: front
  - topic: /lidar/points
    to: skip
  - topic: /radar/points
    to: radar
    fields: { velocity: doppler }
`,
      "ros.yaml",
    );
    assert.equal(m.vehicle, "ego1");
    const cam = resolveConnection(m, conn("/sensors/cam0/compressed", "sensor_msgs/CompressedImage"));
    assert.equal(cam.rule?.id, "front");
    assert.equal(cam.rule?.to, "camera");
    assert.equal(resolveConnection(m, conn("/lidar/points", "sensor_msgs/PointCloud2")).rule, undefined);
    assert.deepEqual(resolveConnection(m, conn("/radar/points", "sensor_msgs/PointCloud2")).rule?.fields, { velocity: "doppler" });
    // Not named: the defaults, by type.
    assert.equal(resolveConnection(m, conn("/gps/fix", "sensor_msgs/NavSatFix")).rule?.to, "gnss");
  });

  it("rejects a bad file with every problem, its path in the file and a pointer to the docs", () => {
    const bad = (text: string, pattern: RegExp): void =>
      assert.throws(() => parseMapping(text, "ros.yaml"), (e: FusiondError) => e.code === "bad_mapping" && /ros\.yaml/.test(e.message) && pattern.test(e.message));
    bad("topics:\n  - topic: /x\n    to: lidar\n", /topics\.0\.to/);
    bad("topics:\n  - topic: /x\n    to: camera\n    colour: red\n", /colour|unrecognized/i);
    bad("vehicle: a/b\n", /vehicle/);
    bad("topics:\n  - topic: /x\n    to: camera\n    type: sensor_msgs/NavSatFix\n", /camera takes sensor_msgs\/CompressedImage/);
    bad("topics: [\n", /not YAML/);
  });

  it("a rule that maps a topic to a stream of another type is an error naming the topic", () => {
    const m = parseMapping("topics:\n  - topic: /odom\n    to: camera\n", "ros.yaml");
    assert.throws(() => resolveConnection(m, conn("/odom", "nav_msgs/Odometry")), (e: FusiondError) => e.code === "bad_mapping" && /\/odom/.test(e.message));
  });

  it("the defaults: common types by type; PointCloud2 only where the topic says radar; integers only for the lane", () => {
    const to = (topic: string, type: string): string => resolveConnection(DEFAULT_MAPPING, conn(topic, type)).rule?.to ?? "-";
    assert.equal(to("/cam/image_raw", "sensor_msgs/Image"), "camera");
    assert.equal(to("/cam/image_raw/compressed", "sensor_msgs/CompressedImage"), "camera");
    assert.equal(to("/front_radar/points", "sensor_msgs/PointCloud2"), "radar");
    assert.equal(to("/velodyne_points", "sensor_msgs/PointCloud2"), "-");
    assert.equal(to("/radar/scan", "radar_msgs/RadarScan"), "radar");
    assert.equal(to("/odom", "nav_msgs/Odometry"), "ego");
    assert.equal(to("/vehicle/twist", "geometry_msgs/TwistStamped"), "ego");
    assert.equal(to("/imu", "sensor_msgs/Imu"), "ego");
    assert.equal(to("/audio", "audio_common_msgs/AudioData"), "voice");
    assert.equal(to("/vehicle/lane_index", "std_msgs/UInt8"), "ego");
    assert.equal(to("/counter", "std_msgs/Int32"), "-");
    assert.equal(to("/tf", "tf2_msgs/TFMessage"), "-");
    assert.match((resolveConnection(DEFAULT_MAPPING, conn("/tf", "tf2_msgs/TFMessage")) as { reason: string }).reason, /no fusiond stream/);
  });

  it("sensor ids from topic names", () => {
    assert.equal(defaultSensorId("/camera/front/image_raw/compressed", "camera"), "front");
    assert.equal(defaultSensorId("/radar/front/points", "radar"), "front");
    assert.equal(defaultSensorId("/gps/fix", "gnss"), "0");
    assert.equal(defaultSensorId("/left_cam/image_raw", "camera"), "left_cam");
  });
});
