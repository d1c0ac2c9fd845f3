import { strict as assert } from "node:assert";
import { MemoryBus, MemoryTransport } from "../../sensors/index.ts";
import { Pacer } from "../../replay/pacer.ts";
import { MemorySink, MemorySource } from "../../replay/io.ts";
import { parseRemap, playRecording, remapTopic } from "../../replay/play.ts";
import { RawRecorder } from "../../replay/raw-recorder.ts";
import { McapRecording } from "../../replay/reader.ts";
import { McapRecorder } from "../../replay/recorder.ts";
import { syntheticDrive } from "./synthetic.ts";
import { hex, recordToMemory } from "./helpers.ts";

describe("replay/play and raw recording (through the in-memory transport)", () => {
  const drive = syntheticDrive({ durationS: 2 });

  it("plays a recording onto a bus and records it back: same bytes, same order, topics remapped", async () => {
    const file = await recordToMemory(drive);
    const bus = new MemoryBus(100_000);
    let clock = 5_000_000_000n;
    const rx = new MemoryTransport(bus, { now: () => (clock += 1_000n) });
    const tx = new MemoryTransport(bus, { now: () => 0n });
    const sink = new MemorySink("replayed.mcap");
    const recorder = await McapRecorder.create({ open: () => sink });
    const raw = new RawRecorder(recorder);
    const sub = rx.subscribe(["vehicles/#"]).subscribe((m) => raw.add(m));
    const progress = await playRecording({
      recording: await McapRecording.open(new MemorySource(file)),
      pacer: new Pacer({ rate: "max", nowNs: () => 0n, sleep: async () => undefined }),
      publish: async (topic, bytes, type) => (await tx.publish(topic, bytes, { qos: 0, type })).ok,
      remap: [parseRemap("vehicles/ego1/:vehicles/ego2/")],
      loops: 2,
    });
    await new Promise((r) => setTimeout(r, 10));
    sub.unsubscribe();
    await recorder.close();
    assert.equal(progress.published, drive.length * 2);
    assert.equal(raw.stats().recorded, drive.length * 2);
    const back = [];
    for await (const m of (await McapRecording.open(new MemorySource(sink.bytes()))).messages()) back.push(m);
    const want = [...drive, ...drive].map((m) => [m.topic.replace("/ego1/", "/ego2/"), hex(m.bytes), m.stampNs]);
    assert.deepEqual(back.map((m) => [m.topic, hex(m.bytes), m.publishNs]), want);
    await rx.close();
    await tx.close();
  });

  it("records undecodable payloads on known topics (so replay meets them too) and skips unknown topics", async () => {
    const sink = new MemorySink();
    const recorder = await McapRecorder.create({ open: () => sink });
    const raw = new RawRecorder(recorder);
    raw.add({ topic: "vehicles/ego1/ego", payload: Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), receiveNs: 7n });
    raw.add({ topic: "somewhere/else", payload: drive[0]!.bytes, receiveNs: 8n });
    raw.add({ topic: drive[0]!.topic, payload: drive[0]!.bytes, receiveNs: 9n });
    await recorder.close();
    assert.deepEqual(raw.stats(), { received: 3, recorded: 2, skipped: { unknown_topic: 1 }, recordedRejects: { decode_error: 1 }, dropped: 0 });
    const back = [];
    for await (const m of (await McapRecording.open(new MemorySource(sink.bytes()))).messages()) back.push(m);
    assert.deepEqual(back.map((m) => [m.topic, m.receiveNs, m.publishNs]), [["vehicles/ego1/ego", 7n, 7n], [drive[0]!.topic, 9n, drive[0]!.stampNs]]);
  });

  it("remaps exact topics and prefixes ending in /", () => {
    const r = [parseRemap("vehicles/ego1/ego:vehicles/x/ego"), parseRemap("vehicles/ego1/:vehicles/y/")];
    assert.equal(remapTopic("vehicles/ego1/ego", r), "vehicles/x/ego");
    assert.equal(remapTopic("vehicles/ego1/sensors/gnss/0", r), "vehicles/y/sensors/gnss/0");
    assert.equal(remapTopic("vehicles/ego10/ego", r), "vehicles/ego10/ego");
    assert.throws(() => parseRemap("nocolon"), /--remap takes from:to/);
  });
});
