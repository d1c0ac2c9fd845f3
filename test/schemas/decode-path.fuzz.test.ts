/**
 * The decode path fuzzed (issue 22 point 8): codec → validate → features, ≥ 100,000 fast-check inputs
 * (FUZZ_RUNS to change; FUZZ_SEED to replay a run): no input crashes it, and every input ends in
 * exactly one counted outcome. Long runs: scripts/fuzz-decode.ts.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { defaultCodec, nsToTimestamp } from "../../schemas/index.ts";
import { DecodePath, T0, VEHICLE, fuzzInput } from "../../scripts/fuzz-decode-harness.ts";

const RUNS = Number(process.env["FUZZ_RUNS"] ?? 100_000);

describe("decode path: fuzzed", function () {
  this.timeout(180_000);

  it(`survives ${RUNS.toLocaleString("en")} inputs: no crash, every input accepted or rejected with a counted reason`, () => {
    const path = new DecodePath();
    const t0 = Date.now();
    const seed = process.env["FUZZ_SEED"] === undefined ? undefined : Number(process.env["FUZZ_SEED"]);
    fc.assert(
      fc.property(fuzzInput, (input) => {
        path.run(input);
      }),
      { numRuns: RUNS, ...(seed === undefined ? {} : { seed }) },
    );
    const seconds = (Date.now() - t0) / 1000;
    const outcomes = Object.fromEntries([...path.outcomes].sort((a, b) => b[1] - a[1]));
    console.log(`    ${RUNS} inputs in ${seconds.toFixed(1)} s: ${JSON.stringify(outcomes)}`);
    if (path.nonFinite.size) console.log(`    non-finite features: ${JSON.stringify(Object.fromEntries(path.nonFinite))}`);
    assert.equal(path.total(), RUNS, "one outcome per input");
    // The mix reaches every stage: accepted messages, and each of the decode stage's rejections.
    for (const o of ["accepted", "decode_error", "wrong_type", "unknown_topic", "invalid"] as const) assert.ok((outcomes[o] ?? 0) > RUNS / 200, `${o}: ${outcomes[o]}`);
    assert.deepEqual(Object.fromEntries(path.nonFinite), {}, "no NaN/Infinity reaches the model");
  });

  // What the fuzzing found, kept as cases (each one fixed in fusion/features).
  describe("found by fuzzing", () => {
    const codec = defaultCodec();
    const timestamp = nsToTimestamp(T0);
    const run = (type: string, topic: string, value: object): { outcome: string; ms: number; path: DecodePath } => {
      const path = new DecodePath();
      const t0 = Date.now();
      const outcome = path.run({ topic: `vehicles/${VEHICLE}/${topic}`, payload: codec.encode(type, { timestamp, ...value }), receiveOffsetNs: 0n, freshStream: true });
      return { outcome, ms: Date.now() - t0, path };
    };

    it("a 4 MiB RawAudio at 1 Hz neither throws (it did: a 33-billion-sample resample) nor stalls (64 KB took 33 s)", () => {
      for (const bytes of [64 * 1024, 4 * 1024 * 1024 - 64]) {
        const r = run("foxglove.RawAudio", "sensors/voice/cabin", { data: new Uint8Array(bytes).fill(3), format: "pcm-s16", sample_rate: 1, number_of_channels: 1 });
        assert.equal(r.outcome, "accepted");
        assert.ok(r.ms < 2000, `${bytes} bytes took ${r.ms} ms`);
      }
    });

    it("a RawImage claiming 20000×20000 pixels with a 1-byte row step in 40 KB is unusable, not a 1.2 GB fill", () => {
      const r = run("foxglove.RawImage", "sensors/camera_raw/front", { width: 20000, height: 20000, step: 1, encoding: "mono8", data: new Uint8Array(40_000) });
      assert.equal(r.outcome, "accepted");
      assert.ok(r.ms < 2000, `took ${r.ms} ms`);
      // Refused before any pixel is touched: by the pixel budget (or, under it, by the bytes a row needs).
      const problems = [...r.path.featureProblems.keys()];
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, /^camera: raw image N×N .*(over the N Mpx budget|needs more than N bytes)/);
    });

    it("a radar return closing at 1e300 m/s gives finite features (it gave Float32 Infinity)", () => {
      const r = run("fusiond.RadarScan", "sensors/radar/front", { returns: [{ range_m: 10, azimuth_rad: 0, elevation_rad: 0, radial_velocity_mps: -1e300, rcs_dbsm: 5 }] });
      assert.equal(r.outcome, "accepted");
      assert.equal(r.path.nonFinite.size, 0);
    });
  });
});
