/**
 * Simulator throughput: simulated seconds per wall second in dataset mode with every sensor (camera
 * rendering + JPEG, radar, GNSS, CAN, voice, truth, protobuf encoding), beside the world stepping alone
 * (world + expert + scorer, no sensors) measured in the same run.
 */
import { defaultCodec } from "../schemas/codec.ts";
import { datasetMessages } from "../sim/dataset.ts";
import type { SensorName } from "../sim/episode.ts";
import type { BenchRow, BenchSuite } from "./harness.ts";

const SIM_S = 60;

function run(sensors: SensorName[], encode: boolean): number {
  const codec = defaultCodec();
  const t0 = performance.now();
  const gen = datasetMessages(7, SIM_S, { sensors });
  for (let r = gen.next(); !r.done; r = gen.next()) if (encode) codec.encode(r.value.type, r.value.message);
  return SIM_S / ((performance.now() - t0) / 1000);
}

const suite: BenchSuite = {
  name: "sim",
  description: "simulated seconds per wall second (dataset mode) vs world stepping alone",
  async run(log) {
    run(["camera", "radar", "gnss", "ego", "voice"], true); // warm-up (JIT, clip catalog, JPEG tables)
    const best = (f: () => number): number => Math.max(f(), f(), f());
    const world = best(() => run([], false));
    log(`world alone: ${world.toFixed(0)}× real time`);
    const all = best(() => run(["camera", "radar", "gnss", "ego", "voice"], true));
    const camera = best(() => run(["camera"], true));
    const rows: BenchRow[] = [
      { name: "dataset, all sensors + protobuf encode", value: all, unit: "× real time", baseline: { name: "world + expert alone", value: world }, goal: "≥ 50× real time" },
      { name: "dataset, camera only (render + JPEG)", value: camera, unit: "× real time", baseline: { name: "world + expert alone", value: world } },
    ];
    return rows;
  },
};
export default suite;
