import { strict as assert } from "node:assert";
import { McapIndexedReader } from "@mcap/core";
import { FusiondError } from "../../schemas/index.ts";
import { decompressHandlers } from "../../replay/compression.ts";
import { MemorySink, MemorySource } from "../../replay/io.ts";
import { McapRecording } from "../../replay/reader.ts";
import { recoverRecording } from "../../replay/recover.ts";
import { scanRecords } from "../../replay/scan.ts";
import { syntheticDrive } from "./synthetic.ts";
import { hex, recordToMemory } from "./helpers.ts";

/** Offsets of the chunk records of a good file, with the log_time range of each. */
async function chunkOffsets(bytes: Uint8Array): Promise<{ offset: number; length: number; end: bigint }[]> {
  const r = await McapIndexedReader.Initialize({ readable: new MemorySource(bytes), decompressHandlers });
  return r.chunkIndexes.map((c) => ({ offset: Number(c.chunkStartOffset), length: Number(c.chunkLength), end: c.messageEndTime }));
}

async function recover(data: Uint8Array, name = "broken.mcap") {
  const sink = new MemorySink("fixed.mcap");
  const report = await recoverRecording(new MemorySource(data, name), sink);
  const fixed = await McapIndexedReader.Initialize({ readable: new MemorySource(sink.bytes()), decompressHandlers });
  const messages = [];
  for await (const m of fixed.readMessages()) messages.push(m);
  return { report, fixed, messages };
}

async function strictScanError(data: Uint8Array, name: string): Promise<FusiondError> {
  try {
    for await (const _ of scanRecords(new MemorySource(data, name))) void _;
  } catch (e) {
    assert.ok(e instanceof FusiondError, String(e));
    return e;
  }
  assert.fail("scan did not fail");
}

describe("replay/recover", () => {
  const drive = syntheticDrive({ durationS: 5 });
  let bytes: Uint8Array;
  let chunks: Awaited<ReturnType<typeof chunkOffsets>>;
  before(async () => {
    bytes = await recordToMemory(drive, { metadata: { vehicle: "ego1" } });
    chunks = await chunkOffsets(bytes);
    assert.ok(chunks.length >= 5, `${chunks.length} chunks`);
  });

  it("re-writes a closed file unchanged in content", async () => {
    const { report, messages, fixed } = await recover(bytes);
    assert.equal(report.wasClosed, true);
    assert.deepEqual(report.problems, []);
    assert.equal(messages.length, drive.length);
    assert.deepEqual(messages.map((m) => hex(m.data)), drive.map((m) => hex(m.bytes)));
    const meta = [];
    for await (const m of fixed.readMetadata()) meta.push(m.name);
    assert.deepEqual(meta, ["fusiond", "fusiond.recovered"], "the input's metadata, and the mark that the file was rebuilt (and is not signed)");
  });

  it("truncated mid-chunk: strict reading names the file and offset; recover keeps every complete chunk", async () => {
    const cut = chunks[3]!.offset + Math.floor(chunks[3]!.length / 2);
    const data = bytes.subarray(0, cut);
    const err = await strictScanError(data, "cut.mcap");
    assert.equal(err.code, "mcap_truncated");
    assert.match(err.message, new RegExp(`^cut\\.mcap: Chunk record of \\d+ bytes runs past the end of the file \\(${cut} bytes\\) at byte offset ${chunks[3]!.offset}`));
    assert.deepEqual(err.context, { file: "cut.mcap", offset: chunks[3]!.offset });
    const { report, messages } = await recover(data);
    const kept = drive.filter((m) => m.receiveNs <= chunks[2]!.end);
    assert.equal(report.chunks, 3);
    assert.equal(messages.length, kept.length);
    assert.deepEqual(messages.map((m) => [m.logTime, m.publishTime, hex(m.data)]), kept.map((m) => [m.receiveNs, m.stampNs, hex(m.bytes)]));
  });

  it("truncated anywhere in a small file: recover never throws and never loses a message it had", async () => {
    const small = await recordToMemory(syntheticDrive({ durationS: 1.2, imageBytes: 50 }), { chunkDurationNs: 200_000_000n });
    let last = -1;
    // Every 31st byte plus a prime offset walks through headers, chunk bodies and the summary.
    for (let cut = 8; cut < small.length; cut += 31) {
      const { messages } = await recover(small.subarray(0, cut));
      assert.ok(messages.length >= last, `never fewer messages for a longer prefix (cut ${cut})`);
      last = messages.length;
    }
  });

  it("a corrupt chunk in the middle: strict reading reports it by offset; recover salvages every other chunk", async () => {
    const data = bytes.slice();
    const bad = chunks[2]!;
    // Flip bytes inside the compressed payload: decompression or the CRC must catch it.
    for (let i = bad.offset + 100; i < bad.offset + 140; i++) data[i] = data[i]! ^ 0x5a;
    const err = await strictScanError(data, "flipped.mcap");
    assert.equal(err.code, "mcap_corrupt");
    assert.match(err.message, new RegExp(`^flipped\\.mcap: bad Chunk record: .* at byte offset ${bad.offset}`));
    const { report, messages } = await recover(data);
    assert.equal(report.problems.length, 1);
    assert.equal(report.problems[0]!.offset, bad.offset);
    assert.equal(report.chunks, chunks.length - 1);
    const lost = drive.filter((m) => m.receiveNs > chunks[1]!.end && m.receiveNs <= bad.end);
    assert.equal(messages.length, drive.length - lost.length);
  });

  it("a corrupt record length: recover finds the next chunk and goes on", async () => {
    const data = bytes.slice();
    const bad = chunks[1]!;
    new DataView(data.buffer).setBigUint64(bad.offset + 1, 1n << 40n, true);
    const err = await strictScanError(data, "len.mcap");
    assert.equal(err.code, "mcap_truncated");
    assert.equal(err.context["offset"], bad.offset);
    const { report } = await recover(data);
    assert.equal(report.chunks, chunks.length - 1);
  });

  it("garbage in place of a record header: mcap_corrupt with the offset", async () => {
    const data = bytes.slice();
    data[chunks[1]!.offset] = 0x42;
    const err = await strictScanError(data, "op.mcap");
    assert.equal(err.code, "mcap_corrupt");
    assert.match(err.message, new RegExp(`invalid record opcode 0x42 at byte offset ${chunks[1]!.offset}`));
    const { report } = await recover(data);
    assert.equal(report.chunks, chunks.length - 1);
  });

  it("a non-MCAP file: not_mcap at offset 0, from scan, open and recover alike", async () => {
    const text = new TextEncoder().encode("PK\u0003\u0004 a zip file, not a recording");
    assert.equal((await strictScanError(text, "a.zip")).code, "not_mcap");
    await assert.rejects(McapRecording.open(new MemorySource(text, "a.zip")), /a\.zip: no MCAP magic.*byte offset 0/);
    await assert.rejects(recoverRecording(new MemorySource(text, "a.zip"), new MemorySink()), (e: unknown) =>
      e instanceof FusiondError && e.code === "not_mcap" && e.context["file"] === "a.zip" && e.context["offset"] === 0,
    );
  });
});

describe("replay/reader on a damaged closed file", () => {
  it("an indexed read of a corrupt chunk fails with mcap_corrupt naming the file and the chunk's offset", async () => {
    const bytes = (await recordToMemory(syntheticDrive({ durationS: 3 }))).slice();
    const chunks = await chunkOffsets(bytes);
    const bad = chunks[1]!;
    for (let i = bad.offset + 100; i < bad.offset + 140; i++) bytes[i] = bytes[i]! ^ 0x5a;
    const rec = await McapRecording.open(new MemorySource(bytes, "closed.mcap"));
    assert.ok(rec.indexed);
    await assert.rejects(
      (async () => {
        for await (const _ of rec.messages()) void _;
      })(),
      (e: unknown) => e instanceof FusiondError && e.code === "mcap_corrupt" && e.context["offset"] === bad.offset && e.message.startsWith("closed.mcap: bad Chunk record"),
    );
  });
});
