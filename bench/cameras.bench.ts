/**
 * Real-size cameras (issue 16).
 * - Camera features of one 1920×1080 and one 1280×720 JPEG to the model input (fusion/features/camera.ts:
 *   header, DCT-domain 1/8 decode, area resize, patches), beside a full decode of the same bytes by
 *   libjpeg-turbo (sharp, raw RGB out) in the same run, as a ratio; sharp's own shrink-on-load to the model
 *   input (the alternative we measured and did not take) beside it too. The frames are camera-like: the
 *   simulator's road rendered at full size with ±3 grey levels of noise, encoded by sharp (libjpeg-turbo)
 *   at quality 85, 4:2:0, baseline — what a camera's encoder writes.
 *   Figures are CPU time of this process per frame (user + system, including sharp's libuv thread; one
 *   thread: sharp.concurrency(1), cache off), so other load on the machine does not inflate them much;
 *   wall medians are printed beside.
 * - The same features through the worker pool (fusion/features/camera-pool.ts): wall time per frame,
 *   one at a time, beside the synchronous call.
 * - Simulator: sets of 4 × 1280×720 camera frames (render at 1/8 + DCT-domain JPEG, sim/sensors/camera-set.ts)
 *   per CPU-second, beside rendering 4 frames at full size and encoding them with our jpeg-js port (the
 *   previous way) in the same run. Real time at 20 Hz needs ≥ 20 sets/s.
 */
import sharp from "sharp";
import { cameraFeatures } from "../fusion/features/camera.ts";
import { CameraFeaturePool } from "../fusion/features/camera-pool.ts";
import { DEFAULT_FEATURE_CONFIG } from "../fusion/features/config.ts";
import { Rng } from "../sim/rng.ts";
import { buildScenario, randomScenario } from "../sim/scenario.ts";
import { CameraRenderer, encodeJpeg } from "../sim/sensors/camera.ts";
import { CameraSet, mountConfig } from "../sim/sensors/camera-set.ts";
import type { World } from "../sim/world/types.ts";
import { createWorld, stepWorld } from "../sim/world/world.ts";
import { median, type BenchRow, type BenchSuite } from "./harness.ts";

const CFG = DEFAULT_FEATURE_CONFIG;

function world(): World {
  const w = createWorld(buildScenario(randomScenario(7, 30, "bench-cameras")), { dtS: 0.01, clipSpeechS: {} });
  for (let i = 0; i < 300; i++) stepWorld(w, { action: "KEEP", targetSpeedMps: 12 });
  return w;
}

/** A camera-like JPEG: the road rendered at full size, ±3 levels of noise, libjpeg-turbo q85 4:2:0. */
async function cameraJpeg(w: World, width: number, height: number): Promise<Uint8Array> {
  const rgba = new CameraRenderer(mountConfig("front", width, height), new Rng(3)).render(w, new Rng(5));
  const rng = new Rng(9);
  for (let i = 0; i < rgba.length; i += 4) {
    const n = (rng.next() - 0.5) * 6;
    for (let c = 0; c < 3; c++) rgba[i + c] = Math.max(0, Math.min(255, rgba[i + c]! + n));
  }
  const buf = await sharp(Buffer.from(rgba), { raw: { width, height, channels: 4 } }).removeAlpha().jpeg({ quality: 85, chromaSubsampling: "4:2:0" }).toBuffer();
  return new Uint8Array(buf);
}

interface Cost {
  /** Mean CPU ms per call, and the wall median. */
  cpuMs: number;
  wallMs: number;
}

async function cost(n: number, f: () => unknown): Promise<Cost> {
  for (let i = 0; i < Math.max(5, n >> 3); i++) await f();
  const walls: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    walls.push(performance.now() - t0);
  }
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000 / n, wallMs: median(walls) };
}

const suite: BenchSuite = {
  name: "cameras",
  description: "real-size cameras: features of a 1080p/720p JPEG beside libjpeg-turbo's full decode; the pool; the simulator's 4 × 1280×720",
  async run(log) {
    sharp.concurrency(1);
    sharp.cache(false);
    const rows: BenchRow[] = [];
    const w = world();
    const n = Number(process.env["FUSIOND_BENCH_RUNS"] ?? 200);
    for (const [width, height] of [
      [1920, 1080],
      [1280, 720],
    ] as const) {
      const file = await cameraJpeg(w, width, height);
      const msg = { format: "jpeg", data: file };
      const ours = await cost(n, () => cameraFeatures(msg, CFG));
      const full = await cost(n >> 1, () => sharp(file).raw().toBuffer());
      const shrink = await cost(n >> 1, () => sharp(file).resize(CFG.camera.size, CFG.camera.size, { fit: "fill" }).raw().toBuffer());
      const label = `${width}×${height} (${(file.length / 1024).toFixed(0)} KB)`;
      log(`${label}: features ${ours.cpuMs.toFixed(2)} ms CPU (wall p50 ${ours.wallMs.toFixed(2)}); sharp full decode ${full.cpuMs.toFixed(2)} CPU (${full.wallMs.toFixed(2)}); sharp shrink-on-load to ${CFG.camera.size}² ${shrink.cpuMs.toFixed(2)} CPU (${shrink.wallMs.toFixed(2)})`);
      rows.push({
        name: `camera features ${label} → ${CFG.camera.size}×${CFG.camera.size} patches, CPU`,
        value: ours.cpuMs,
        unit: "ms",
        baseline: { name: "sharp (libjpeg-turbo) full decode, same bytes", value: full.cpuMs },
        lowerIsBetter: true,
        goal: width === 1920 ? "≤ 4 ms" : "",
      });
      rows.push({
        name: `sharp shrink-on-load ${label} → ${CFG.camera.size}×${CFG.camera.size} RGB, CPU`,
        value: shrink.cpuMs,
        unit: "ms",
        baseline: { name: "sharp (libjpeg-turbo) full decode, same bytes", value: full.cpuMs },
        lowerIsBetter: true,
        note: "the alternative, not taken",
      });
      if (width === 1920) {
        const pool = new CameraFeaturePool({ config: CFG, workers: 1 });
        const pooled = await cost(n >> 1, () => pool.extract({ format: "jpeg", data: file }));
        await pool.close();
        log(`pool: ${pooled.wallMs.toFixed(2)} ms wall per 1080p frame, one at a time (main thread CPU ${pooled.cpuMs.toFixed(2)} ms incl. the worker)`);
        rows.push({
          name: `camera features ${label} via the worker pool, wall p50`,
          value: pooled.wallMs,
          unit: "ms",
          baseline: { name: "synchronous, wall p50", value: ours.wallMs },
          lowerIsBetter: true,
        });
      }
    }

    const ids = ["front", "rear", "left", "right"] as const;
    const set = new CameraSet({ ids: [...ids], width: 1280, height: 720 }, "bench", "jpeg", 85, (l) => Rng.fork(1, l));
    const sets = await cost(40, () => set.sample(w, {}));
    const fullRenderers = ids.map((id) => new CameraRenderer(mountConfig(id, 1280, 720), new Rng(1)));
    const rng = new Rng(2);
    const old = await cost(6, () => fullRenderers.map((r) => encodeJpeg(r.render(w, rng), 1280, 720, 85)));
    log(`sim: 4 × 1280×720 render + encode ${sets.cpuMs.toFixed(1)} ms CPU per set; full-size render + jpeg-js port ${old.cpuMs.toFixed(1)} ms`);
    rows.push({
      name: "sim: sets of 4 × 1280×720 JPEG frames (render 1/8 + DCT-domain encode) per CPU-second",
      value: 1000 / sets.cpuMs,
      unit: "sets/s",
      baseline: { name: "render at full size + our jpeg-js port encoder", value: 1000 / old.cpuMs },
      goal: "≥ 20 (real time at 20 Hz)",
    });
    return rows;
  },
};

export default suite;
