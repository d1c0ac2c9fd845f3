/**
 * Record and replay: recorder throughput beside a bare @mcap/core McapWriter and a bare buffered fs
 * write of the same messages, in the same run (runs interleaved, repeated, medians); `info` read
 * throughput beside a bare sequential read of the same file, on an 84 MiB zstd file and on a 1 GiB file
 * (cached in the OS temp folder between runs); replay-source speed (decode + virtual clock) as a multiple
 * of real time. The whole pipeline with the model is in replay.bench.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { McapWriter } from "@mcap/core";
import { defaultCodec } from "../schemas/index.ts";
import {
  compressionReady,
  compressor,
  driveReplay,
  fileSink,
  fileSource,
  McapRecorder,
  McapRecording,
  recordingInfo,
  type RecordInput,
} from "../replay/index.ts";
import { syntheticDrive } from "../test/replay/synthetic.ts";
import { median, type BenchRow, type BenchSuite } from "./harness.ts";

/**
 * Recorder vs McapWriter: RUNS interleaved pairs; the median of each, and the median of the per-pair ratios
 * (a pair runs back to back, so a burst of load from others tends to hit both sides of it).
 */
const RUNS = Number(process.env["FUSIOND_BENCH_RUNS"] ?? 7);
/** Size of the large `info` file, MiB (the issue asks for 1 GB); 0 skips it. */
const INFO_MIB = Number(process.env["FUSIOND_BENCH_INFO_MIB"] ?? 1024);

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function withRecorder(path: string, msgs: readonly RecordInput[], compression: "zstd" | "lz4" | "none"): Promise<void> {
  const rec = await McapRecorder.create({ open: () => fileSink(path), compression, chunkBytes: CHUNK, maxQueueBytes: 1024 * MiB });
  for (const m of msgs) if (!rec.addMessage(m)) throw new Error("bench: recorder dropped a message");
  await rec.close();
}

/** The bare library: McapWriter over a FileHandle, same chunk size and compressor, awaited call by call as it requires. */
async function withMcapWriter(path: string, msgs: readonly RecordInput[], compression: "zstd" | "lz4" | "none"): Promise<void> {
  const fh = await open(path, "w");
  let pos = 0n;
  const codec = defaultCodec();
  const compress = compressor(compression);
  const writer = new McapWriter({
    writable: { write: async (b: Uint8Array) => void (await fh.write(b), (pos += BigInt(b.length))), position: () => pos },
    chunkSize: CHUNK,
    ...(compress ? { compressChunk: compress } : {}),
  });
  await writer.start({ profile: "", library: "bench" });
  const schemas = new Map<string, number>();
  const channels = new Map<string, number>();
  const seq = new Map<number, number>();
  for (const m of msgs) {
    let ch = channels.get(m.topic);
    if (ch === undefined) {
      let sid = schemas.get(m.type);
      if (sid === undefined) schemas.set(m.type, (sid = await writer.registerSchema({ name: m.type, encoding: "protobuf", data: codec.fileDescriptorSet(m.type) })));
      channels.set(m.topic, (ch = await writer.registerChannel({ topic: m.topic, schemaId: sid, messageEncoding: "protobuf", metadata: new Map() })));
    }
    const s = (seq.get(ch) ?? 0) + 1;
    seq.set(ch, s);
    await writer.addMessage({ channelId: ch, sequence: s, logTime: m.receiveNs, publishTime: m.stampNs, data: m.bytes });
  }
  await writer.end();
  await fh.close();
}

/** The bare file write: payloads copied into 4 MiB buffers, each written once. */
async function withBufferedFs(path: string, msgs: readonly RecordInput[]): Promise<void> {
  const fh = await open(path, "w");
  const buf = Buffer.allocUnsafe(CHUNK);
  let n = 0;
  for (const m of msgs) {
    if (n + m.bytes.length > buf.length) {
      await fh.write(buf, 0, n);
      n = 0;
    }
    buf.set(m.bytes, n);
    n += m.bytes.length;
  }
  if (n) await fh.write(buf, 0, n);
  await fh.close();
}

/** Copies `from` up to its DataEnd record into `to`: the file as it would be had it not been closed. */
async function copyUnclosed(from: string, to: string): Promise<void> {
  const r = await McapRecording.open(await fileSource(from));
  const end = Number(r.indexed!.dataEndOffset);
  await r.close();
  const fhIn = await open(from, "r");
  const fhOut = await open(to, "w");
  const buf = Buffer.allocUnsafe(8 * MiB);
  for (let at = 0; at < end; ) {
    const { bytesRead } = await fhIn.read(buf, 0, Math.min(buf.length, end - at), at);
    await fhOut.write(buf, 0, bytesRead);
    at += bytesRead;
  }
  await fhIn.close();
  await fhOut.close();
}

/** Sequential read of a whole file in 8 MiB reads: what the disk and page cache give, s. */
async function bareRead(path: string): Promise<number> {
  return timed(async () => {
    const fh = await open(path, "r");
    const buf = Buffer.allocUnsafe(8 * MiB);
    while ((await fh.read(buf, 0, buf.length)).bytesRead > 0);
    await fh.close();
  });
}

/**
 * `info` on a file of about `mib` MiB: the 60 s drive repeated (uncompressed chunks, so that a 1 GiB file
 * takes seconds to make rather than minutes; 40 KB camera frames, as raw images make files this big).
 * Made once and kept in the OS temp folder (delete `fusiond-bench-info-*.mcap` there to free the space).
 * Timed: `recordingInfo` in process, and the `fusiond info` command as a process (node + tsx start
 * included), each beside a bare sequential read of the same file, run before each of them.
 */
async function infoOnLargeFile(dir: string, msgs: readonly RecordInput[], mib: number, log: (line: string) => void): Promise<BenchRow[]> {
  const perDrive = msgs.reduce((a, m) => a + m.bytes.length + 64, 0);
  const reps = Math.max(1, Math.round((mib * MiB) / perDrive));
  const path = join(tmpdir(), `fusiond-bench-info-${mib}MiB-v1.mcap`);
  if (!existsSync(path)) {
    const t = await timed(async () => {
      const part = `${path}.part-${process.pid}`;
      const rec = await McapRecorder.create({ open: () => fileSink(part), compression: "none", chunkBytes: CHUNK, maxQueueBytes: 1024 * MiB });
      for (let r = 0; r < reps; r++) {
        const shift = BigInt(r) * 60_000_000_000n;
        for (const m of msgs) if (!rec.addMessage({ ...m, receiveNs: m.receiveNs + shift, stampNs: m.stampNs + shift })) throw new Error("bench: recorder dropped a message");
        await rec.flush();
      }
      await rec.close();
      renameSync(part, path);
    });
    log(`made ${path} in ${t.toFixed(1)} s`);
  } else log(`reusing ${path}`);
  const sizeMB = statSync(path).size / MiB;
  const read1 = await bareRead(path);
  let messages = 0;
  const inProcess = await timed(async () => {
    const r = await McapRecording.open(await fileSource(path));
    messages = (await recordingInfo(r)).messages;
    await r.close();
  });
  const read2 = await bareRead(path);
  const cli = await timed(async () => {
    const p = spawnSync(process.execPath, ["bin/fusiond.js", "info", path, "--json"], { encoding: "utf8", maxBuffer: 64 * MiB });
    if (p.status !== 0) throw new Error(`fusiond info failed: ${p.stderr}`);
  });
  // The node + tsx + module start of the CLI, to tell it apart from the reading.
  const start = await timed(async () => {
    const p = spawnSync(process.execPath, ["bin/fusiond.js", "info", "--help"], { encoding: "utf8" });
    if (p.status !== 0) throw new Error(`fusiond info --help failed: ${p.stderr}`);
  });
  log(`info file: ${sizeMB.toFixed(0)} MiB, ${reps} × 60 s of drive, ${messages} messages; in process ${inProcess.toFixed(2)} s, CLI ${cli.toFixed(2)} s (of which ~${start.toFixed(2)} s is starting node + tsx: \`fusiond info --help\`)`);
  // The same file as if it had not been closed (a temporary copy cut before DataEnd): info scans every chunk.
  const unclosed = join(dir, "unclosed-large.mcap");
  await copyUnclosed(path, unclosed);
  let scanned = 0;
  const read3 = await bareRead(unclosed);
  const scan = await timed(async () => {
    const r = await McapRecording.open(await fileSource(unclosed));
    scanned = (await recordingInfo(r)).messages;
    await r.close();
  });
  rmSync(unclosed, { force: true });
  log(`unclosed copy of it: ${scanned} messages found by the scan in ${scan.toFixed(2)} s`);
  return [
    { name: `info, indexed (${sizeMB.toFixed(0)} MiB file, in process)`, value: sizeMB / inProcess, unit: "MB/s", baseline: { name: "bare sequential read", value: sizeMB / read1 }, note: `${inProcess.toFixed(2)} s; reads only summary + message indexes (MB/s = file size / time)` },
    { name: `\`fusiond info\` CLI, whole process (${sizeMB.toFixed(0)} MiB file)`, value: sizeMB / cli, unit: "MB/s", baseline: { name: "bare sequential read", value: sizeMB / read2 }, note: `${cli.toFixed(2)} s; node + tsx start alone ${start.toFixed(2)} s` },
    { name: `info, unclosed file scan (${sizeMB.toFixed(0)} MiB, no compression)`, value: sizeMB / scan, unit: "MB/s", baseline: { name: "bare sequential read", value: sizeMB / read3 }, note: `${scan.toFixed(2)} s; CRC-checks every chunk` },
  ];
}

const suite: BenchSuite = {
  name: "recorder",
  description: "MCAP recorder MB/s vs bare McapWriter and buffered fs; info read MB/s vs bare read; replay source × real time",
  async run(log) {
    await compressionReady();
    const dir = mkdtempSync(join(tmpdir(), "fusiond-bench-rec-"));
    const rows: BenchRow[] = [];
    try {
      // 60 s of a drive with 40 KB camera frames: the mix of big and small messages a recording holds.
      const msgs = syntheticDrive({ durationS: 60, imageBytes: 40_000 });
      const payloadMB = msgs.reduce((a, m) => a + m.bytes.length, 0) / MiB;
      log(`${msgs.length} messages, ${payloadMB.toFixed(1)} MiB of payload (60 s drive); ${RUNS} interleaved runs each (order alternating), medians`);
      for (const compression of ["zstd", "none"] as const) {
        const t = { rec: [] as number[], mcap: [] as number[], fs: [] as number[] };
        const recorder = (): Promise<number> => timed(() => withRecorder(join(dir, `rec-${compression}.mcap`), msgs, compression));
        const bare = (): Promise<number> => timed(() => withMcapWriter(join(dir, `bare-${compression}.mcap`), msgs, compression));
        // One warm-up pair (JIT, wasm compressor, page cache), not counted.
        await recorder();
        await bare();
        for (let i = 0; i < RUNS; i++) {
          if (i % 2 === 0) {
            t.rec.push(await recorder());
            t.mcap.push(await bare());
          } else {
            t.mcap.push(await bare());
            t.rec.push(await recorder());
          }
          if (compression === "zstd") t.fs.push(await timed(() => withBufferedFs(join(dir, "bare.bin"), msgs)));
        }
        const size = statSync(join(dir, `rec-${compression}.mcap`)).size / MiB;
        const bareSize = statSync(join(dir, `bare-${compression}.mcap`)).size / MiB;
        log(`${compression}: recorder file ${size.toFixed(1)} MiB, bare McapWriter file ${bareSize.toFixed(1)} MiB`);
        const ratios = t.rec.map((r, i) => t.mcap[i]! / r);
        const sorted = [...ratios].sort((a, b) => a - b);
        log(`${compression}: per-pair ratio recorder/McapWriter min ${sorted[0]!.toFixed(2)}×, median ${median(ratios).toFixed(2)}×, max ${sorted.at(-1)!.toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(" ")})`);
        const rec = payloadMB / median(t.rec);
        rows.push({ name: `recorder (${compression}, payload MB/s, median of ${RUNS})`, value: rec, unit: "MB/s", baseline: { name: `bare McapWriter (${compression}), median`, value: payloadMB / median(t.mcap) }, goal: "≥ 0.8×" });
        rows.push({ name: `recorder/McapWriter (${compression}), median of per-pair ratios`, value: median(ratios), unit: "×", goal: "≥ 0.8×", note: `min ${sorted[0]!.toFixed(2)}×, max ${sorted.at(-1)!.toFixed(2)}×` });
        if (compression === "zstd") rows.push({ name: "recorder (zstd, payload MB/s, median)", value: rec, unit: "MB/s", baseline: { name: "bare buffered fs write, median", value: payloadMB / median(t.fs) } });
      }

      // info on a larger file: as large as fits a modest run here (~256 MiB of zstd chunks).
      const big = join(dir, "big.mcap");
      const rec = await McapRecorder.create({ open: () => fileSink(big), compression: "zstd", chunkBytes: CHUNK, maxQueueBytes: 1024 * MiB });
      const reps = 10;
      for (let r = 0; r < reps; r++) {
        const shift = BigInt(r) * 60_000_000_000n;
        for (const m of msgs) rec.addMessage({ ...m, receiveNs: m.receiveNs + shift, stampNs: m.stampNs + shift });
        await rec.flush();
      }
      await rec.close();
      const bigMB = statSync(big).size / MiB;
      log(`info file: ${bigMB.toFixed(0)} MiB, ${reps * 60} s of drive, ${reps * msgs.length} messages`);
      const bigRead = await bareRead(big);
      const infoIndexed = await timed(async () => {
        const r = await McapRecording.open(await fileSource(big));
        await recordingInfo(r);
        await r.close();
      });
      // The same file as if it had not been closed: info must scan (decompress, CRC-check) every chunk.
      const unclosed = join(dir, "unclosed.mcap");
      await copyUnclosed(big, unclosed);
      let uncompressedMB = 0;
      const infoScan = await timed(async () => {
        const r = await McapRecording.open(await fileSource(unclosed));
        uncompressedMB = (await recordingInfo(r)).chunks.uncompressedBytes / MiB;
        await r.close();
      });
      log(`unclosed copy: ${uncompressedMB.toFixed(0)} MiB of chunk data once decompressed (scan: ${(uncompressedMB / infoScan).toFixed(0)} MB/s of it)`);
      rows.push({ name: `info, indexed (${bigMB.toFixed(0)} MiB file)`, value: bigMB / infoIndexed, unit: "MB/s", baseline: { name: "bare sequential read", value: bigMB / bigRead }, note: "reads only summary + message indexes" });
      rows.push({ name: `info, unclosed file scan (${bigMB.toFixed(0)} MiB)`, value: bigMB / infoScan, unit: "MB/s", baseline: { name: "bare sequential read", value: bigMB / bigRead }, note: "decompresses and CRC-checks every chunk" });

      // Replay source: decode every message through MessageDecoder on the virtual clock, no pipeline.
      const rs = await timed(async () => {
        const r = await McapRecording.open(await fileSource(join(dir, "rec-zstd.mcap")));
        await driveReplay({ recording: r, build: (input) => input, collect: false });
        await r.close();
      });
      rows.push({ name: "replay source (read + decode + virtual clock), × real time", value: 60 / rs, unit: "×", note: "no model: the whole pipeline with the model is the replay suite" });

      if (INFO_MIB > 0) rows.push(...(await infoOnLargeFile(dir, msgs, INFO_MIB, log)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};

export default suite;
