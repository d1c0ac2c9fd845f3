/**
 * Shared fixtures of the ROS tests: a short simulator drive, its content as JSON lines, and ROS 1 bags
 * written from it by Debian's python3-rosbag (the real ROS 1 writer; .ci/run installs it).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportDrive, type DriveLine } from "../../fixtures/ros/export-drive.ts";

export const FUSIOND = fileURLToPath(new URL("../../../bin/fusiond.js", import.meta.url));
const WRITE_BAG = fileURLToPath(new URL("../../fixtures/ros/write_ros1_bag.py", import.meta.url));
/** Debian's python, which has the ROS 1 modules (the `python3` on PATH may be another). */
export const PYTHON = "/usr/bin/python3";

export function requireRosbag(): void {
  const r = spawnSync(PYTHON, ["-c", "import rosbag, sensor_msgs.msg, nav_msgs.msg, std_msgs.msg"], { encoding: "utf8" });
  assert.equal(
    r.status,
    0,
    `these tests write ROS 1 bags with Debian's ROS 1 Python stack: apt-get install python3-rosbag python3-sensor-msgs python3-nav-msgs python3-geometry-msgs python3-std-msgs (${r.stderr || r.error?.message})`,
  );
}

export interface Drive {
  sim: string;
  jsonl: string;
  lines: DriveLine[];
}

/** A simulator drive of `seconds` in `dir`, and its content as JSON lines. */
export async function simDrive(dir: string, seconds = 6, seed = 3): Promise<Drive> {
  const sim = join(dir, "sim.mcap");
  const r = spawnSync(process.execPath, [FUSIOND, "sim", "--seed", String(seed), "--duration", String(seconds), "--out", sim], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = await exportDrive(sim);
  const jsonl = join(dir, "drive.jsonl");
  writeFileSync(jsonl, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  return { sim, jsonl, lines };
}

/** Writes a ROS 1 bag from the drive's JSON lines with python3-rosbag. */
export function writeBag(jsonl: string, out: string, compression: "none" | "lz4" | "bz2" = "none", chunkBytes?: number): void {
  const args = [WRITE_BAG, jsonl, out, compression, ...(chunkBytes ? ["--chunk-bytes", String(chunkBytes)] : [])];
  const r = spawnSync(PYTHON, args, { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

export function fusiond(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [FUSIOND, ...args], { encoding: "utf8" });
}
