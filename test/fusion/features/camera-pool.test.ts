import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CameraFeaturePool, type PoolOutcome } from "../../../fusion/features/camera-pool.ts";
import { cameraFeatures } from "../../../fusion/features/camera.ts";
import { DEFAULT_FEATURE_CONFIG } from "../../../fusion/features/config.ts";
import { extractFeatures } from "../../../fusion/features/frame.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { randomScene, sceneFrame } from "../synthetic.ts";
import { Rng } from "../../../sim/rng.ts";
import type { RawImageMessage } from "../../../schemas/messages.ts";

const CFG = DEFAULT_FEATURE_CONFIG;
const hd420 = new Uint8Array(readFileSync(new URL("../../fixtures/jpeg/camera-1280x720-420.jpg", import.meta.url)));
const jpegMsg = (data: Uint8Array = hd420.slice()) => ({ format: "jpeg", data });

function raw(encoding: "rgb8" | "bgr8" | "mono8", w: number, h: number, seed: number) {
  const c = encoding === "mono8" ? 1 : 3;
  const rng = new Rng(seed);
  const msg = { timestamp: null, frame_id: "", encoding, width: w, height: h, step: w * c, data: new Uint8Array(w * h * c).map(() => rng.int(0, 255)) };
  return msg as RawImageMessage;
}

function features(o: PoolOutcome) {
  assert.ok(o.ok, o.ok ? "" : `${o.dropped}: ${o.reason}`);
  return o.features;
}

describe("fusion/features/camera-pool", function () {
  this.timeout(60_000);
  let pool: CameraFeaturePool;
  afterEach(async () => pool?.close());

  it("gives exactly the synchronous features, in a worker for large frames and inline for small ones", async () => {
    pool = new CameraFeaturePool({ config: CFG, workers: 2 });
    const frames = [
      jpegMsg(),
      raw("rgb8", 1280, 720, 1),
      raw("bgr8", 640, 480, 2),
      raw("mono8", 1920, 1080, 3),
      raw("rgb8", 64, 64, 4),
      { format: "jpeg", data: hd420.slice(0, 30_000) }, // truncated: a rejection, the same in both
      { encoding: "rgb8", width: 1280, height: 720, step: 3840, data: new Uint8Array(100) }, // wrong size
    ];
    const sync = frames.map((f) => cameraFeatures(f, CFG));
    const pooled = await Promise.all(frames.map((f) => pool.extract(f)));
    pooled.forEach((o, i) => {
      const f = features(o);
      assert.equal(f.present, sync[i]!.present, `frame ${i}: present`);
      assert.deepEqual(f.rejection, sync[i]!.rejection, `frame ${i}: rejection`);
      assert.deepEqual(Buffer.from(f.patches.buffer), Buffer.from(sync[i]!.patches.buffer), `frame ${i}: patches bit for bit`);
    });
    assert.equal((pooled[4] as { inline: boolean }).inline, true, "64×64 is done inline");
    assert.equal((pooled[0] as { inline: boolean }).inline, false, "1280×720 goes to a worker");
    const st = pool.stats();
    assert.equal(st.completed, frames.length);
    assert.equal(st.rejected.truncated, 1);
    assert.equal(st.rejected.bad_raw_size, 1);
  });

  it("extractFeatures with the pool's camera features gives the tensors it gives decoding itself (the daemon's path)", async () => {
    pool = new CameraFeaturePool({ config: CFG, inlineMaxPixels: 0 });
    const rand = mulberry32(5);
    const frame = sceneFrame(randomScene(rand), 0, rand);
    const camera = { ...frame.slots.camera!, message: raw("rgb8", 1280, 720, 9) };
    frame.slots.camera = camera;
    const pooled = features(await pool.extract(camera.message));
    const a = extractFeatures(frame, { config: CFG });
    const b = extractFeatures(frame, { config: CFG, camera: pooled });
    for (const k of Object.keys(a.inputs) as (keyof typeof a.inputs)[]) assert.deepEqual(b.inputs[k], a.inputs[k], k);
    assert.deepEqual(b.present, a.present);
  });

  it("transfers a frame that owns its ArrayBuffer (no copy), copies only the bytes of a slice", async () => {
    pool = new CameraFeaturePool({ config: CFG });
    const owned = raw("rgb8", 1920, 1080, 5);
    const expected = cameraFeatures(owned, CFG).patches;
    const size = owned.data.byteLength;
    const o = await pool.extract(owned, { transfer: true });
    assert.deepEqual(features(o).patches, expected);
    assert.equal(owned.data.byteLength, 0, "the caller's buffer was moved to the worker (detached here)");
    assert.equal(pool.stats().transferredBytes, size);
    assert.equal(pool.stats().copiedBytes, 0);

    // A view into a bigger buffer (as protobuf decoding gives): the view's bytes only, the buffer untouched.
    const big = new Uint8Array(hd420.length + 1000);
    big.set(hd420, 500);
    const view = big.subarray(500, 500 + hd420.length);
    features(await pool.extract(jpegMsg(view), { transfer: true }));
    assert.equal(view.byteLength, hd420.length, "not detached");
    assert.equal(pool.stats().copiedBytes, hd420.length);
    // Without transfer: always a copy.
    const kept = jpegMsg();
    features(await pool.extract(kept));
    assert.equal(kept.data.byteLength, hd420.length);
  });

  it("bounds its queue: a new frame displaces the oldest waiting one, which resolves as dropped and is counted", async () => {
    pool = new CameraFeaturePool({ config: CFG, workers: 1, maxQueued: 2 });
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => pool.extract(jpegMsg())));
    // 1 in flight at once; 2, 3 queued; 4 displaces 2, 5 displaces 3, 6 displaces 4.
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? "ok" : o.dropped)),
      ["ok", "queue_full", "queue_full", "queue_full", "ok", "ok"],
    );
    const st = pool.stats();
    assert.equal(st.dropped.queue_full, 3);
    assert.equal(st.submitted, 6);
    assert.equal(st.completed, 3);
    assert.equal(st.queued, 0);
    assert.equal(st.inFlight, 0);
  });

  it("closes cleanly: waiting frames resolve as closed, the one in flight finishes, later calls resolve as closed", async () => {
    // A generous close timeout: the in-flight frame must finish even on a loaded machine (a worker's start can take seconds).
    pool = new CameraFeaturePool({ config: CFG, workers: 1, maxQueued: 4, closeTimeoutMs: 30_000 });
    const pending = [pool.extract(jpegMsg()), pool.extract(jpegMsg()), pool.extract(jpegMsg())];
    await pool.close();
    const outcomes = await Promise.all(pending);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? "ok" : o.dropped)),
      ["ok", "closed", "closed"],
    );
    const after = await pool.extract(jpegMsg());
    assert.equal(after.ok, false);
    assert.equal(pool.stats().dropped.closed, 3);
    await pool.close(); // idempotent
  });

  it("a worker that dies fails its job with a reason and is replaced; a pool whose workers keep dying works inline", async () => {
    const crash = new URL("data:text/javascript," + encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));"));
    pool = new CameraFeaturePool({ config: CFG, workers: 1, workerUrl: crash });
    const first = await pool.extract(jpegMsg());
    assert.equal(first.ok, false);
    assert.equal(!first.ok && first.dropped, "worker_failed");
    assert.match(!first.ok ? first.reason : "", /exited with code 3/);
    assert.equal(pool.stats().workerRestarts, 1);
    for (let i = 0; i < 6; i++) await pool.extract(jpegMsg());
    const last = await pool.extract(jpegMsg());
    assert.ok(last.ok && last.inline && last.features.present, "no workers left: inline, never stalled");
  });

  it("frames waiting when the last worker is given up are done inline, and counted as inline", async () => {
    const crash = new URL("data:text/javascript," + encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));"));
    pool = new CameraFeaturePool({ config: CFG, workers: 1, maxQueued: 8, workerUrl: crash });
    const outcomes = await Promise.all(Array.from({ length: 9 }, () => pool!.extract(jpegMsg())));
    const inline = outcomes.filter((o) => o.ok && o.inline);
    assert.equal(outcomes.filter((o) => !o.ok && o.dropped === "worker_failed").length, 6, "six failures in a row, then none replaced");
    assert.equal(inline.length, 3, "the three still waiting are done on this thread");
    assert.equal(pool.stats().inline, 3);
    assert.equal(pool.stats().completed, 3);
  });
});
