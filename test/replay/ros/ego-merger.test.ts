/**
 * EgoMerger pairs each motion sample (Odometry/Twist) with the Imu sample of the same stamp, whichever comes
 * first; one without an Imu partner goes out after the window without an acceleration (missing, not zero).
 *
 *   Imu:     ...a.....b.....        (stamps 10, 30 ms)
 *   Odom:    ..A.....B......C       (stamps 10, 30, 50 ms)
 *   Ego:     ...A+a..B+b....  C (no accel, once the window has passed)
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { EgoMerger, type EgoOut } from "../../../replay/index.ts";

const ms = (n: number): bigint => BigInt(Math.round(n * 1e6));
const options = () => ({ toleranceNs: ms(5), windowNs: ms(100), yawFromImu: false, scalarMaxAgeNs: ms(1000) });

describe("EgoMerger", () => {
  it("pairs by stamp in either order; an unpaired sample goes out after the window, its acceleration missing", () => {
    const out: EgoOut[] = [];
    const m = new EgoMerger((e) => out.push(e), options());
    m.motion({ stampNs: ms(10), receiveNs: ms(11), speed: 10, yawRate: 0.1, frameId: "odom" });
    assert.equal(out.length, 0, "waits for its Imu sample");
    m.imu({ stampNs: ms(10), accel: 0.5, yawRate: 0.2 }, ms(12));
    m.imu({ stampNs: ms(30), accel: 0.7, yawRate: 0.2 }, ms(31));
    m.motion({ stampNs: ms(30), receiveNs: ms(32), speed: 11, yawRate: 0.1, frameId: "odom" });
    m.motion({ stampNs: ms(50), receiveNs: ms(51), speed: 12, yawRate: 0.1, frameId: "odom" });
    assert.deepEqual(out.map((e) => [e.stampNs, e.message["accel_mps2"], e.paired]), [[ms(10), 0.5, true], [ms(30), 0.7, true]]);
    m.expire(ms(160));
    assert.equal(out.length, 3);
    assert.equal("accel_mps2" in out[2]!.message, false, "missing, not 0");
    assert.equal(out[2]!.message["yaw_rate_rps"], 0.1);
  });

  it("yawFromImu: the yaw rate comes from the paired Imu sample", () => {
    const out: EgoOut[] = [];
    const m = new EgoMerger((e) => out.push(e), { ...options(), yawFromImu: true });
    m.imu({ stampNs: ms(10), accel: 0.5, yawRate: 0.2 }, ms(10));
    m.motion({ stampNs: ms(12), receiveNs: ms(12), speed: 10, yawRate: 0.1, frameId: "" });
    assert.equal(out[0]!.message["yaw_rate_rps"], 0.2);
  });

  it("holds a lane index from its own topic; stale after scalarMaxAgeNs", () => {
    const out: EgoOut[] = [];
    const m = new EgoMerger((e) => out.push(e), options());
    m.scalar("lane_index", 2, ms(0));
    m.imu({ stampNs: ms(10), accel: 0, yawRate: 0 }, ms(10));
    m.motion({ stampNs: ms(10), receiveNs: ms(10), speed: 1, yawRate: 0, frameId: "" });
    m.imu({ stampNs: ms(2000), accel: 0, yawRate: 0 }, ms(2000));
    m.motion({ stampNs: ms(2000), receiveNs: ms(2000), speed: 1, yawRate: 0, frameId: "" });
    assert.equal(out[0]!.message["lane_index"], 2);
    assert.equal("lane_index" in out[1]!.message, false);
  });

  it("property: every motion sample comes out exactly once, with the stamp it went in with", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ imu: fc.boolean(), t: fc.integer({ min: 0, max: 2000 }) }), { maxLength: 60 }), (events) => {
        const out: EgoOut[] = [];
        const m = new EgoMerger((e) => out.push(e), options());
        const stamps: bigint[] = [];
        let now = 0;
        for (const e of events) {
          now += 3;
          if (e.imu) m.imu({ stampNs: ms(e.t), accel: 1, yawRate: 0 }, ms(now));
          else {
            stamps.push(ms(e.t));
            m.motion({ stampNs: ms(e.t), receiveNs: ms(now), speed: 1, yawRate: 0, frameId: "" });
          }
        }
        m.end();
        assert.deepEqual(out.map((o) => o.stampNs).sort(), stamps.sort());
        for (const o of out) assert.equal(o.paired, "accel_mps2" in o.message);
      }),
    );
  });
});
