/**
 * The daemon decodes large camera frames in a worker pool (model.cameraWorkers, default 1): the decisions are
 * exactly those of the synchronous path that replay and eval use, for real-size frames and for bad ones.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { loadDecider } from "../../fusion/inference/decider.ts";
import { emptyPresence, nsToTimestamp, type FusedFrame } from "../../schemas/index.ts";
import { untrainedModel } from "./daemon-helpers.ts";

const JPEG_720P = readFileSync(new URL("../fixtures/jpeg/camera-1280x720-420.jpg", import.meta.url));

function frame(seq: number, data: Uint8Array): FusedFrame {
  const t = 1_700_000_000_000_000_000n + BigInt(seq) * 50_000_000n;
  const present = { ...emptyPresence(), camera: true, ego: true };
  const camera = { message: { timestamp: nsToTimestamp(t), format: "jpeg", data }, topic: "vehicles/t/sensors/camera/front", stampNs: t, ageNs: 0n, receiveNs: t, interpolated: false, held: false };
  const ego = { message: { timestamp: nsToTimestamp(t), speed_mps: 12, yaw_rate_rps: 0 }, topic: "vehicles/t/ego", stampNs: t, ageNs: 0n, receiveNs: t, interpolated: false, held: false };
  // Only the fields the features read (hence the cast).
  return { stampNs: t, seq, slots: { camera, ego } as unknown as FusedFrame["slots"], present, ageNs: { camera: 0n, ego: 0n }, lastInputReceiveNs: t, emittedNs: t };
}

describe("bin/daemon: camera features in a worker pool", function () {
  this.timeout(120_000);
  it("decides exactly as the synchronous path: real-size frames, a truncated one, an empty one", async () => {
    const model = await untrainedModel();
    const now = (): bigint => 1_700_000_001_000_000_000n;
    const pooled = await loadDecider({ modelDir: model, backend: "wasm", nowNs: now, cameraWorkers: 1 });
    const inline = await loadDecider({ modelDir: model, backend: "wasm", nowNs: now });
    try {
      const inputs = [JPEG_720P, JPEG_720P.subarray(0, 20_000), new Uint8Array(0), JPEG_720P];
      for (const [i, data] of inputs.entries()) {
        const a = await pooled.decide(frame(i, data));
        const b = await inline.decide(frame(i, data));
        const strip = (d: Record<string, unknown>) => ({ ...d, inference_ms: 0, latency_ms: 0, sensor_to_decision_ms: 0 });
        assert.deepEqual(strip(a as unknown as Record<string, unknown>), strip(b as unknown as Record<string, unknown>), `frame ${i}`);
      }
      // The caller's bytes are never detached by the hand-over (a Buffer's slice() is a view, not a copy).
      assert.ok(JPEG_720P.length > 50_000 && JPEG_720P.buffer.byteLength > 0, "the frame's bytes are still there");
      const s = pooled.cameraPool!();
      assert.ok(s.submitted >= 4 && s.completed >= 4, JSON.stringify(s));
      assert.ok(s.completed - s.inline >= 2, `the 720p frames went to a worker: ${JSON.stringify(s)}`);
    } finally {
      pooled.close();
      inline.close();
    }
  });

  it("a frame's features started on arrival (prefetchCamera) are the ones its decision uses: worked out once, the same decision", async () => {
    const model = await untrainedModel();
    const now = (): bigint => 1_700_000_001_000_000_000n;
    const pooled = await loadDecider({ modelDir: model, backend: "wasm", nowNs: now, cameraWorkers: 1 });
    const inline = await loadDecider({ modelDir: model, backend: "wasm", nowNs: now });
    try {
      const strip = (d: object) => ({ ...d, inference_ms: 0, latency_ms: 0, sensor_to_decision_ms: 0 });
      for (const [i, data] of [JPEG_720P, JPEG_720P.subarray(0, 20_000)].entries()) {
        const f = frame(10 + i, data);
        const before = pooled.cameraPool!().submitted;
        pooled.prefetchCamera(f.slots.camera!.message);
        pooled.prefetchCamera(f.slots.camera!.message);
        assert.deepEqual(strip(await pooled.decide(f)), strip(await inline.decide(frame(10 + i, data))), `frame ${i}`);
        assert.equal(pooled.cameraPool!().submitted - before, 1, "one extraction for the prefetches and the decision");
      }
      // Without a pool (replay, eval) it does nothing.
      inline.prefetchCamera(frame(20, JPEG_720P).slots.camera!.message);
    } finally {
      pooled.close();
      inline.close();
    }
  });

  it("reload: a model its check refuses (the daemon's: other camera slots than those aligned) is closed, and the old one serves on", async () => {
    const model = await untrainedModel();
    const d = await loadDecider({ modelDir: model, backend: "wasm", nowNs: () => 0n });
    try {
      const before = d.primary;
      await assert.rejects(d.reload(undefined, () => {
        throw new Error("other camera slots");
      }), /other camera slots/);
      assert.equal(d.primary, before);
      const next = await d.reload(undefined, () => undefined);
      assert.notEqual(next, before);
      assert.equal(d.primary, next);
    } finally {
      d.close();
    }
  });
});
