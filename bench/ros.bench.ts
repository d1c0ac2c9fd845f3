/**
 * ROS bag conversion: `fusiond convert`'s throughput (MB of bag per second) beside a bare sequential read
 * of the same file and a bare @foxglove/rosbag iteration of it, in the same run (interleaved, medians).
 * The bag is written by Debian's python3-rosbag (cached in the OS temp folder): a drive of 1280×720 JPEG
 * frames (~100 KB, 32 distinct ones cycled) at 20 Hz, a 64-return float64 PointCloud2 radar at 20 Hz, NavSatFix at 10 Hz, Odometry + Imu
 * at 50 Hz. FUSIOND_BENCH_ROS_MB sets its size (default 256), FUSIOND_BENCH_RUNS the runs (default 5).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { Bag } from "@foxglove/rosbag";
import lz4Decompress from "@foxglove/wasm-lz4";
import { convertRosFile, type Compression } from "../replay/index.ts";
import type { DriveLine } from "../test/fixtures/ros/export-drive.ts";
import { median, type BenchRow, type BenchSuite } from "./harness.ts";

const RUNS = Number(process.env["FUSIOND_BENCH_RUNS"] ?? 5);
const TARGET_MB = Number(process.env["FUSIOND_BENCH_ROS_MB"] ?? 256);
const WRITE_BAG = fileURLToPath(new URL("../test/fixtures/ros/write_ros1_bag.py", import.meta.url));

/**
 * FRAMES distinct 1280×720 JPEG frames (gradients with noise, ~100 KB each), cycled: more bytes than zstd's
 * window between two copies of a frame, so the output compresses as a real camera's would (barely).
 */
const FRAMES = 32;
async function frames(dir: string): Promise<{ paths: string[]; bytes: number }> {
  const paths: string[] = [];
  let bytes = 0;
  for (let k = 0; k < FRAMES; k++) {
    const w = 1280;
    const h = 720;
    const raw = Buffer.alloc(w * h * 3);
    let seed = 12345 + k;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const n = (seed >>> 24) % 48;
        const i = 3 * (y * w + x);
        raw[i] = (x / 5 + k * 7 + n) & 255;
        raw[i + 1] = (y / 3 + n) & 255;
        raw[i + 2] = ((x + y) / 8 + n) & 255;
      }
    }
    const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const path = join(dir, `frame${k}.jpg`);
    writeFileSync(path, jpeg);
    paths.push(path);
    bytes += jpeg.length;
  }
  return { paths, bytes: bytes / FRAMES };
}

async function makeBag(path: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "fusiond-bench-ros-"));
  try {
    const { paths, bytes } = await frames(dir);
    const seconds = Math.ceil((TARGET_MB * 1e6) / (bytes * 20));
    const lines: DriveLine[] = [];
    const t0 = 1_700_000_000_000_000_000n;
    const ns = (ms: number): string => (t0 + BigInt(Math.round(ms * 1e6))).toString();
    for (let ms = 0; ms < seconds * 1000; ms += 10) {
      const s = ns(ms);
      const r = ns(ms + 3);
      if (ms % 50 === 0) lines.push({ kind: "camera", receive_ns: r, stamp_ns: s, frame_id: "cam", format: "jpeg", data_file: paths[(ms / 50) % FRAMES]! });
      if (ms % 50 === 0) lines.push({ kind: "radar", receive_ns: r, stamp_ns: s, frame_id: "radar", seq: ms / 50, returns: Array.from({ length: 64 }, (_, i) => [5 + i, -0.5 + i / 64, 0, -2, 10]) });
      if (ms % 100 === 0) lines.push({ kind: "gnss", receive_ns: r, stamp_ns: s, frame_id: "gps", latitude: 48.1, longitude: 11.5, altitude: 500, covariance: [1, 0, 0, 0, 1, 0, 0, 0, 4], covariance_type: 2 });
      if (ms % 20 === 0) lines.push({ kind: "ego", receive_ns: r, stamp_ns: s, frame_id: "base", speed: 13, yaw_rate: 0.01, accel: 0.1, lane_index: 1 });
    }
    const jsonl = join(dir, "drive.jsonl");
    writeFileSync(jsonl, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const r = spawnSync("/usr/bin/python3", [WRITE_BAG, jsonl, path + ".tmp", "none", "--chunk-bytes", String(4 * 1024 * 1024)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bench: writing the bag failed (python3-rosbag installed?): ${r.stderr || r.error?.message}`);
    renameSync(path + ".tmp", path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bareRead(path: string): Promise<void> {
  const fh = await open(path, "r");
  const buf = Buffer.alloc(8 * 1024 * 1024);
  try {
    while ((await fh.read(buf, 0, buf.length, null)).bytesRead > 0);
  } finally {
    await fh.close();
  }
}

async function bareBag(path: string): Promise<void> {
  await lz4Decompress.isLoaded;
  const fh = await open(path, "r");
  const size = (await fh.stat()).size;
  try {
    const bag = new Bag(
      {
        read: async (offset: number, length: number) => {
          const b = new Uint8Array(length);
          await fh.read(b, 0, length, offset);
          return b;
        },
        size: () => size,
      },
      { parse: false },
    );
    await bag.open();
    let n = 0;
    for await (const m of bag.messageIterator()) n += m.data.length > 0 ? 1 : 0;
    if (n === 0) throw new Error("bench: empty bag");
  } finally {
    await fh.close();
  }
}

const suite: BenchSuite = {
  name: "ros",
  description: "fusiond convert of a ROS 1 bag (MB of bag/s) beside a bare read and a bare @foxglove/rosbag iteration of the same file",
  async run(log) {
    const bag = join(tmpdir(), `fusiond-bench-ros-v2-${TARGET_MB}.bag`);
    if (!existsSync(bag)) {
      log(`writing ${bag} (${TARGET_MB} MB) with python3-rosbag ...`);
      await makeBag(bag);
    }
    const mb = statSync(bag).size / 1e6;
    log(`bag: ${bag}, ${mb.toFixed(0)} MB; ${RUNS} interleaved runs`);
    const out = join(tmpdir(), `fusiond-bench-ros-${process.pid}.mcap`);
    /** MB/s of wall time, and of this process's CPU time (user + system: what one core did, whatever else shares the machine). */
    const cpuRates: Record<string, number[]> = {};
    const time = async (name: string, fn: () => Promise<unknown>): Promise<number> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      const c = process.cpuUsage(c0);
      (cpuRates[name] ??= []).push(mb / ((c.user + c.system) / 1e6));
      return mb / ((performance.now() - t0) / 1000);
    };
    const convert = (compression: Compression) => () => convertRosFile(bag, out, { compression }).finally(() => rmSync(out, { force: true }));
    const read: number[] = [];
    const iter: number[] = [];
    const zstd: number[] = [];
    const none: number[] = [];
    await bareRead(bag); // warm the page cache: every side reads from memory
    for (let i = 0; i < RUNS; i++) {
      read.push(await time("read", () => bareRead(bag)));
      iter.push(await time("iter", () => bareBag(bag)));
      zstd.push(await time("zstd", convert("zstd")));
      none.push(await time("none", convert("none")));
      log(`run ${i + 1}: read ${read[i]!.toFixed(0)}, rosbag ${iter[i]!.toFixed(0)}, convert ${none[i]!.toFixed(0)}, convert --compression zstd ${zstd[i]!.toFixed(0)} MB/s (wall)`);
    }
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    log(`load average at the end: ${load} (on ${cpus().length} cores)`);
    const bare = { name: "bare sequential read", value: median(read) };
    const bareCpu = { name: "bare sequential read (CPU)", value: median(cpuRates["read"]!) };
    const rows: BenchRow[] = [
      { name: "bare @foxglove/rosbag iteration", value: median(iter), unit: "MB/s", baseline: bare },
      { name: "fusiond convert (default: uncompressed output)", value: median(none), unit: "MB/s", baseline: bare, goal: "≥ 100 MB/s" },
      { name: "fusiond convert --compression zstd (level -1)", value: median(zstd), unit: "MB/s", baseline: bare },
      { name: "fusiond convert, per CPU second", value: median(cpuRates["none"]!), unit: "MB/s", baseline: bareCpu, goal: "≥ 100 MB/s", note: "MB of bag per second of this process's CPU time" },
      { name: "fusiond convert --compression zstd, per CPU second", value: median(cpuRates["zstd"]!), unit: "MB/s", baseline: bareCpu },
    ];
    return rows;
  },
};
export default suite;
