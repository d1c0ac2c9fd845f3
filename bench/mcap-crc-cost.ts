/**
 * What @mcap/core's chunk CRC (JavaScript, @foxglove/crc) costs when reading recordings: the messages of the given
 * files read from memory with the check and without it (validateCrcs: false), alternating in one process, CPU
 * seconds per pass, medians of passes 2…N.
 *   nice -n 19 npx tsx bench/mcap-crc-cost.ts .tmp/open-loop-floor/drive-300-*.mcap
 */
import { readFileSync } from "node:fs";
import { McapIndexedReader } from "@mcap/core";
import { compressionReady, decompressHandlers, MemorySource } from "../replay/index.ts";

await compressionReady();
const drives = process.argv.slice(2).map((f) => new Uint8Array(readFileSync(f)));
const pass = async (validateCrcs: boolean): Promise<number> => {
  const c0 = process.cpuUsage();
  for (const bytes of drives) {
    const r = await McapIndexedReader.Initialize({ readable: new MemorySource(bytes), decompressHandlers });
    for await (const _ of r.readMessages({ validateCrcs })) void _;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
const times = { crc: [] as number[], none: [] as number[] };
for (let i = 0; i < 8; i++) {
  const a = await pass(true);
  const b = await pass(false);
  if (i > 0) times.crc.push(a), times.none.push(b);
}
const median = (v: number[]): number => [...v].sort((x, y) => x - y)[v.length >> 1]!;
console.log(`${drives.length} files: with the chunk CRC ${median(times.crc).toFixed(3)} CPU-s, without ${median(times.none).toFixed(3)} (medians of ${times.crc.length} passes)`);
