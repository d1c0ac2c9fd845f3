/**
 * The indexed reader checks each chunk's CRC: a chunk whose CRC does not match fails the read, one whose CRC the
 * writer left 0 is read unchecked (MCAP's "not computed"), and the messages are those @mcap/core reads itself.
 * (A reader that checked chunks with zlib.crc32 instead of @foxglove/crc was tried and measured: the JavaScript
 * CRC costs ~0.09 CPU-s on the six 300-s drives, ~1% of the open loop's floor, so it was not kept; bench/README.md.)
 */
import { strict as assert } from "node:assert";
import { McapIndexedReader } from "@mcap/core";
import { compressionReady, decompressHandlers, type Compression } from "../../replay/compression.ts";
import { MemorySource } from "../../replay/io.ts";
import { McapRecording } from "../../replay/reader.ts";
import { syntheticDrive } from "./synthetic.ts";
import { hex, recordToMemory } from "./helpers.ts";

const library = async (bytes: Uint8Array): Promise<string[]> => {
  await compressionReady();
  const r = await McapIndexedReader.Initialize({ readable: new MemorySource(bytes), decompressHandlers });
  const out: string[] = [];
  for await (const m of r.readMessages()) out.push(`${m.channelId} ${m.logTime} ${hex(m.data)}`);
  return out;
};

const ours = async (bytes: Uint8Array): Promise<string[]> => {
  const rec = await McapRecording.open(new MemorySource(bytes));
  assert.ok(rec.indexed, "read through the index");
  const channel = new Map([...rec.indexed.channelsById].map(([id, c]) => [c.topic, id]));
  const out: string[] = [];
  for await (const m of rec.messages()) out.push(`${channel.get(m.topic)} ${m.receiveNs} ${hex(m.bytes)}`);
  return out;
};

/** Offset of the uncompressed-CRC field of each chunk (opcode, length, start, end, uncompressed size, then the CRC). */
const crcOffsets = async (bytes: Uint8Array): Promise<number[]> => {
  const r = await McapIndexedReader.Initialize({ readable: new MemorySource(bytes), decompressHandlers });
  return r.chunkIndexes.map((c) => Number(c.chunkStartOffset) + 1 + 8 + 8 + 8 + 8);
};

describe("replay/reader: chunk CRCs", function () {
  this.timeout(60_000);
  const drive = syntheticDrive({ durationS: 4 });

  for (const compression of ["zstd", "lz4", "none"] satisfies Compression[]) {
    it(`${compression}: the messages @mcap/core reads with its own CRC check; a wrong chunk CRC fails the read, CRC 0 is not checked`, async () => {
      const bytes = await recordToMemory(drive, { compression, chunkBytes: 16 * 1024 });
      const offsets = await crcOffsets(bytes);
      assert.ok(offsets.length > 2, `chunks: ${offsets.length}`);
      const want = await library(bytes);
      assert.ok(want.length > 100);
      assert.deepEqual(await ours(bytes), want);

      const bad = bytes.slice();
      const dv = new DataView(bad.buffer);
      const at = offsets[1]!;
      assert.notEqual(dv.getUint32(at, true), 0, "the writer computes chunk CRCs");
      dv.setUint32(at, dv.getUint32(at, true) ^ 1, true);
      await assert.rejects(library(bad), /CRC/);
      await assert.rejects(ours(bad), /CRC/);

      // CRC 0: not computed by the writer, so not checked (the library's rule).
      dv.setUint32(at, 0, true);
      assert.deepEqual(await ours(bad), want);
    });
  }
});
