import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDataset } from "../../bin/commands/sim.ts";
import { datasetMessages, type DatasetOptions } from "../../sim/dataset.ts";
import type { SimMessage } from "../../sim/episode.ts";
import { DEFAULT_TOPICS } from "../../schemas/topics.ts";

function collect(seed: number, durationS: number, options: DatasetOptions = {}): SimMessage[] {
  const out: SimMessage[] = [];
  const gen = datasetMessages(seed, durationS, options);
  for (let r = gen.next(); !r.done; r = gen.next()) out.push(r.value);
  return out;
}

describe("sim dataset mode", function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), "fusiond-sim-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes byte-identical MCAP files for the same seed", async () => {
    const opts = { vehicle: "sim", sensors: ["camera", "radar", "gnss", "ego", "voice"] as const, cameraFormat: "jpeg" as const, episodeS: 120, compression: "zstd" as const };
    await writeDataset(join(dir, "a.mcap"), 11, 20, { ...opts, sensors: [...opts.sensors] });
    await writeDataset(join(dir, "b.mcap"), 11, 20, { ...opts, sensors: [...opts.sensors] });
    const a = readFileSync(join(dir, "a.mcap"));
    const b = readFileSync(join(dir, "b.mcap"));
    assert.ok(a.length > 100_000);
    assert.ok(a.equals(b), "same seed must give the same bytes");
    await writeDataset(join(dir, "c.mcap"), 12, 20, { ...opts, sensors: [...opts.sensors] });
    assert.ok(!a.equals(readFileSync(join(dir, "c.mcap"))));
  });

  it("--sensor-latency scales only the modelled transport latency: 0 sends each sample at its capture stamp, the rest of the drive unchanged", () => {
    const key = (m: SimMessage): string => `${m.topic}@${m.stampNs}`;
    const modelled = collect(5, 12);
    const none = collect(5, 12, { latencyScale: 0 });
    const half = collect(5, 12, { latencyScale: 0.5 });
    // Every sample of the drive with latency is in the one without (which may hold a few more at the end:
    // samples whose modelled arrival falls after the drive ends are never received).
    assert.ok(none.length >= modelled.length && none.length <= modelled.length + 20, `${none.length} vs ${modelled.length}`);
    const noLatency = new Map(none.map((m) => [key(m), m]));
    const halfLatency = new Map(half.map((m) => [key(m), m]));
    let late = 0;
    for (const ref of modelled) {
      const m = noLatency.get(key(ref));
      assert.ok(m, `${key(ref)} is missing without latency`);
      assert.deepEqual(m.message, ref.message, "same message content");
      const full = Number(ref.receiveNs - ref.stampNs);
      if (full > 0) late++;
      if (ref.kind !== "camera" && ref.kind !== "radar" && ref.kind !== "gnss" && ref.kind !== "ego") continue;
      assert.equal(m.receiveNs, m.stampNs, `${m.kind} leaves at its stamp`);
      const h = halfLatency.get(key(ref))!;
      assert.ok(Math.abs(Number(h.receiveNs - h.stampNs) - full / 2) <= 1, `${ref.kind}: half the latency`);
    }
    assert.ok(late > modelled.length / 2, "with the modelled latency most samples arrive after their stamp");
    assert.throws(() => collect(5, 1, { latencyScale: -1 }), /latencyScale must be a finite number ≥ 0/);
  });

  it("publishes every topic at its nominal rate (±5%) in receive-time order", () => {
    const durationS = 60;
    const msgs = collect(4, durationS);
    for (let i = 1; i < msgs.length; i++) assert.ok(msgs[i]!.receiveNs >= msgs[i - 1]!.receiveNs, "receive order");
    const byKind = new Map<string, SimMessage[]>();
    for (const m of msgs) byKind.set(m.kind, [...(byKind.get(m.kind) ?? []), m]);
    for (const kind of ["camera", "radar", "gnss", "ego"] as const) {
      const nominal = DEFAULT_TOPICS.find((t) => t.kind === kind && !t.template.includes("camera_raw"))!.rateHz!;
      const list = byKind.get(kind) ?? [];
      const span = Number(list[list.length - 1]!.stampNs - list[0]!.stampNs) / 1e9;
      const rate = (list.length - 1) / span;
      assert.ok(Math.abs(rate - nominal) / nominal <= 0.05, `${kind}: ${rate.toFixed(2)} Hz vs ${nominal} Hz`);
      for (const m of list) assert.ok(m.receiveNs > m.stampNs, `${kind} has latency`);
    }
    assert.equal(byKind.get("sim_step")!.length, byKind.get("sim_truth")!.length);
  });

  it("gives a different drive for a different seed", () => {
    const drive = (seed: number): string =>
      collect(seed, 10)
        .filter((m) => m.kind === "sim_truth")
        .map((m) => `${(m.message.station_m as number).toFixed(2)}/${m.message.lane_index as number}`)
        .join(",");
    assert.equal(drive(21), drive(21));
    assert.notEqual(drive(21), drive(22));
  });
});
