/**
 * Several cameras in one frame (issue #16, point 3): the reference camera triggers the frame, every other
 * configured camera contributes its frame nearest the reference stamp within the tolerance, masked (null) and
 * counted when missing or stale; one camera failing masks only its slot and holds no frame back; cameras that
 * are not configured trigger nothing; replay rebuilds the same frame from the recorded inputs.
 */
import { strict as assert } from "node:assert";
import { FrameAligner, frameFromInputs, frameInputs, resolveAlignerConfig, type AlignerConfig } from "../../pipeline/index.ts";
import type { FusedFrame, Modality, SensorMessage } from "../../schemas/types.ts";
import { msg, MS, reading, TOPIC } from "./helpers.ts";

const cam = (id: string) => `vehicles/t/sensors/camera/${id}`;
const CAMERAS = [cam("front"), cam("rear"), cam("left"), cam("right")];

/** 20 Hz cameras (front at 0 ms, the others 3-9 ms later), radar 20 Hz, ego 50 Hz; each arrives 2 ms after its stamp. */
function drive(durationMs: number, silent: (topic: string, ms: number) => boolean = () => false): SensorMessage<Modality>[] {
  const out: SensorMessage<Modality>[] = [];
  const add = (m: SensorMessage<Modality>) => out.push(m);
  for (let ms = 0; ms < durationMs; ms += 50) {
    CAMERAS.forEach((topic, i) => {
      const s = ms + i * 3;
      if (!silent(topic, ms)) add(msg("camera", BigInt(s) * MS, {}, BigInt(s + 2) * MS, topic));
    });
    add(msg("radar", BigInt(ms + 10) * MS, reading("radar", BigInt(ms + 10) * MS), BigInt(ms + 12) * MS));
  }
  for (let ms = 0; ms < durationMs; ms += 20) add(msg("ego", BigInt(ms + 5) * MS, reading("ego", BigInt(ms + 5) * MS), BigInt(ms + 7) * MS));
  // An intruder's camera id: not configured, must trigger nothing.
  for (let ms = 0; ms < durationMs; ms += 10) add(msg("camera", BigInt(ms) * MS, {}, BigInt(ms + 1) * MS, cam("intruder")));
  return out.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : a.topic < b.topic ? -1 : 1));
}

function run(messages: SensorMessage[], config: AlignerConfig): { frames: FusedFrame[]; aligner: FrameAligner } {
  const aligner = new FrameAligner({ inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [], ...config });
  const frames: FusedFrame[] = [];
  for (const m of messages) frames.push(...aligner.push(m, m.receiveNs));
  frames.push(...aligner.flush(messages.at(-1)!.receiveNs));
  return { frames, aligner };
}

describe("pipeline/frame-aligner: several cameras", () => {
  const config: AlignerConfig = { cameras: CAMERAS };

  it("one frame per reference frame, with every other camera's nearest frame; unlisted cameras trigger nothing", () => {
    const { frames, aligner } = run(drive(1000), config);
    assert.equal(frames.length, 20, "20 Hz for 1 s: the reference only");
    for (const f of frames) {
      assert.equal(f.slots.camera!.topic, cam("front"));
      assert.deepEqual(Object.keys(f.cameras!), CAMERAS.slice(1));
      CAMERAS.slice(1).forEach((topic, k) => {
        const slot = f.cameras![topic]!;
        assert.ok(slot, `${topic} present at ${f.stampNs / MS}`);
        assert.equal(slot.stampNs - f.stampNs, BigInt((k + 1) * 3) * MS);
      });
    }
    assert.equal(aligner.stats.cameraMissing, 0);
    // Final as soon as every camera delivered, not on the deadline.
    assert.ok(aligner.stats.deadline === 0, JSON.stringify(aligner.stats));
    const waits = frames.slice(0, -1).map((f) => f.emittedNs - f.slots.camera!.receiveNs);
    assert.ok(waits.every((w) => w <= 20n * MS), `waits ${waits.map((w) => w / MS).join(",")} ms`);
  });

  it("one camera failing masks only its slot, is counted, and holds no frame back", () => {
    const dead = cam("left");
    const { frames, aligner } = run(drive(1000, (t, ms) => t === dead && ms >= 300), config);
    assert.equal(frames.length, 20);
    const after = frames.filter((f) => f.stampNs >= 400n * MS);
    assert.ok(after.length >= 11);
    for (const f of after) {
      assert.equal(f.cameras![dead], null, "masked");
      assert.ok(f.cameras![cam("rear")] && f.cameras![cam("right")], "the others are there");
    }
    assert.equal(aligner.stats.cameraMissingBy[dead], frames.filter((f) => f.cameras![dead] === null).length);
    assert.equal(aligner.stats.deadline, 0, "a dead camera does not make frames wait for their deadline");
  });

  it("a camera that delivers late (alive, 80 ms behind) holds the reference back at most the camera tolerance; its slot holds what had arrived", () => {
    const slow = cam("right");
    const messages = drive(1000)
      .map((m) => (m.topic === slow ? { ...m, receiveNs: m.receiveNs + 80n * MS } : m))
      .sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : a.topic < b.topic ? -1 : 1));
    // A lateness above the delay: the camera's frames are not dropped as late, only the camera wait bounds the frame's.
    const aligner = new FrameAligner({ inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [], ...config, allowedLatenessNs: 500n * MS });
    const frames: FusedFrame[] = [];
    // The scheduler's part (align.ts): every deadline due before the next arrival fires first.
    for (const m of messages) {
      for (let due = aligner.nextDeadlineNs(); due !== undefined && due <= m.receiveNs; due = aligner.nextDeadlineNs()) frames.push(...aligner.expire(due, due));
      frames.push(...aligner.push(m, m.receiveNs));
    }
    assert.ok(frames.length >= 18, `${frames.length} frames`);
    const tolerance = 50n * MS;
    for (const f of frames) {
      assert.ok(f.emittedNs - f.slots.camera!.receiveNs <= tolerance, `frame ${f.stampNs / MS} ms waited ${(f.emittedNs - f.slots.camera!.receiveNs) / MS} ms`);
      assert.ok(f.cameras![cam("rear")] && f.cameras![cam("left")], "the cameras on time are there");
    }
    // Its slot holds what had arrived: its frame before the reference (within the tolerance), never a later one.
    for (const f of frames) assert.ok(f.cameras![slow] === null || f.cameras![slow]!.stampNs < f.stampNs, `frame ${f.stampNs / MS} ms`);
    assert.equal(aligner.stats.deadline, 0, "none waited for the frame deadline (250 ms)");
  });

  it("cameras that all come 80 ms after their stamps (a real camera pipeline) while ego is on time: every reference decided, with all four cameras, nothing late", () => {
    const delayed = drive(1000)
      .map((m) => (CAMERAS.includes(m.topic) ? { ...m, receiveNs: m.receiveNs + 78n * MS } : m))
      .sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : a.topic < b.topic ? -1 : 1));
    const drops: string[] = [];
    // The default camera lateness (250 ms); the general lateness stays 50 ms, below which every frame was dropped.
    const aligner = new FrameAligner({ inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [], ...config }, (d) => void drops.push(`${d.reason} ${d.topic}`));
    const frames: FusedFrame[] = [];
    for (const m of delayed) {
      for (let due = aligner.nextDeadlineNs(); due !== undefined && due <= m.receiveNs; due = aligner.nextDeadlineNs()) frames.push(...aligner.expire(due, due));
      frames.push(...aligner.push(m, m.receiveNs));
    }
    frames.push(...aligner.flush(delayed.at(-1)!.receiveNs));
    assert.equal(frames.length, 20);
    assert.deepEqual(drops, []);
    // (The first frame leaves before the other cameras' first frames: a camera that has never delivered is not waited for.)
    for (const f of frames.slice(1)) for (const topic of CAMERAS.slice(1)) assert.ok(f.cameras![topic], `${topic} in frame ${f.stampNs / MS}`);
    // Decided as soon as the last camera is there (9 ms after the reference), not on a deadline.
    for (const f of frames.slice(0, -1)) assert.ok(f.emittedNs - f.slots.camera!.receiveNs <= 10n * MS, `frame ${f.stampNs / MS} waited ${(f.emittedNs - f.slots.camera!.receiveNs) / MS} ms`);
    // The general lateness alone (no camera lateness of its own) dropped every camera frame as late.
    const old: string[] = [];
    const before = new FrameAligner({ inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [], ...config, cameraLatenessNs: 0n }, (d) => void old.push(d.reason));
    const oldFrames = delayed.flatMap((m) => before.push(m, m.receiveNs));
    assert.ok(oldFrames.length <= 1, `${oldFrames.length} of 20 decided`);
    assert.ok(old.filter((r) => r === "late").length >= 70, `${old.length} drops`);
  });

  it("replay rebuilds exactly the frame from its recorded inputs (the other cameras included)", () => {
    const messages = drive(500);
    const { frames } = run(messages, config);
    const byKey = new Map(messages.map((m) => [`${m.topic}@${m.stampNs}`, m]));
    const resolved = resolveAlignerConfig({ inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [], ...config });
    for (const f of frames) {
      const inputs = frameInputs(f);
      assert.deepEqual(inputs.filter((i) => i.modality === "camera").map((i) => i.topic), CAMERAS);
      const rebuilt = frameFromInputs(inputs.map((i) => ({ modality: i.modality, message: byKey.get(`${i.topic}@${i.stampNs}`)! })), resolved, f.seq, f.emittedNs)!;
      assert.deepEqual(rebuilt.cameras, f.cameras);
      assert.deepEqual(rebuilt.slots, f.slots);
    }
  });

  it("without a camera list, the first camera topic that delivers is the reference; other camera topics are not aligned, counted (a single-camera vehicle)", () => {
    const msgs = [msg("camera", 0n, {}, 0n, TOPIC.camera), msg("camera", 1n * MS, {}, 1n * MS, cam("rear")), msg("camera", 50n * MS, {}, 50n * MS, TOPIC.camera), msg("camera", 51n * MS, {}, 51n * MS, cam("rear"))];
    const aligner = new FrameAligner({});
    const frames = [...msgs.flatMap((m) => aligner.push(m, m.stampNs)), ...aligner.flush(1n * 1000n * MS)];
    assert.equal(frames.length, 2);
    assert.deepEqual(frames.map((f) => f.slots.camera?.topic), [TOPIC.camera, TOPIC.camera]);
    assert.equal(frames[0]!.cameras, undefined);
    assert.equal(aligner.stats.cameraUnaligned, 2);
  });

  it("refuses a reference topic that is not one of the cameras", () => {
    assert.throws(() => resolveAlignerConfig({ cameras: CAMERAS, referenceTopic: cam("roof") }), /not one of the cameras/);
  });
});

describe("pipeline/frame-aligner: per-topic buffer shares", () => {
  it("a flood on one radar topic evicts its own scans, never the real radar's", () => {
    const evicted: string[] = [];
    const aligner = new FrameAligner({ inOrderPerTopic: true, noWaitFor: ["gnss", "ego"], extrapolate: [], maxBuffer: 64 }, (d) => void (d.reason === "queue_overflow" && evicted.push(d.topic)));
    const flood = "vehicles/t/sensors/radar/flood";
    const frames: FusedFrame[] = [];
    for (let ms = 0; ms < 2000; ms += 50) {
      // 200 scans of the flooding topic within each 50 ms, stamped just before the real scan.
      for (let k = 0; k < 200; k++) {
        const s = BigInt(ms) * MS + BigInt(k) * 1000n;
        frames.push(...aligner.push(msg("radar", s, reading("radar", s), s, flood), s));
      }
      const r = BigInt(ms + 1) * MS;
      frames.push(...aligner.push(msg("radar", r, reading("radar", r), r, TOPIC.radar), r));
      const c = BigInt(ms + 2) * MS;
      frames.push(...aligner.push(msg("camera", c, {}, c, TOPIC.camera), c));
    }
    frames.push(...aligner.flush(2100n * MS));
    assert.equal(frames.length, 40);
    // The nearest scan is the flood's (stamped closer) or the real one: both topics keep their share, and the
    // real radar's scan is always still there to be found.
    assert.ok(aligner.stats.evicted > 7000, String(aligner.stats.evicted));
    assert.equal(evicted.filter((t) => t === TOPIC.radar).length, 0, "no scan of the real radar was evicted");
    assert.ok(frames.every((f) => f.slots.radar !== undefined));
  });
});
