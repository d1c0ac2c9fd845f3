import { strict as assert } from "node:assert";
import { VirtualAction, VirtualTimeScheduler } from "rxjs";
import { McapIndexedReader, McapStreamReader, type McapTypes } from "@mcap/core";
import { decompressHandlers } from "../../replay/compression.ts";
import { MemorySink, MemorySource, type ByteSink } from "../../replay/io.ts";
import { McapRecorder, outputPath, type RecordInput } from "../../replay/recorder.ts";
import { syntheticDrive } from "./synthetic.ts";

async function recordAll(inputs: RecordInput[], options: Partial<Parameters<typeof McapRecorder.create>[0]> = {}): Promise<{ sinks: MemorySink[]; rec: McapRecorder }> {
  const sinks: MemorySink[] = [];
  const rec = await McapRecorder.create({
    open: (i) => {
      const s = new MemorySink(`mem${i}.mcap`);
      sinks.push(s);
      return s;
    },
    ...options,
  });
  for (const m of inputs) assert.ok(rec.addMessage(m));
  await rec.close();
  return { sinks, rec };
}

/** Compares bytes by content whatever the Uint8Array subclass (protobufjs gives Buffers). */
const norm = (m: RecordInput): object => ({ ...m, bytes: Buffer.from(m.bytes).toString("hex") });

function streamRecords(bytes: Uint8Array): McapTypes.TypedMcapRecord[] {
  const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  reader.append(bytes);
  const out: McapTypes.TypedMcapRecord[] = [];
  for (let r; (r = reader.nextRecord()); ) out.push(r);
  assert.ok(reader.done(), "stream reader reached the footer");
  return out;
}

describe("replay/recorder", () => {
  const drive = syntheticDrive({ durationS: 3 });

  for (const compression of ["zstd", "lz4", "none"] as const) {
    it(`writes a valid, indexed ${compression} file that @mcap/core reads back message for message`, async () => {
      const { sinks, rec } = await recordAll(drive, { compression, metadata: { vehicle: "ego1", fusiondVersion: "0.1.0" } });
      assert.equal(sinks.length, 1);
      const bytes = sinks[0]!.bytes();
      const reader = await McapIndexedReader.Initialize({ readable: new MemorySource(bytes), decompressHandlers });
      assert.equal(reader.statistics?.messageCount, BigInt(drive.length));
      const types = new Set(drive.map((m) => m.type));
      assert.equal(reader.schemasById.size, types.size, "one schema per type");
      assert.equal(reader.channelsById.size, new Set(drive.map((m) => m.topic)).size, "one channel per topic");
      for (const s of reader.schemasById.values()) assert.equal(s.encoding, "protobuf");
      const got: RecordInput[] = [];
      for await (const m of reader.readMessages()) {
        const ch = reader.channelsById.get(m.channelId)!;
        got.push({ topic: ch.topic, type: reader.schemasById.get(ch.schemaId)!.name, bytes: m.data, receiveNs: m.logTime, stampNs: m.publishTime });
      }
      assert.deepEqual(got.map(norm), drive.map(norm));
      const meta = [];
      for await (const m of reader.readMetadata()) meta.push(m);
      assert.deepEqual(meta, [{ type: "Metadata", name: "fusiond", metadata: new Map([["fusiondVersion", "0.1.0"], ["vehicle", "ego1"]]) }]);
      // Chunks never span a second of log time.
      for (const c of reader.chunkIndexes) assert.ok(c.messageEndTime - c.messageStartTime < 1_000_000_000n);
      if (compression !== "none") assert.ok(reader.chunkIndexes.every((c) => c.compression === compression));
      assert.equal(rec.stats().messages, drive.length);
      // The streaming reader validates CRCs of the chunks.
      const recs = streamRecords(bytes);
      assert.equal(recs.filter((r) => r.type === "Message").length, drive.length);
    });
  }

  it("with deferChunkClose, a chunk that comes due in addMessage closes on the scheduler's next turn, not inside the call", async () => {
    const scheduler = new VirtualTimeScheduler(VirtualAction, 100); // runs what is due within 100 ms, not the periodic flush
    const sink = new MemorySink("d.mcap");
    const rec = await McapRecorder.create({ open: () => sink, scheduler, flushIntervalMs: 60_000, deferChunkClose: true });
    const at = (s: number): RecordInput => ({ ...drive[0]!, receiveNs: BigInt(s * 1e9), stampNs: BigInt(s * 1e9) });
    rec.addMessage(at(0));
    rec.addMessage(at(1.5)); // due: 1.5 s after the chunk's first message
    rec.addMessage(at(1.6));
    assert.equal(rec.stats().chunks, 0, "not closed inside addMessage");
    scheduler.flush();
    assert.equal(rec.stats().chunks, 1, "closed on the next turn, once");
    rec.addMessage(at(1.7));
    await rec.close();
    const messages = streamRecords(sink.bytes()).filter((r) => r.type === "Message");
    assert.equal(messages.length, 4, "every message in a valid file");
    // Without it the chunk closes inside the call that finds it due.
    const inline = await McapRecorder.create({ open: () => new MemorySink("i.mcap"), scheduler: new VirtualTimeScheduler(), flushIntervalMs: 60_000 });
    inline.addMessage(at(0));
    inline.addMessage(at(1.5));
    assert.equal(inline.stats().chunks, 1);
    await inline.close();
  });

  it("with a scheduler, an idle open chunk is closed every flushIntervalMs, and close() stops the timer after hours of virtual time", async () => {
    const scheduler = new VirtualTimeScheduler();
    const rec = await McapRecorder.create({ open: () => new MemorySink("f.mcap"), scheduler, flushIntervalMs: 1000 });
    const at = (s: number): RecordInput => ({ ...drive[0]!, receiveNs: BigInt(s * 1e9), stampNs: BigInt(s * 1e9) });
    rec.addMessage(at(0));
    scheduler.maxFrames = 999;
    scheduler.flush();
    assert.equal(rec.stats().chunks, 0, "not before the interval");
    scheduler.maxFrames = 1000;
    scheduler.flush();
    assert.equal(rec.stats().chunks, 1, "the idle chunk is closed at the first tick");
    rec.addMessage(at(1.2));
    scheduler.maxFrames = 3 * 3600 * 1000; // 10,800 ticks: each a fresh action, so nothing chains
    scheduler.flush();
    assert.equal(rec.stats().chunks, 2);
    assert.equal(scheduler.actions.length, 1, "one pending tick at most");
    await rec.close();
    scheduler.maxFrames = Infinity;
    scheduler.flush();
    assert.equal(scheduler.actions.length, 0, "closed: no tick is left to fire");
  });

  it("is deterministic: the same input gives byte-identical files", async () => {
    const a = (await recordAll(drive)).sinks[0]!.bytes();
    const b = (await recordAll(drive)).sinks[0]!.bytes();
    assert.ok(Buffer.from(a).equals(Buffer.from(b)));
  });

  it("rotates by duration into files that are each complete", async () => {
    const { sinks, rec } = await recordAll(drive, { rotate: { maxDurationNs: 1_000_000_000n } });
    assert.equal(sinks.length, 3);
    assert.deepEqual(rec.stats().files, ["mem0.mcap", "mem1.mcap", "mem2.mcap"]);
    let total = 0n;
    for (const s of sinks) {
      const reader = await McapIndexedReader.Initialize({ readable: new MemorySource(s.bytes()), decompressHandlers });
      total += reader.statistics!.messageCount;
      assert.ok(reader.statistics!.messageEndTime - reader.statistics!.messageStartTime < 1_000_000_000n);
    }
    assert.equal(total, BigInt(drive.length));
  });

  it("rotates by size", async () => {
    const { sinks } = await recordAll(drive, { rotate: { maxBytes: 60_000 }, chunkBytes: 16_000, compression: "none" });
    assert.ok(sinks.length >= 3, `${sinks.length} files`);
    for (const s of sinks.slice(0, -1)) assert.ok(s.bytes().length < 60_000 + 40_000, `${s.bytes().length}`);
  });

  it("never blocks on a slow disk: drops and counts once the queue is full, and the file stays valid", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const mem = new MemorySink("slow.mcap");
    const slow: ByteSink = { name: "slow.mcap", write: async (b) => { await gate; await mem.write(b); }, close: () => mem.close() };
    const rec = await McapRecorder.create({ open: () => slow, maxQueueBytes: 20_000, chunkBytes: 8_000, compression: "none" });
    let accepted = 0;
    for (const m of drive) if (rec.addMessage(m)) accepted++;
    const stats = rec.stats();
    assert.ok(stats.droppedTotal > 0 && accepted + stats.droppedTotal === drive.length);
    assert.ok(stats.dropped["vehicles/ego1/sensors/camera/front"]! > 0);
    release();
    await rec.close();
    const reader = await McapIndexedReader.Initialize({ readable: new MemorySource(mem.bytes()), decompressHandlers });
    assert.equal(reader.statistics?.messageCount, BigInt(accepted));
  });

  it("reports a disk failure from close() naming the file", async () => {
    const broken: ByteSink = { name: "/full/disk.mcap", write: async () => { throw new Error("ENOSPC"); }, close: async () => {} };
    const rec = await McapRecorder.create({ open: () => broken });
    rec.addMessage(drive[0]!);
    await assert.rejects(rec.close(), /\/full\/disk\.mcap: write failed: ENOSPC/);
    assert.equal(rec.addMessage(drive[1]!), false);
  });

  it("names rotated files name_000.mcap, name_001.mcap", () => {
    assert.equal(outputPath("/d/drive.mcap", 0, false), "/d/drive.mcap");
    assert.equal(outputPath("/d/drive.mcap", 1, true), "/d/drive_001.mcap");
    assert.equal(outputPath("/d/drive", 2, true), "/d/drive_002.mcap");
  });
});
