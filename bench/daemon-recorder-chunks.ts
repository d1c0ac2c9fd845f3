/**
 * What one recorder chunk costs the daemon's main thread (issue 16): the CPU time of compressing one chunk of
 * the simulator's real-size camera frames, as the daemon's recorder does when a chunk closes, for the chunk
 * sizes and zstd levels in question. A chunk closed by time holds 1 s of input: 4 × 1280×720 at 20 Hz or
 * 1 × 1920×1080 at 30 Hz is 2.4–3 MiB of JPEG.
 *
 *   npx tsx bench/daemon-recorder-chunks.ts
 */
import { compressionReady, compressor } from "../replay/compression.ts";
import { Episode } from "../sim/episode.ts";
import { randomScenario } from "../sim/scenario.ts";

await compressionReady();
const sets = [
  { name: "4 × 1280×720 @ 20 Hz", spec: { ids: ["front", "rear", "left", "right"] as const, width: 1280, height: 720 }, perS: 80 },
  { name: "1 × 1920×1080 @ 30 Hz", spec: { ids: ["front"] as const, width: 1920, height: 1080, hz: 30 }, perS: 30 },
];
for (const set of sets) {
  const ep = new Episode(randomScenario(11, 10, "chunks"), { cameraSet: { ...set.spec, ids: [...set.spec.ids] } });
  const frames: Uint8Array[] = [];
  const take = (msgs: ReturnType<Episode["start"]>): void => {
    for (const m of msgs) if (m.kind === "camera") frames.push((m.message as { data: Uint8Array }).data);
  };
  take(ep.start());
  while (frames.length < 1.5 * set.perS && !ep.done) take(ep.advance({ action: ep.label.action, targetSpeedMps: ep.label.targetSpeedMps }));
  const avg = frames.reduce((a, f) => a + f.length, 0) / frames.length;
  const oneSecond = Math.round(set.perS * avg);
  for (const [label, bytes] of [[`1 s of input (${(oneSecond / 2 ** 20).toFixed(1)} MiB)`, oneSecond], ["256 KiB", 256 * 1024]] as const) {
    const chunk = new Uint8Array(bytes);
    for (let o = 0, i = 0; o < bytes; i++) {
      const f = frames[i % frames.length]!;
      const n = Math.min(f.length, bytes - o);
      chunk.set(f.subarray(0, n), o);
      o += n;
    }
    for (const level of [3, 1]) {
      const c = compressor("zstd", level)!;
      c(chunk);
      const N = 5;
      let out = 0;
      const t0 = process.cpuUsage();
      for (let k = 0; k < N; k++) out = c(chunk).compressedData.length;
      const cpu = process.cpuUsage(t0);
      console.log(`${set.name} (JPEG ${(avg / 1024).toFixed(0)} KiB): chunk of ${label}, zstd ${level}: ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms CPU, compressed to ${(out / bytes).toFixed(3)}`);
    }
  }
}
