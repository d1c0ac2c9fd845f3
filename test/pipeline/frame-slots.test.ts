import { strict as assert } from "node:assert";
import { extrapolatedScanSlot, extrapolatedSlot, insertSample, interpolatedSlot, latestSlot, nearestSlot, type SampleBuffer } from "../../pipeline/index.ts";
import type { GnssMessage, RadarMessage } from "../../schemas/messages.ts";
import { msg, MS } from "./helpers.ts";

const fix = (ms: number, lat: number, lon: number, alt: number) => msg("gnss", BigInt(ms) * MS, { latitude: lat, longitude: lon, altitude: alt, frame_id: `f${ms}` });
const FIELDS = ["latitude", "longitude", "altitude"];

describe("pipeline/frame-slots", () => {
  it("interpolates the named fields linearly, takes the rest from the nearer sample, and stamps t", () => {
    const buf: SampleBuffer = [fix(100, 48.0, 11.0, 500), fix(200, 48.1, 11.2, 510)];
    const slot = interpolatedSlot(buf, 175n * MS, 150n * MS, FIELDS, "timestamp")!;
    assert.equal(slot.interpolated, true);
    assert.equal(slot.held, false);
    assert.equal(slot.ageNs, 0n);
    assert.equal(slot.stampNs, 175n * MS);
    assert.ok(Math.abs(((slot.message as GnssMessage).latitude) - 48.075) < 1e-12);
    assert.ok(Math.abs(((slot.message as GnssMessage).longitude) - 11.15) < 1e-12);
    assert.ok(Math.abs(((slot.message as GnssMessage).altitude) - 507.5) < 1e-9);
    assert.equal((slot.message as GnssMessage).frame_id, "f200");
    assert.deepEqual((slot.message as GnssMessage).timestamp, { seconds: 0, nanos: 175_000_000 });
  });

  it("uses a sample exactly at t as it is, holds one side within the max age, and gives nothing beyond it", () => {
    const buf: SampleBuffer = [fix(100, 1, 2, 3), fix(200, 4, 5, 6)];
    const exact = interpolatedSlot(buf, 200n * MS, 50n * MS, FIELDS, "timestamp")!;
    assert.deepEqual([exact.interpolated, exact.held, (exact.message as GnssMessage).latitude], [false, false, 4]);
    const held = interpolatedSlot(buf, 240n * MS, 50n * MS, FIELDS, "timestamp")!;
    assert.deepEqual([held.held, held.stampNs, held.ageNs], [true, 200n * MS, 40n * MS]);
    const early = interpolatedSlot(buf, 60n * MS, 50n * MS, FIELDS, "timestamp")!;
    assert.deepEqual([early.held, early.ageNs], [true, -40n * MS]);
    assert.equal(interpolatedSlot(buf, 300n * MS, 50n * MS, FIELDS, "timestamp"), undefined);
  });

  it("picks the nearest radar scan within tolerance, the earlier one on a tie", () => {
    const buf: SampleBuffer = [msg("radar", 90n * MS), msg("radar", 110n * MS), msg("radar", 130n * MS)];
    assert.equal(nearestSlot(buf, 100n * MS, 20n * MS)!.stampNs, 90n * MS);
    assert.equal(nearestSlot(buf, 125n * MS, 20n * MS)!.stampNs, 130n * MS);
    assert.equal(nearestSlot(buf, 200n * MS, 20n * MS), undefined);
  });

  it("keeps the latest voice utterance at or before t within the TTL", () => {
    const buf: SampleBuffer = [msg("voice", 100n * MS), msg("voice", 300n * MS)];
    assert.equal(latestSlot(buf, 250n * MS, 200n * MS)!.stampNs, 100n * MS);
    assert.equal(latestSlot(buf, 350n * MS, 200n * MS)!.stampNs, 300n * MS);
    assert.equal(latestSlot(buf, 350n * MS, 20n * MS), undefined);
    assert.equal(latestSlot(buf, 50n * MS, 200n * MS), undefined);
  });

  it("keeps buffers sorted by (stamp, topic) and refuses a duplicate", () => {
    const buf: SampleBuffer = [];
    assert.ok(insertSample(buf, msg("radar", 20n, {}, 0n, "b")));
    assert.ok(insertSample(buf, msg("radar", 10n, {}, 0n, "b")));
    assert.ok(insertSample(buf, msg("radar", 20n, {}, 0n, "a")));
    assert.equal(insertSample(buf, msg("radar", 20n, {}, 0n, "b")), false);
    assert.deepEqual(buf.map((m) => `${m.stampNs}${m.topic}`), ["10b", "20a", "20b"]);
  });

  it("extrapolates from the last two samples of the topic when the one after t has not arrived; otherwise interpolates or holds", () => {
    const other = msg("gnss", 190n * MS, { latitude: 0, longitude: 0, altitude: 0 }, 190n * MS, "vehicles/t/sensors/gnss/other");
    const buf: SampleBuffer = [fix(100, 48.0, 11.0, 500), fix(200, 48.1, 11.2, 510)];
    insertSample(buf, other);
    const ex = extrapolatedSlot(buf, 250n * MS, 100n * MS, FIELDS, "timestamp")!;
    assert.deepEqual([ex.extrapolated, ex.held, ex.interpolated, ex.stampNs, ex.ageNs], [true, false, false, 250n * MS, 50n * MS]);
    assert.ok(Math.abs(((ex.message as GnssMessage).latitude) - 48.15) < 1e-12, String((ex.message as GnssMessage).latitude));
    assert.ok(Math.abs(((ex.message as GnssMessage).altitude) - 515) < 1e-9);
    assert.deepEqual((ex.message as GnssMessage).timestamp, { seconds: 0, nanos: 250_000_000 });
    assert.deepEqual(ex.inputs!.map((i) => i.stampNs), [100n * MS, 200n * MS], "both samples are its inputs (the other topic is not)");
    // Between two samples it interpolates, as interpolatedSlot does.
    assert.deepEqual(extrapolatedSlot(buf, 150n * MS, 100n * MS, FIELDS, "timestamp"), interpolatedSlot(buf, 150n * MS, 100n * MS, FIELDS, "timestamp"));
    // Only one sample of the topic, or the older one too old: held.
    const one: SampleBuffer = [fix(200, 48.1, 11.2, 510)];
    assert.equal(extrapolatedSlot(one, 250n * MS, 100n * MS, FIELDS, "timestamp")!.held, true);
    const gap: SampleBuffer = [fix(0, 48.0, 11.0, 500), fix(200, 48.1, 11.2, 510)];
    assert.equal(extrapolatedSlot(gap, 250n * MS, 100n * MS, FIELDS, "timestamp")!.held, true);
  });
  it("moves a radar scan's returns to t along their radial velocity (range + v·Δt, never below 0), forward and back", () => {
    const returns = [
      { range_m: 40, azimuth_rad: 0.1, elevation_rad: 0, radial_velocity_mps: -10, rcs_dbsm: 10 }, // approaching
      { range_m: 60, azimuth_rad: -0.2, elevation_rad: 0.01, radial_velocity_mps: 5, rcs_dbsm: 3 }, // receding
      { range_m: 0.2, azimuth_rad: 0, elevation_rad: 0, radial_velocity_mps: -20, rcs_dbsm: 0 }, // about to touch
      { range_m: 30, azimuth_rad: 0, elevation_rad: 0, rcs_dbsm: 0 }, // no Doppler: stays
    ];
    const before = msg("radar", 70n * MS, { returns, seq: 7 });
    const after = msg("radar", 120n * MS, { returns, seq: 8 });
    const slot = extrapolatedScanSlot([before], 100n * MS, 50n * MS, "timestamp")!;
    const r = (slot.message as RadarMessage).returns;
    assert.deepEqual([slot.extrapolated, slot.held, slot.interpolated, slot.stampNs, slot.ageNs], [true, false, false, 100n * MS, 30n * MS]);
    assert.ok(Math.abs(r[0]!.range_m - 39.7) < 1e-9, String(r[0]!.range_m));
    assert.ok(Math.abs(r[1]!.range_m - 60.15) < 1e-9, String(r[1]!.range_m));
    assert.equal(r[2]!.range_m, 0);
    assert.equal(r[3]!.range_m, 30);
    assert.deepEqual([r[0]!.azimuth_rad, r[1]!.elevation_rad, r[1]!.rcs_dbsm, (slot.message as RadarMessage).seq], [0.1, 0.01, 3, 7], "everything but the range as measured");
    assert.deepEqual((slot.message as RadarMessage).timestamp, { seconds: 0, nanos: 100_000_000 });
    assert.deepEqual(slot.inputs, [{ topic: before.topic, stampNs: 70n * MS }], "one input: the scan");
    assert.equal((before.message as RadarMessage).returns[0]!.range_m, 40, "the buffered scan is not changed");
    // The nearest scan wins; one after t is moved back (age < 0); one at t is taken as it is; none within the tolerance: nothing.
    const back = extrapolatedScanSlot([before, after], 100n * MS, 50n * MS, "timestamp")!;
    assert.deepEqual([back.ageNs, back.inputs![0]!.stampNs], [-20n * MS, 120n * MS]);
    assert.ok(Math.abs((back.message as RadarMessage).returns[0]!.range_m - 40.2) < 1e-9);
    assert.deepEqual(extrapolatedScanSlot([after], 120n * MS, 50n * MS, "timestamp"), nearestSlot([after], 120n * MS, 50n * MS));
    assert.equal(extrapolatedScanSlot([before], 200n * MS, 50n * MS, "timestamp"), undefined);
  });
});
