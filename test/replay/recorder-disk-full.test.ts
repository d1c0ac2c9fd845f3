/**
 * Disks fill (issue #22, point 2): the recorder on a sink that runs out of space and gets it back. In retry
 * mode it reports the failure once, drops and counts what it cannot write, continues in a new file when space
 * returns, and close() resolves; the file it gave up is left as a crash leaves one (recoverable).
 */
import { strict as assert } from "node:assert";
import { McapIndexedReader } from "@mcap/core";
import { decompressHandlers } from "../../replay/compression.ts";
import { MemorySink, MemorySource, type ByteSink } from "../../replay/io.ts";
import { McapRecorder, type RecorderStatus, type RecordInput } from "../../replay/recorder.ts";
import { recoverRecording } from "../../replay/recover.ts";
import { syntheticDrive } from "./synthetic.ts";

/** A disk shared by the files: `free` bytes left; a write that does not fit fails with ENOSPC (nothing written). */
class Disk {
  free: number;
  readonly files: MemorySink[] = [];
  constructor(free: number) {
    this.free = free;
  }
  open(name: string): ByteSink {
    const mem = new MemorySink(name);
    this.files.push(mem);
    return {
      name,
      write: async (bytes: Uint8Array) => {
        if (bytes.length > this.free) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        this.free -= bytes.length;
        await mem.write(bytes);
      },
      close: () => mem.close(),
      discard: async () => {
        await mem.close();
        this.files.splice(this.files.indexOf(mem), 1);
      },
    };
  }
}

const S = 1_000_000_000n;

async function messagesIn(bytes: Uint8Array): Promise<number> {
  const reader = await McapIndexedReader.Initialize({ readable: new MemorySource(bytes), decompressHandlers });
  return Number(reader.statistics?.messageCount ?? 0n);
}

/** Feeds the drive in order, letting the write queue drain between messages (as a live daemon would). */
async function feed(rec: McapRecorder, drive: RecordInput[], each?: (m: RecordInput) => void): Promise<number> {
  let dropped = 0;
  for (const m of drive) {
    each?.(m);
    if (!rec.addMessage(m)) dropped++;
    await new Promise((r) => setImmediate(r));
  }
  return dropped;
}

describe("replay/recorder on a full disk", () => {
  const drive = syntheticDrive({ durationS: 12 });

  it("retry mode: fails once with the reason, drops and counts, continues in a new file when space returns, closes cleanly", async () => {
    const disk = new Disk(60_000);
    const statuses: RecorderStatus[] = [];
    const rec = await McapRecorder.create({
      open: (i) => disk.open(`rec_${i}.mcap`),
      compression: "none",
      chunkDurationNs: S / 2n,
      retry: { intervalNs: 2n * S },
      onStatus: (s) => statuses.push(s),
    });
    const t0 = drive[0]!.receiveNs;
    let freed = false;
    const dropped = await feed(rec, drive, (m) => {
      // Space comes back 6 s into the drive (someone deleted old recordings).
      if (!freed && m.receiveNs - t0 >= 6n * S) {
        freed = true;
        disk.free = 100_000_000;
      }
    });
    await rec.close(); // resolves: shutdown never fails because the disk did
    const st = rec.stats();

    assert.deepEqual(
      statuses.map((s) => [s.state, s.code]),
      [
        ["failed", "ENOSPC"],
        ["ok", undefined],
      ],
      "one report when it fails, one when it is back",
    );
    assert.match(statuses[0]!.reason!, /rec_0\.mcap: write failed: ENOSPC/);
    assert.equal(statuses[1]!.file, st.files[1]);
    assert.equal(st.state, "ok");
    assert.equal(st.failures, 1);
    assert.ok(dropped > 0, "messages were dropped while the disk was full");
    assert.equal(st.droppedTotal, dropped);
    assert.equal(st.files.length, 2, `files kept: ${st.files.join(", ")} (a retry whose first chunk failed is removed)`);
    assert.equal(st.files[0], "rec_0.mcap");
    // The second file is complete and holds everything from the successful retry on.
    const second = await messagesIn(disk.files.find((f) => f.name === st.files[1])!.bytes());
    assert.ok(second > 0);
    // Every message is accounted for: in a file, dropped, or lost with the chunk that could not be written.
    const recovered = await recoverRecording(new MemorySource(disk.files[0]!.bytes()), new MemorySink("fixed.mcap"));
    assert.equal(recovered.messages + second + st.droppedTotal + st.lost, drive.length, JSON.stringify({ recovered: recovered.messages, second, st }));
  });

  it("without retry (a command writing one file): the failure is final and close() rejects with it", async () => {
    const disk = new Disk(60_000);
    const rec = await McapRecorder.create({ open: (i) => disk.open(`one_${i}.mcap`), compression: "none", chunkDurationNs: S / 2n });
    await feed(rec, drive.slice(0, 400));
    disk.free = 1e9;
    await feed(rec, drive.slice(400, 800));
    await assert.rejects(rec.close(), /one_0\.mcap: write failed: ENOSPC/);
    assert.deepEqual(rec.stats().files, ["one_0.mcap"]);
    assert.equal(rec.stats().state, "failed");
  });

  it("too little free space: does not start a file, reports low_space, starts one when space is back", async () => {
    const disk = new Disk(1e9);
    let low: string | undefined = "12 MB free in /rec, below the minimum of 512 MB (recording.minFreeMB)";
    const statuses: RecorderStatus[] = [];
    const rec = await McapRecorder.create({
      open: (i) => disk.open(`low_${i}.mcap`),
      compression: "none",
      retry: { intervalNs: S },
      checkSpace: () => low,
      onStatus: (s) => statuses.push(s),
    });
    assert.equal(rec.stats().state, "failed");
    assert.deepEqual(rec.stats().files, []);
    const t0 = drive[0]!.receiveNs;
    await feed(rec, drive.slice(0, 600), (m) => {
      if (m.receiveNs - t0 >= 3n * S) low = undefined;
    });
    await rec.close();
    assert.deepEqual(statuses.map((s) => [s.state, s.code]), [["failed", "low_space"], ["ok", undefined]]);
    assert.match(statuses[0]!.reason!, /below the minimum of 512 MB/);
    assert.equal(disk.files.length, 1);
    assert.ok((await messagesIn(disk.files[0]!.bytes())) > 0);
  });

  it("space running low while recording: the file is closed properly (indexed, readable) before the disk is full", async () => {
    const disk = new Disk(1e9);
    let chunks = 0;
    const rec = await McapRecorder.create({
      open: (i) => disk.open(`run_${i}.mcap`),
      compression: "none",
      chunkDurationNs: S / 2n,
      retry: { intervalNs: 60n * S },
      checkSpace: () => (++chunks > 3 ? "low" : undefined),
    });
    const dropped = await feed(rec, drive.slice(0, 800));
    await rec.close();
    assert.ok(dropped > 0);
    const n = await messagesIn(disk.files[0]!.bytes()); // throws if the file has no summary
    assert.equal(n + dropped + rec.stats().lost, 800);
    assert.equal(rec.stats().lost, 0, "nothing lost: the file was closed, not broken");
  });
});
