/**
 * Properties of the fused-frame aligner over thousands of generated drives: the same messages give
 * the same frames whatever the arrival interleaving (when nothing is later than the allowed
 * lateness); frames come out once each, in stamp order; memory stays bounded under any input
 * (out of order, duplicates, late, gaps); every message is accounted for.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { MODALITIES, type FusedFrame, type Modality, type SensorMessage } from "../../schemas/types.ts";
import { FrameAligner, type AlignerConfig } from "../../pipeline/index.ts";
import { eventContent, msg, MS, reading } from "./helpers.ts";

const config: AlignerConfig = {
  radarToleranceNs: 30n * MS,
  gnssMaxAgeNs: 150n * MS,
  egoMaxAgeNs: 40n * MS,
  voiceTtlNs: 500n * MS,
  allowedLatenessNs: 60n * MS,
  maxDelayNs: 10_000n * MS,
  // Wait for every input, nothing extrapolated (the aligner's defaults are the daemon's: gnss and ego neither).
  noWaitFor: [],
  extrapolate: [],
};

/** Stamps of one modality: strictly increasing, gaps 1..maxGap ms with rare long gaps (sensor dropouts). */
const stampsOf = (maxGap: number, maxLen: number): fc.Arbitrary<number[]> =>
  fc
    .array(fc.oneof({ weight: 19, arbitrary: fc.integer({ min: 1, max: maxGap }) }, { weight: 1, arbitrary: fc.integer({ min: maxGap, max: 4 * maxGap }) }), { maxLength: maxLen })
    .map((gaps) => {
      let t = 0;
      return gaps.map((g) => (t += g));
    });

const drive = fc.record({
  camera: stampsOf(60, 25),
  radar: stampsOf(60, 25),
  gnss: stampsOf(120, 12),
  ego: stampsOf(25, 60),
  voice: stampsOf(900, 3),
});

type Drive = Record<Modality, number[]>;

/** The drive's messages, received at stamp + latency (latency ≤ 60 ms = the allowed lateness). */
function arrivals(d: Drive, latencies: number[]): SensorMessage[] {
  const out: SensorMessage[] = [];
  let k = 0;
  for (const kind of MODALITIES) {
    for (const ms of d[kind]) {
      const lat = (latencies[k++ % Math.max(1, latencies.length)] ?? 0) % 61;
      const stampNs = BigInt(ms) * MS;
      out.push(msg(kind, stampNs, reading(kind, stampNs), stampNs + BigInt(lat) * MS));
    }
  }
  return out.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
}

function alignAll(messages: SensorMessage[], cfg: AlignerConfig = config): { frames: FusedFrame[]; aligner: FrameAligner; maxHeld: number } {
  const aligner = new FrameAligner(cfg);
  const frames: FusedFrame[] = [];
  let maxHeld = 0;
  for (const m of messages) {
    frames.push(...aligner.push(m, m.receiveNs));
    maxHeld = Math.max(maxHeld, aligner.held);
  }
  frames.push(...aligner.flush(messages.at(-1)?.receiveNs ?? 0n));
  return { frames, aligner, maxHeld };
}

describe("pipeline/frame-aligner (properties)", () => {
  it("gives the same frames whatever the arrival interleaving within the lateness bound", () => {
    fc.assert(
      fc.property(drive, fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), (d, latA, latB) => {
        const a = alignAll(arrivals(d, latA));
        const b = alignAll(arrivals(d, latB));
        assert.equal(a.aligner.stats.dropped, 0, "nothing is late within the bound");
        assert.equal(a.frames.length, d.camera.length, "one frame per reference");
        assert.deepStrictEqual(a.frames.map(eventContent), b.frames.map(eventContent));
      }),
      { numRuns: 2000 },
    );
  });

  it("gives a camera that arrives up to its own lateness after the other inputs the frames it would have had on time", () => {
    // A camera pipeline's delay is about constant (exposure, ISP, encoding); the other inputs arrive within the
    // general lateness. Every frame is decided, none dropped, and each holds what it would with no delay at all.
    const cfg: AlignerConfig = { ...config, cameraLatenessNs: 200n * MS };
    fc.assert(
      fc.property(drive, fc.integer({ min: 0, max: 200 }), fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), (d, cameraDelayMs, lat) => {
        const late = arrivals(d, lat)
          .map((m) => (m.kind === "camera" ? { ...m, receiveNs: m.stampNs + BigInt(cameraDelayMs) * MS } : m))
          .sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
        const onTime = alignAll(arrivals(d, [0]), cfg);
        const delayed = alignAll(late, cfg);
        assert.equal(delayed.aligner.stats.dropped, 0, "no camera frame is late within its own lateness");
        assert.equal(delayed.frames.length, d.camera.length, "one frame per camera frame");
        assert.deepStrictEqual(delayed.frames.map(eventContent), onTime.frames.map(eventContent));
      }),
      { numRuns: 1000 },
    );
  });

  it("emits each frame once, in stamp order, with consecutive seq, and holds a bounded number of messages", () => {
    const kinds = fc.constantFrom<Modality>(...MODALITIES);
    fc.assert(
      fc.property(
        // Anything: stamps out of order, duplicates, late, bursts, gaps; deadlines on a virtual clock.
        fc.array(fc.record({ kind: kinds, stampMs: fc.integer({ min: 0, max: 400 }), advanceMs: fc.integer({ min: 0, max: 30 }) }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        (events, maxBuffer, maxPendingFrames) => {
          const aligner = new FrameAligner({ ...config, maxDelayNs: 50n * MS, maxBuffer, maxPendingFrames });
          const frames: FusedFrame[] = [];
          let now = 0n;
          for (const e of events) {
            now += BigInt(e.advanceMs) * MS;
            for (let due = aligner.nextDeadlineNs(); due !== undefined && due <= now; due = aligner.nextDeadlineNs()) frames.push(...aligner.expire(due, due));
            const stampNs = BigInt(e.stampMs) * MS;
            frames.push(...aligner.push(msg(e.kind, stampNs, reading(e.kind, stampNs), now), now));
            assert.ok(aligner.held <= 4 * maxBuffer + maxPendingFrames, `held ${aligner.held}`);
          }
          frames.push(...aligner.flush(now));
          frames.forEach((f, i) => {
            assert.equal(f.seq, i);
            if (i > 0) assert.ok(f.stampNs > frames[i - 1]!.stampNs, "frames strictly in stamp order");
            for (const [m, slot] of Object.entries(f.slots)) {
              assert.ok(f.present[m as Modality]);
              assert.equal(f.ageNs[m as Modality], slot.ageNs);
            }
          });
          const s = aligner.stats;
          assert.equal(s.accepted + s.dropped, events.length, "every message is taken or dropped with a reason");
          assert.equal(s.frames, frames.length);
          assert.equal(s.final + s.deadline + s.overflow + s.flushed, s.frames);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

