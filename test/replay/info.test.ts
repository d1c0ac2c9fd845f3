import { strict as assert } from "node:assert";
import { MemorySource } from "../../replay/io.ts";
import { recordingInfo, formatInfo } from "../../replay/info.ts";
import { McapRecording } from "../../replay/reader.ts";
import { syntheticDrive } from "./synthetic.ts";
import { recordToMemory } from "./helpers.ts";

describe("replay/info", () => {
  const drive = syntheticDrive({ durationS: 4 });
  // A 1.5 s hole in the radar, to be found as a gap.
  const holed = drive.filter((m) => !(m.topic.includes("/radar/") && m.receiveNs - drive[0]!.receiveNs > 1_000_000_000n && m.receiveNs - drive[0]!.receiveNs < 2_500_000_000n));

  it("summarises topics, types, counts, rates, gaps, chunks and metadata from the indexes", async () => {
    const bytes = await recordToMemory(holed, { metadata: { vehicle: "ego1", modelId: "m1" } });
    const info = await recordingInfo(await McapRecording.open(new MemorySource(bytes, "drive.mcap")));
    assert.equal(info.mode, "indexed");
    assert.equal(info.messages, holed.length);
    assert.equal(info.topics.length, 8);
    const ego = info.topics.find((t) => t.topic === "vehicles/ego1/ego")!;
    assert.equal(ego.type, "fusiond.EgoState");
    assert.equal(ego.messages, 200);
    assert.ok(Math.abs(ego.rateHz - 50) < 0.01, `${ego.rateHz}`);
    assert.equal(ego.gaps, 0);
    const radar = info.topics.find((t) => t.topic.includes("/radar/"))!;
    assert.equal(radar.gaps, 1);
    assert.ok(radar.maxGapMs >= 1400 && radar.maxGapMs <= 1550, `${radar.maxGapMs}`);
    assert.ok(info.chunks.count >= 4 && info.chunks.maxSpanMs < 1000);
    assert.deepEqual(info.chunks.compression, ["zstd"]);
    assert.deepEqual(info.metadata, { fusiond: { modelId: "m1", vehicle: "ego1" } });
    assert.deepEqual(info.problems, []);
    assert.match(formatInfo(info), /vehicles\/ego1\/ego\s+fusiond\.EgoState\s+200\s+50\.00/);
  });

  it("scans an unclosed file to the same counts, listing the missing footer by offset", async () => {
    const bytes = await recordToMemory(holed);
    const cut = bytes.subarray(0, Buffer.from(bytes).lastIndexOf(Buffer.from([0x0f, 4, 0, 0, 0, 0, 0, 0, 0])));
    const indexed = await recordingInfo(await McapRecording.open(new MemorySource(bytes)));
    const scanned = await recordingInfo(await McapRecording.open(new MemorySource(cut, "cut.mcap")));
    assert.equal(scanned.mode, "scanned");
    assert.deepEqual(scanned.topics, indexed.topics);
    assert.deepEqual(scanned.chunks, indexed.chunks);
    assert.deepEqual(scanned.problems, [{ code: "mcap_truncated", offset: cut.length, detail: "file ends without a footer (not closed)" }]);
  });
});
