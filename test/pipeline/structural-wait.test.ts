/**
 * The aligner's structural wait in the daemon's configuration (issue 16): the simulator's drive with every sample
 * sent at its capture stamp (--sensor-latency 0), pushed at its receive time into the aligner (the daemon's: in
 * order per topic, the defaults) on a virtual clock — so the wait of each frame (emitted − its reference camera
 * received) is what sensor phases and tolerances cost, whatever the CPU. Radar samples 20 ms after the camera:
 * by default the frame waits for that nearer scan; with radar in noWaitFor it takes the scan before and waits
 * for nothing. Ego and GNSS never hold a frame (extrapolated); other cameras at most their tolerance.
 */
import { strict as assert } from "node:assert";
import { FrameAligner, type AlignerConfig } from "../../pipeline/index.ts";
import { alignerConfigFrom } from "../../pipeline/daemon-aligner.ts";
import { alignerSchema } from "../../pipeline/daemon-config.ts";
import type { FusedFrame, SensorMessage } from "../../schemas/types.ts";
import { datasetMessages } from "../../sim/dataset.ts";
import type { CameraSetSpec } from "../../sim/sensors/camera-set.ts";

const MS = 1_000_000n;

function waits(cameraSet: CameraSetSpec | undefined, aligner: Record<string, unknown>): { waitsMs: number[]; frames: FusedFrame[]; stamps: number } {
  const config: AlignerConfig = { inOrderPerTopic: true, ...alignerConfigFrom(alignerSchema.parse(aligner), "sim") };
  const a = new FrameAligner(config);
  const frames: FusedFrame[] = [];
  let stamps = 0;
  for (const m of datasetMessages(3, 20, { sensors: ["camera", "radar", "gnss", "ego"], latencyScale: 0, ...(cameraSet ? { cameraSet } : {}) })) {
    const s = { ...m, bytes: new Uint8Array(0) } as unknown as SensorMessage;
    for (let due = a.nextDeadlineNs(); due !== undefined && due <= s.receiveNs; due = a.nextDeadlineNs()) frames.push(...a.expire(due, due));
    if (m.kind === "camera" && (!config.referenceTopic || m.topic === config.referenceTopic)) stamps++;
    frames.push(...a.push(s, s.receiveNs));
  }
  return { waitsMs: frames.map((f) => Number(f.emittedNs - f.slots.camera!.receiveNs) / 1e6).sort((x, y) => x - y), frames, stamps };
}

const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

describe("the aligner's structural wait at sensor latency 0 (daemon configuration, virtual clock)", function () {
  this.timeout(120_000);
  const FOUR = { ids: ["front", "rear", "left", "right"] as const, width: 64, height: 64 };

  it("1 camera, defaults: every frame waits exactly for the radar scan 20 ms after the camera", () => {
    const { waitsMs, stamps } = waits(undefined, {});
    assert.ok(waitsMs.length >= stamps - 1, `${waitsMs.length} frames of ${stamps}`);
    assert.equal(q(waitsMs, 0.5), 20);
    assert.equal(q(waitsMs, 1), 20);
  });

  it("1 camera, radar in noWaitFor: no frame waits", () => {
    const { waitsMs } = waits(undefined, { noWaitFor: ["gnss", "ego", "radar"] });
    assert.equal(q(waitsMs, 1), 0);
  });

  it("4 cameras (the first the reference): the same 20 ms for radar, nothing for the other cameras; 0 with radar in noWaitFor", () => {
    const cameras = [...FOUR.ids];
    const byDefault = waits(FOUR, { cameras });
    assert.equal(q(byDefault.waitsMs, 1), 20);
    assert.ok(byDefault.frames.every((f) => Object.values(f.cameras!).every((s) => s !== null)), "every frame holds all four cameras");
    assert.equal(q(waits(FOUR, { cameras, noWaitFor: ["gnss", "ego", "radar"] }).waitsMs, 1), 0);
  });

  it("a 30 Hz camera: the radar wait is up to 20 ms by default (the scan after the frame when it is the nearer), 30 without the radar's min interval, none with radar in noWaitFor", () => {
    const thirty = waits({ ids: ["front"], width: 64, height: 64, hz: 30 }, {});
    assert.ok(thirty.waitsMs.length >= thirty.stamps - 1 && thirty.stamps >= 590, `${thirty.waitsMs.length} frames of ${thirty.stamps} in 20 s`);
    assert.equal(q(thirty.waitsMs, 1), 20);
    // Without it (radarMinIntervalMs 0) a frame 20 ms after a scan also waits for the next, 50 ms on, that cannot be nearer.
    const proof = waits({ ids: ["front"], width: 64, height: 64, hz: 30 }, { radarMinIntervalMs: 0 });
    assert.equal(q(proof.waitsMs, 1), 30);
    assert.deepEqual(thirty.frames.map((f) => f.slots.radar?.inputs), proof.frames.map((f) => f.slots.radar?.inputs), "the same scan in every frame");
    assert.equal(q(waits({ ids: ["front"], width: 64, height: 64, hz: 30 }, { noWaitFor: ["gnss", "ego", "radar"] }).waitsMs, 1), 0);
  });
});
