/**
 * Simulator throughput: simulated seconds per wall second in dataset mode with every sensor (camera
 * rendering + JPEG, radar, GNSS, CAN, voice, truth, protobuf encoding; and the same written to MCAP with
 * zstd, what `fusiond sim --out` does), beside the world stepping alone (world + expert + scorer + truth, no
 * sensors) measured in the same run. Each figure is also given per CPU-second of the process (user + system),
 * which is what one core does whatever else shares the machine. Per-frame costs of the camera: the JPEG
 * encoder beside jpeg-js's own encoder on the same frames, the renderer alone.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCodec } from "../schemas/codec.ts";
import { recordToFile } from "../replay/recorder.ts";
import { datasetMessages } from "../sim/dataset.ts";
import type { SensorName } from "../sim/episode.ts";
import { Rng } from "../sim/rng.ts";
import { CameraRenderer, encodeJpeg } from "../sim/sensors/camera.ts";
import { expert } from "../sim/expert.ts";
import type { World } from "../sim/world/types.ts";
import { createWorld, stepWorld } from "../sim/world/world.ts";
import type { BenchRow, BenchSuite } from "./harness.ts";

const SIM_S = 60;
const ALL: SensorName[] = ["camera", "radar", "gnss", "ego", "voice"];

interface Speed {
  /** Simulated seconds per wall second, and per CPU-second of this process. */
  wall: number;
  cpu: number;
}

function timed(f: () => void | Promise<void>): Promise<Speed> {
  return (async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    const c = process.cpuUsage(c0);
    return { wall: SIM_S / ((performance.now() - t0) / 1000), cpu: SIM_S / ((c.user + c.system) / 1e6) };
  })();
}

function generate(sensors: SensorName[], encode: boolean): Promise<Speed> {
  const codec = defaultCodec();
  return timed(() => {
    const gen = datasetMessages(7, SIM_S, { sensors });
    for (let r = gen.next(); !r.done; r = gen.next()) if (encode) codec.encode(r.value.type, r.value.message);
  });
}

/** What `fusiond sim --out` does (bin/commands/sim.ts writeDataset), to a temporary file. */
function toMcap(dir: string): Promise<Speed> {
  const codec = defaultCodec();
  return timed(async () => {
    const rec = await recordToFile(join(dir, "bench.mcap"), { compression: "zstd" });
    const gen = datasetMessages(7, SIM_S, { sensors: ALL });
    let n = 0;
    for (let r = gen.next(); !r.done; r = gen.next()) {
      const m = r.value;
      rec.addMessage({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message), receiveNs: m.receiveNs, stampNs: m.stampNs });
      if (++n % 2000 === 0 && rec.stats().queuedBytes > 8 * 1024 * 1024) await rec.flush();
    }
    await rec.close();
  });
}

const best = async (f: () => Promise<Speed>, n = 3): Promise<Speed> => {
  const runs: Speed[] = [];
  for (let i = 0; i < n; i++) runs.push(await f());
  return { wall: Math.max(...runs.map((r) => r.wall)), cpu: Math.max(...runs.map((r) => r.cpu)) };
};

/** jpeg-js's encoder, kept per quality (jpeg.encode() rebuilds its tables per call; the class is not exported). */
function jpegJs(quality: number): (rgba: Uint8Array, w: number, h: number) => Uint8Array {
  const path = createRequire(import.meta.url).resolve("jpeg-js/lib/encoder.js");
  const Ctor = new Function("module", "Buffer", `${readFileSync(path, "utf8")}\n;return JPEGEncoder;`)({ exports: {} }, Buffer) as new (q: number) => {
    encode(img: { data: Uint8Array; width: number; height: number }, q: number): Uint8Array;
  };
  const enc = new Ctor(quality);
  return (data, width, height) => enc.encode({ data, width, height }, quality);
}

/** Microseconds of CPU per call, best of a few rounds. */
function perCall(n: number, f: (i: number) => void): number {
  let bestUs = Infinity;
  for (let round = 0; round < 4; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) f(i);
    const c = process.cpuUsage(c0);
    bestUs = Math.min(bestUs, (c.user + c.system) / n);
  }
  return bestUs;
}

function cameraFrames(): { worlds: World[]; frames: Uint8Array[] } {
  const worlds = (["clear", "rain", "fog", "night"] as const).map((weather, i) =>
    createWorld({ name: "bench-camera", seed: 40 + i, durationS: 60, weather: [weather], events: ["stop_line", "pedestrian", "tunnel"] }),
  );
  for (const w of worlds) for (let k = 0; k < 500; k++) stepWorld(w, expert(w));
  const cam = new CameraRenderer(undefined, new Rng(1));
  return { worlds, frames: worlds.map((w) => new Uint8Array(cam.render(w, new Rng(2)))) };
}

const suite: BenchSuite = {
  name: "sim",
  description: "simulated seconds per wall second (dataset mode) vs world stepping alone",
  async run(log) {
    // Warm-up: the JIT needs a few runs before the hot paths reach their optimised tier.
    for (let i = 0; i < 4; i++) await generate(ALL, true);
    const world = await best(() => generate([], false));
    log(`world alone: ${world.wall.toFixed(0)}× real time (${world.cpu.toFixed(0)}× per CPU-second)`);
    const all = await best(() => generate(ALL, true));
    const camera = await best(() => generate(["camera"], true));
    const dir = mkdtempSync(join(tmpdir(), "fusiond-bench-sim-"));
    let mcap: Speed;
    try {
      mcap = await best(() => toMcap(dir), 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { worlds, frames } = cameraFrames();
    const ref = jpegJs(85);
    const jpegOurs = perCall(800, (i) => encodeJpeg(frames[i & 3]!, 64, 64, 85));
    const jpegRef = perCall(800, (i) => ref(frames[i & 3]!, 64, 64));
    const cam = new CameraRenderer(undefined, new Rng(1));
    const rng = new Rng(3);
    const render = perCall(800, (i) => cam.render(worlds[i & 3]!, rng));
    const base = { name: "world + expert alone", value: world.wall };
    const baseCpu = { name: "world + expert alone", value: world.cpu };
    const rows: BenchRow[] = [
      { name: "dataset, all sensors + protobuf encode", value: all.wall, unit: "× real time", baseline: base, goal: "≥ 50× real time" },
      { name: "dataset, all sensors + protobuf encode, per CPU-second", value: all.cpu, unit: "× real time", baseline: baseCpu, goal: "≥ 50× real time" },
      { name: "dataset to MCAP (zstd), all sensors", value: mcap.wall, unit: "× real time", baseline: base },
      { name: "dataset to MCAP (zstd), all sensors, per CPU-second", value: mcap.cpu, unit: "× real time", baseline: baseCpu },
      { name: "dataset, camera only (render + JPEG)", value: camera.wall, unit: "× real time", baseline: base },
      { name: "JPEG encode, 64×64 frame (sim/sensors/jpeg.ts)", value: jpegOurs, unit: "µs CPU", baseline: { name: "jpeg-js encoder, same frames", value: jpegRef }, lowerIsBetter: true },
      { name: "camera render, 64×64 frame (clear/rain/fog/night)", value: render, unit: "µs CPU" },
    ];
    return rows;
  },
};
export default suite;
