/**
 * A simulator drive written as a ROS 1 bag by the real ROS 1 writer (python3-rosbag) and as a ROS 2 MCAP
 * (CDR) recording, converted by `fusiond convert`, then replayed with models/default: the actions agree with
 * replaying the simulator's own recording of the drive, the stamps survive to the ns, and what the ROS types
 * cannot carry (the lane-change state, the steering angle) is named by convert and left missing.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeRecording, fileSource, McapRecording, type ConvertReport } from "../../../replay/index.ts";
import { writeRos2Mcap } from "../../fixtures/ros/ros2-mcap-writer.ts";
import { runReplay } from "../../../eval/run/replay.ts";
import { actionsOf, agreement } from "./agreement.ts";
import { fusiond, requireRosbag, simDrive, writeBag, type Drive } from "./helpers.ts";

const MODEL = "models/default";

interface Seen {
  /** kind → "receive/stamp" pairs */
  stamps: Map<string, string[]>;
  ego: Record<string, unknown>[];
}

async function contents(file: string): Promise<Seen> {
  const rec = await McapRecording.open(await fileSource(file));
  const stamps = new Map<string, string[]>();
  const ego: Record<string, unknown>[] = [];
  try {
    for await (const { message: m } of decodeRecording(rec, { topics: ["vehicles/+/sensors/#", "vehicles/+/ego"] })) {
      if (!m) continue;
      const list = stamps.get(m.kind) ?? [];
      list.push(`${m.receiveNs}/${m.stampNs}`);
      stamps.set(m.kind, list);
      if (m.kind === "ego") ego.push(m.message);
    }
  } finally {
    await rec.close();
  }
  for (const l of stamps.values()) l.sort();
  return { stamps, ego };
}

describe("ROS recordings → fusiond convert → replay (models/default)", function () {
  this.timeout(240_000);
  let dir: string;
  let drive: Drive;
  let simActions: Map<string, string>;
  let simSeen: Seen;
  before(async () => {
    requireRosbag();
    dir = mkdtempSync(join(tmpdir(), "fusiond-rostest-"));
    drive = await simDrive(dir, 6);
    simActions = await actionsOf(drive.sim, MODEL);
    simSeen = await contents(drive.sim);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const check = async (input: string, format: string): Promise<void> => {
    const out = join(dir, `${format}.fusiond.mcap`);
    // ROS 1: the text report; ROS 2: the JSON one.
    const r = fusiond("convert", input, "--out", out, ...(format === "ros2" ? ["--json"] : []));
    assert.equal(r.status, 0, r.stderr);
    if (format === "ros1") {
      assert.match(r.stdout, /ROS 1 bag/);
      // Named as missing: the lane-change state and the steering angle (no standard ROS type carries them).
      const missingLine = r.stdout.split("\n").find((l) => l.includes("vehicles/ros/ego") && l.includes("from nav_msgs/Odometry"));
      assert.ok(missingLine && /lane_change/.test(missingLine) && /steering_rad/.test(missingLine), r.stdout);
      assert.match(r.stdout, /not mapped \(skipped\):\n  \/driver\/status +std_msgs\/String +\d+ +no fusiond stream takes this type/);
    } else {
      const report = JSON.parse(r.stdout) as ConvertReport & { out: string };
      assert.equal(report.format, "ros2");
      assert.equal(report.out, out);
      const ego = report.missing.find((m) => m.to === "vehicles/ros/ego");
      assert.deepEqual(ego, { to: "vehicles/ros/ego", from: "nav_msgs/Odometry", fields: ["steering_rad", "lane_change"] });
      assert.deepEqual(report.unmapped, []);
      assert.deepEqual(report.mapped.map((m) => m.to).sort(), ["vehicles/ros/ego", "vehicles/ros/ego", "vehicles/ros/ego", "vehicles/ros/sensors/camera/front", "vehicles/ros/sensors/gnss/0", "vehicles/ros/sensors/radar/front"]);
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".partial")), [], "no temporary file left");

    const seen = await contents(out);
    // Event stamps and receive times exactly as in the simulator's recording, message for message.
    for (const kind of ["camera", "radar", "gnss", "ego"]) {
      assert.deepEqual(seen.stamps.get(kind), simSeen.stamps.get(kind), `${kind}: receive/event stamps`);
    }
    // Missing, not zero: no lane_change or steering on the wire; the lane and the acceleration are there.
    for (const e of seen.ego) {
      assert.equal(e["lane_change"], null);
      assert.equal(e["steering_rad"], null);
      assert.equal(typeof e["lane_index"], "number");
      assert.equal(typeof e["accel_mps2"], "number");
    }
    const a = agreement(simActions, await actionsOf(out, MODEL));
    assert.ok(a.frames >= 100, `only ${a.frames} frames decided`);
    assert.ok(a.fraction >= 0.99, `actions agree on ${a.agree}/${a.frames} frames; first differences: ${a.differing.slice(0, 5).join("; ")}`);
  };

  it("a ROS 1 bag written by python3-rosbag (CompressedImage, NavSatFix, PointCloud2 float64 radar, Odometry + Imu)", async () => {
    const bag = join(dir, "drive.bag");
    writeBag(drive.jsonl, bag);
    await check(bag, "ros1");
  });

  it("info and replay read the bag directly with --ros-map (converted to a temporary file, removed after)", async () => {
    const bag = join(dir, "drive.bag");
    const map = fileURLToPath(new URL("../../fixtures/ros/ros.yaml", import.meta.url)); // the docs/ros.md example
    const temps = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith("fusiond-ros-"));
    const before = temps();
    const info = fusiond("info", bag, "--ros-map", map, "--json");
    assert.equal(info.status, 0, info.stderr);
    const topics = (JSON.parse(info.stdout) as { topics: { topic: string }[] }).topics.map((t) => t.topic);
    assert.deepEqual(topics.sort(), ["vehicles/sim/ego", "vehicles/sim/sensors/camera/front", "vehicles/sim/sensors/gnss/main", "vehicles/sim/sensors/radar/front"]);
    const report = await runReplay(bag, { rosMap: map, model: MODEL, backend: "wasm", ignore: "", tolerance: "0", quiet: true });
    assert.equal(report.file, bag);
    assert.ok(report.decisions >= 100, `${report.decisions} decisions`);
    assert.deepEqual(temps(), before, "temporary conversions removed");
    const bad = fusiond("info", drive.sim, "--ros-map", map);
    assert.equal(bad.status, 2, "a usage error (bin/cli-errors.ts)");
    assert.match(bad.stderr, /--ros-map is for ROS recordings/);
  });

  it("a ROS 2 MCAP (CDR) recording of the same drive", async () => {
    const mcap = join(dir, "drive-ros2.mcap");
    await writeRos2Mcap(drive.lines, mcap);
    await check(mcap, "ros2");
  });
});
