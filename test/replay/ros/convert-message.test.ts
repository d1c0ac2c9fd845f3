/** ROS messages → fusiond messages, one source type at a time. */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { convertCamera, convertGnss, convertRadar, convertVoice, parseMapping, type MappingRule } from "../../../replay/index.ts";

const rule = (extra: Partial<MappingRule> = {}): MappingRule => ({ ...parseMapping("topics:\n  - topic: /x\n    to: radar\n", "t").topics[0]!, ...extra });
const header = { stamp: { sec: 1700000000, nsec: 123456789 }, frame_id: "radar" };
const STAMP = 1_700_000_000_123_456_789n;

function cloud(points: number[][], names: string[], datatype: 7 | 8, bigEndian = false) {
  const size = datatype === 7 ? 4 : 8;
  const step = size * names.length;
  const data = new Uint8Array(step * points.length);
  const view = new DataView(data.buffer);
  points.forEach((p, i) => p.forEach((v, k) => (datatype === 7 ? view.setFloat32(i * step + k * size, v, !bigEndian) : view.setFloat64(i * step + k * size, v, !bigEndian))));
  return { header, height: 1, width: points.length, fields: names.map((name, k) => ({ name, offset: k * size, datatype, count: 1 })), is_bigendian: bigEndian, point_step: step, row_step: step * points.length, data, is_dense: true };
}

describe("ROS message conversion", () => {
  it("PointCloud2 radar → range/azimuth/elevation/radial velocity/rcs, float64 exact to rounding", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 200, noNaN: true }),
        fc.double({ min: -1.5, max: 1.5, noNaN: true }),
        fc.double({ min: -0.3, max: 0.3, noNaN: true }),
        (r, az, el) => {
          const g = r * Math.cos(el);
          const c = convertRadar("sensor_msgs/PointCloud2", cloud([[g * Math.cos(az), g * Math.sin(az), r * Math.sin(el), -3.5, 12]], ["x", "y", "z", "velocity", "rcs"], 8), rule(), STAMP, 0);
          assert.ok(c.ok);
          const ret = (c.value.message["returns"] as Record<string, number>[])[0]!;
          assert.ok(Math.abs(ret["range_m"]! - r) < 1e-9 && Math.abs(ret["azimuth_rad"]! - az) < 1e-12 && Math.abs(ret["elevation_rad"]! - el) < 1e-12);
          assert.equal(ret["radial_velocity_mps"], -3.5);
          assert.equal(ret["rcs_dbsm"], 12);
        },
      ),
    );
  });

  it("float32 and big-endian clouds; renamed fields; a cloud without velocity/rcs leaves them missing and says so", () => {
    const be = convertRadar("sensor_msgs/PointCloud2", cloud([[10, 0, 0, 2, 5]], ["x", "y", "z", "doppler", "rcs"], 7, true), rule({ fields: { velocity: "doppler" } }), STAMP, 3);
    assert.ok(be.ok);
    assert.deepEqual(be.value.message["returns"], [{ range_m: 10, azimuth_rad: 0, elevation_rad: 0, radial_velocity_mps: 2, rcs_dbsm: 5 }]);
    assert.equal(be.value.message["seq"], 3);
    const bare = convertRadar("sensor_msgs/PointCloud2", cloud([[0, 10, 0]], ["x", "y", "z"], 7), rule(), STAMP, 0);
    assert.ok(bare.ok);
    assert.deepEqual(bare.missing, ["radial_velocity_mps", "rcs_dbsm"]);
    assert.equal("radial_velocity_mps" in (bare.value.message["returns"] as object[])[0]!, false);
    const none = convertRadar("sensor_msgs/PointCloud2", cloud([[1, 2]], ["a", "b"], 7), rule(), STAMP, 0);
    assert.equal(none.ok, false);
  });

  it("radar_msgs/RadarScan", () => {
    const c = convertRadar("radar_msgs/RadarScan", { header, returns: [{ range: 20, azimuth: 0.1, elevation: 0, doppler_velocity: -1, amplitude: 7 }] }, rule(), STAMP, 9);
    assert.ok(c.ok);
    assert.deepEqual(c.value.message["returns"], [{ range_m: 20, azimuth_rad: 0.1, elevation_rad: 0, radial_velocity_mps: -1, rcs_dbsm: 7 }]);
  });

  it("cameras: CompressedImage jpeg/png (image_transport's format strings); Image rgb8/bgr8/mono8 → RawImage; others rejected with why", () => {
    const jpeg = convertCamera("sensor_msgs/CompressedImage", { header, format: "rgb8; jpeg compressed bgr8", data: new Uint8Array([1]) }, rule(), STAMP);
    assert.ok(jpeg.ok && jpeg.value.message["format"] === "jpeg" && jpeg.value.kind === "camera");
    const png = convertCamera("sensor_msgs/CompressedImage", { header, format: "png", data: new Uint8Array([1]) }, rule(), STAMP);
    assert.ok(png.ok && png.value.message["format"] === "png");
    const tiff = convertCamera("sensor_msgs/CompressedImage", { header, format: "tiff", data: new Uint8Array([1]) }, rule(), STAMP);
    assert.ok(!tiff.ok && /tiff/.test(tiff.reason));
    for (const encoding of ["rgb8", "bgr8", "mono8"]) {
      const ch = encoding === "mono8" ? 1 : 3;
      const raw = convertCamera("sensor_msgs/Image", { header, height: 2, width: 2, encoding, is_bigendian: 0, step: 2 * ch, data: new Uint8Array(4 * ch) }, rule(), STAMP);
      assert.ok(raw.ok && raw.value.kind === "camera_raw" && raw.value.type === "foxglove.RawImage" && raw.value.message["encoding"] === encoding);
    }
    const short = convertCamera("sensor_msgs/Image", { header, height: 2, width: 2, encoding: "rgb8", step: 6, data: new Uint8Array(3) }, rule(), STAMP);
    assert.ok(!short.ok);
    const f16 = convertCamera("sensor_msgs/Image", { header, height: 1, width: 1, encoding: "16UC1", step: 2, data: new Uint8Array(2) }, rule(), STAMP);
    assert.ok(!f16.ok && /16UC1/.test(f16.reason));
  });

  it("NavSatFix: a fix as LocationFix; STATUS_NO_FIX as fusiond's no-fix (NaN position, covariance unknown)", () => {
    const fix = convertGnss({ header, status: { status: 0, service: 1 }, latitude: 48.1, longitude: 11.5, altitude: 520, position_covariance: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 4]), position_covariance_type: 2 }, rule(), STAMP);
    assert.ok(fix.ok);
    assert.equal(fix.value.message["latitude"], 48.1);
    assert.deepEqual(fix.value.message["position_covariance"], [1, 0, 0, 0, 1, 0, 0, 0, 4]);
    assert.equal(fix.value.message["position_covariance_type"], 2);
    const none = convertGnss({ header, status: { status: -1 }, latitude: 0, longitude: 0, altitude: 0, position_covariance: new Float64Array(9), position_covariance_type: 0 }, rule(), STAMP);
    assert.ok(none.ok && Number.isNaN(none.value.message["latitude"]));
  });

  it("AudioData (no header) → RawAudio with the mapping's format; AudioDataStamped", () => {
    const a = convertVoice("audio_common_msgs/AudioData", { data: new Uint8Array([1, 2]) }, rule({ sampleRate: 22050 }), 5n);
    assert.ok(a.ok);
    assert.deepEqual({ ...a.value.message, timestamp: undefined }, { timestamp: undefined, data: new Uint8Array([1, 2]), format: "pcm-s16", sample_rate: 22050, number_of_channels: 1 });
    const s = convertVoice("audio_common_msgs/AudioDataStamped", { header, audio: { data: new Uint8Array([3]) } }, rule(), STAMP);
    assert.ok(s.ok && (s.value.message["data"] as Uint8Array)[0] === 3);
  });
});
