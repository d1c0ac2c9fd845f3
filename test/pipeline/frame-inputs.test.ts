/**
 * A frame's recorded inputs are enough to rebuild it: for every frame the aligner emits — final ones,
 * and ones emitted on their deadline without inputs that came later — the messages it lists, and only
 * those, give the same frame through frameFromInputs. This is what lets replay decide exactly the frames
 * decided live (fusiond replay --frames recorded).
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { MODALITIES, type FusedFrame, type Modality, type SensorMessage } from "../../schemas/types.ts";
import { FrameAligner, frameFromInputs, frameInputs, frameInputsMessage, sameInputs, type AlignerConfig } from "../../pipeline/index.ts";
import { msg, MS, reading } from "./helpers.ts";

const config: AlignerConfig = {
  radarToleranceNs: 30n * MS,
  gnssMaxAgeNs: 150n * MS,
  egoMaxAgeNs: 40n * MS,
  voiceTtlNs: 500n * MS,
  allowedLatenessNs: 60n * MS,
  maxDelayNs: 20n * MS, // short: many frames leave on their deadline, before all their inputs came
};

const stampsOf = (maxGap: number, maxLen: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxGap }), { maxLength: maxLen }).map((gaps) => {
    let t = 0;
    return gaps.map((g) => (t += g));
  });

const drive = fc.record({ camera: stampsOf(60, 20), radar: stampsOf(60, 20), gnss: stampsOf(120, 10), ego: stampsOf(25, 50), voice: stampsOf(900, 3) });

/** Every frame the aligner emits when messages arrive with these latencies (0..120 ms), deadlines expiring on the way. */
function frames(d: Record<Modality, number[]>, latencies: number[]): { frames: FusedFrame[]; messages: SensorMessage<Modality>[] } {
  const messages: SensorMessage<Modality>[] = [];
  let k = 0;
  for (const kind of MODALITIES) {
    for (const ms of d[kind]) {
      const stampNs = BigInt(ms) * MS;
      messages.push(msg(kind, stampNs, reading(kind, stampNs), stampNs + BigInt((latencies[k++ % latencies.length] ?? 0) % 121) * MS));
    }
  }
  messages.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
  const aligner = new FrameAligner(config);
  const out: FusedFrame[] = [];
  for (const m of messages) {
    for (let due = aligner.nextDeadlineNs(); due !== undefined && due <= m.receiveNs; due = aligner.nextDeadlineNs()) out.push(...aligner.expire(due, due));
    out.push(...aligner.push(m, m.receiveNs));
  }
  out.push(...aligner.flush(messages.at(-1)?.receiveNs ?? 0n));
  return { frames: out, messages };
}

const content = ({ seq: _s, emittedNs: _e, ...rest }: FusedFrame): unknown => rest;

function assertEqualish(a: FusedFrame, b: FusedFrame): boolean {
  try {
    assert.deepStrictEqual(content(a), content(b));
    return true;
  } catch {
    return false;
  }
}

describe("pipeline/frame-inputs", () => {
  it("rebuilds every emitted frame, deadline ones included, from exactly the inputs it lists", () => {
    const resolved = new FrameAligner(config).config;
    let deadlineFramesLackingInputs = 0;
    fc.assert(
      fc.property(drive, fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (d, lat) => {
        const { frames: fs, messages } = frames(d, lat);
        const byKey = new Map(messages.map((m) => [`${m.topic}@${m.stampNs}`, m]));
        for (const f of fs) {
          const inputs = frameInputs(f);
          const used = inputs.map((i) => ({ modality: i.modality, message: byKey.get(`${i.topic}@${i.stampNs}`)! }));
          assert.ok(used.every((u) => u.message), "every listed input is a message that was sent");
          const rebuilt = frameFromInputs(used, resolved, f.seq, f.emittedNs);
          assert.ok(rebuilt);
          assert.deepStrictEqual(content(rebuilt), content(f));
          assert.ok(sameInputs(frameInputs(rebuilt), inputs));
          // From everything ever sent instead, a frame that left before a late input would differ.
          const everything = [used[0]!, ...messages.filter((m) => m.kind !== "camera").map((m) => ({ modality: m.kind as Modality, message: m }))];
          if (!assertEqualish(frameFromInputs(everything, resolved, f.seq, f.emittedNs)!, f)) deadlineFramesLackingInputs++;
        }
      }),
      { numRuns: 500 },
    );
    assert.ok(deadlineFramesLackingInputs > 0, "the generated drives include frames emitted before late inputs could arrive");
  });

  it("lists one input per slot, two for an interpolated value, in modality order, in DrivingDecision.inputs form", () => {
    const gnss = "vehicles/t/sensors/gnss/main";
    const messages = [
      { modality: "camera" as const, message: msg("camera", 100n * MS) },
      { modality: "gnss" as const, message: msg("gnss", 50n * MS, reading("gnss", 50n * MS)) },
      { modality: "gnss" as const, message: msg("gnss", 150n * MS, reading("gnss", 150n * MS)) },
      { modality: "radar" as const, message: msg("radar", 90n * MS, reading("radar", 90n * MS)) },
    ];
    const f = frameFromInputs(messages, new FrameAligner(config).config, 0, 0n)!;
    assert.equal(f.slots.gnss?.interpolated, true);
    assert.deepEqual(
      frameInputs(f).map((i) => `${i.modality} ${i.stampNs / MS}`),
      ["camera 100", "radar 90", "gnss 50", "gnss 150"],
    );
    assert.equal(frameInputs(f)[2]!.topic, gnss);
    assert.deepEqual(frameInputsMessage(f)[3], { modality: "gnss", topic: gnss, stamp: { seconds: 0, nanos: 150_000_000 } });
    assert.equal(frameFromInputs(messages.slice(1), new FrameAligner(config).config, 0, 0n), undefined, "no frame without its camera reference");
  });
});
