/**
 * Record and replay: recorder throughput beside a bare @mcap/core McapWriter and a bare buffered fs
 * write of the same messages, in the same run; `info` read throughput beside a bare sequential read of
 * the same file; replay-source speed (decode + virtual clock) as a multiple of real time.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
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
  syntheticDrive,
  type RecordInput,
} from "../replay/index.ts";
import type { BenchRow, BenchSuite } from "./harness.ts";

/** Best of the runs: on a shared machine the fastest run is the one least disturbed by others. */
const best = (xs: number[]): number => Math.min(...xs);

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
      log(`${msgs.length} messages, ${payloadMB.toFixed(1)} MiB of payload (60 s drive); best of 3 runs each, interleaved`);
      for (const compression of ["zstd", "none"] as const) {
        const t = { rec: [] as number[], mcap: [] as number[], fs: [] as number[] };
        for (let i = 0; i < 3; i++) {
          t.rec.push(await timed(() => withRecorder(join(dir, `rec-${compression}.mcap`), msgs, compression)));
          t.mcap.push(await timed(() => withMcapWriter(join(dir, `bare-${compression}.mcap`), msgs, compression)));
          if (compression === "zstd") t.fs.push(await timed(() => withBufferedFs(join(dir, "bare.bin"), msgs)));
        }
        const size = statSync(join(dir, `rec-${compression}.mcap`)).size / MiB;
        const bareSize = statSync(join(dir, `bare-${compression}.mcap`)).size / MiB;
        log(`${compression}: recorder file ${size.toFixed(1)} MiB, bare McapWriter file ${bareSize.toFixed(1)} MiB`);
        const rec = payloadMB / best(t.rec);
        rows.push({ name: `recorder (${compression}, payload MB/s)`, value: rec, unit: "MB/s", baseline: { name: `bare McapWriter (${compression})`, value: payloadMB / best(t.mcap) }, goal: "≥ 0.8×" });
        if (compression === "zstd") rows.push({ name: "recorder (zstd, payload MB/s)", value: rec, unit: "MB/s", baseline: { name: "bare buffered fs write", value: payloadMB / best(t.fs) } });
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
      const bareRead = await timed(async () => {
        const fh = await open(big, "r");
        const buf = Buffer.allocUnsafe(8 * MiB);
        while ((await fh.read(buf, 0, buf.length)).bytesRead > 0);
        await fh.close();
      });
      const infoIndexed = await timed(async () => {
        const r = await McapRecording.open(await fileSource(big));
        await recordingInfo(r);
        await r.close();
      });
      // The same file as if it had not been closed: info must scan (decompress, CRC-check) every chunk.
      const unclosed = join(dir, "unclosed.mcap");
      {
        const src = await fileSource(big);
        const r = await McapRecording.open(src);
        const end = Number(r.indexed!.dataEndOffset);
        await r.close();
        const fhIn = await open(big, "r");
        const fhOut = await open(unclosed, "w");
        const buf = Buffer.allocUnsafe(8 * MiB);
        for (let at = 0; at < end; ) {
          const { bytesRead } = await fhIn.read(buf, 0, Math.min(buf.length, end - at), at);
          await fhOut.write(buf, 0, bytesRead);
          at += bytesRead;
        }
        await fhIn.close();
        await fhOut.close();
      }
      let uncompressedMB = 0;
      const infoScan = await timed(async () => {
        const r = await McapRecording.open(await fileSource(unclosed));
        uncompressedMB = (await recordingInfo(r)).chunks.uncompressedBytes / MiB;
        await r.close();
      });
      log(`unclosed copy: ${uncompressedMB.toFixed(0)} MiB of chunk data once decompressed (scan: ${(uncompressedMB / infoScan).toFixed(0)} MB/s of it)`);
      rows.push({ name: `info, indexed (${bigMB.toFixed(0)} MiB file)`, value: bigMB / infoIndexed, unit: "MB/s", baseline: { name: "bare sequential read", value: bigMB / bareRead }, note: "reads only summary + message indexes" });
      rows.push({ name: `info, unclosed file scan (${bigMB.toFixed(0)} MiB)`, value: bigMB / infoScan, unit: "MB/s", baseline: { name: "bare sequential read", value: bigMB / bareRead }, note: "decompresses and CRC-checks every chunk" });

      // Replay source: decode every message through MessageDecoder on the virtual clock, no pipeline.
      const rs = await timed(async () => {
        const r = await McapRecording.open(await fileSource(join(dir, "rec-zstd.mcap")));
        await driveReplay({ recording: r, build: (input) => input, collect: false });
        await r.close();
      });
      rows.push({ name: "replay source (read + decode + virtual clock), × real time", value: 60 / rs, unit: "×", note: "no model: the pipeline's own cost is in the aligner/fusion suites" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};

export default suite;
