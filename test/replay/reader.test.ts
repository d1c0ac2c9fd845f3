import { strict as assert } from "node:assert";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor.js";
import { FusiondError, MessageDecoder } from "../../schemas/index.ts";
import { MemorySource } from "../../replay/io.ts";
import { DEFAULT_LATCHED, McapRecording, type RecordedMessage } from "../../replay/reader.ts";
import { decodeRecording } from "../../replay/source.ts";
import { syntheticDrive } from "./synthetic.ts";
import { hex, recordToMemory } from "./helpers.ts";

async function all(rec: McapRecording, options = {}): Promise<RecordedMessage[]> {
  const out: RecordedMessage[] = [];
  for await (const m of rec.messages(options)) out.push(m);
  return out;
}

/** The file without its summary and footer: what a process killed after its last chunk leaves. */
function unclosed(bytes: Uint8Array): Uint8Array {
  const dataEnd = Buffer.from(bytes).lastIndexOf(Buffer.from([0x0f, 4, 0, 0, 0, 0, 0, 0, 0]));
  return bytes.subarray(0, dataEnd);
}

/** Keys without underscores and case, so frame_id and frameId compare equal. */
function sameKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sameKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_/g, "").toLowerCase(), sameKeys(x)]));
  return v;
}

describe("replay/reader", () => {
  const drive = syntheticDrive({ durationS: 4 });
  let bytes: Uint8Array;
  before(async () => {
    bytes = await recordToMemory(drive);
  });

  const expected = drive.map((m) => ({ topic: m.topic, type: m.type, bytes: hex(m.bytes), receiveNs: m.receiveNs, publishNs: m.stampNs }));
  const seen = (ms: RecordedMessage[]): object[] =>
    ms.map((m) => ({ topic: m.topic, type: m.type, bytes: hex(m.bytes), receiveNs: m.receiveNs, publishNs: m.publishNs }));

  it("round trip, indexed: every message of every type reads back identical (bytes, stamps), in order", async () => {
    const rec = await McapRecording.open(new MemorySource(bytes));
    assert.ok(rec.indexed);
    assert.deepEqual(seen(await all(rec)), expected);
    assert.equal(new Set(expected.map((m) => m.type)).size, 8, "the drive covers every recorded type");
  });

  it("round trip, streaming (file never closed): the same messages, in the same order", async () => {
    const rec = await McapRecording.open(new MemorySource(unclosed(bytes), "unclosed.mcap"));
    assert.equal(rec.indexed, undefined);
    const got: RecordedMessage[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of rec.messages()) got.push(m);
      })(),
      (e: unknown) => e instanceof FusiondError && e.code === "mcap_truncated" && /unclosed\.mcap: .*byte offset \d+/.test(e.message),
    );
    assert.deepEqual(seen(got), expected);
  });

  it("streaming puts messages written out of log_time order back in order", async () => {
    const shuffled = [...drive];
    [shuffled[10], shuffled[11]] = [shuffled[11]!, shuffled[10]!];
    const rec = await McapRecording.open(new MemorySource(unclosed(await recordToMemory(shuffled))));
    const got: RecordedMessage[] = [];
    await assert.rejects(async () => {
      for await (const m of rec.messages()) got.push(m);
    });
    assert.deepEqual(seen(got), expected);
  });

  it("is self-describing: every message decodes with protobufjs from the file's own schema records", async () => {
    const rec = await McapRecording.open(new MemorySource(bytes));
    const roots = new Map<string, protobuf.Root>();
    for (const s of rec.indexed!.schemasById.values()) {
      assert.equal(s.encoding, "protobuf");
      const set = descriptor.FileDescriptorSet.decode(s.data);
      roots.set(s.name, (protobuf.Root as unknown as { fromDescriptor(d: unknown): protobuf.Root }).fromDescriptor(set));
    }
    const codec = new MessageDecoder().codec;
    let n = 0;
    for await (const m of rec.messages()) {
      const type = roots.get(m.type)!.lookupType(m.type);
      const fromFile = type.toObject(type.decode(m.bytes), { longs: String, enums: String, bytes: String, defaults: true });
      const fromProject = codec.toJSON(m.type, codec.decode(m.type, m.bytes));
      // Root.fromDescriptor names fields in camelCase; the project codec keeps the .proto's snake_case.
      assert.deepEqual(sameKeys(fromFile), sameKeys(fromProject), m.type);
      n++;
    }
    assert.equal(n, drive.length);
  });

  it("filters by time range and topic pattern", async () => {
    const rec = await McapRecording.open(new MemorySource(bytes));
    const start = drive[0]!.receiveNs + 1_000_000_000n;
    const end = start + 500_000_000n;
    const got = await all(rec, { startNs: start, endNs: end, topics: ["vehicles/+/sensors/#"] });
    const want = expected.filter((m) => m.receiveNs >= start && m.receiveNs <= end && m.topic.includes("/sensors/"));
    assert.ok(want.length > 0);
    assert.deepEqual(seen(got), want);
  });

  for (const mode of ["indexed", "streaming"] as const) {
    it(`seeking re-emits the latest latched state (GNSS fix, ego) first (${mode})`, async () => {
      const data = mode === "indexed" ? bytes : unclosed(bytes);
      const rec = await McapRecording.open(new MemorySource(data));
      const start = drive[0]!.receiveNs + 2_000_000_000n + 7_000_000n;
      const got: RecordedMessage[] = [];
      try {
        for await (const m of rec.messages({ startNs: start, latched: DEFAULT_LATCHED })) got.push(m);
      } catch (e) {
        if (mode === "indexed") throw e;
      }
      const warm = got.filter((m) => m.latched);
      assert.deepEqual(warm.map((m) => m.topic).sort(), ["vehicles/ego1/ego", "vehicles/ego1/sensors/gnss/0"]);
      assert.deepEqual(got.slice(0, 2).map((m) => m.latched), [true, true]);
      for (const w of warm) {
        const last = drive.filter((m) => m.topic === w.topic && m.receiveNs < start).at(-1)!;
        assert.equal(w.receiveNs, last.receiveNs);
        assert.equal(hex(w.bytes), hex(last.bytes));
      }
      assert.ok(got.slice(2).every((m) => !m.latched && m.receiveNs >= start));
    });
  }

  it("decodes through the live MessageDecoder into SensorMessages with both stamps", async () => {
    const rec = await McapRecording.open(new MemorySource(bytes));
    let n = 0;
    for await (const d of decodeRecording(rec)) {
      assert.ok(d.message, d.rejection?.detail);
      assert.equal(d.message.receiveNs, drive[n]!.receiveNs);
      assert.equal(d.message.stampNs, drive[n]!.stampNs);
      assert.equal(hex(d.message.bytes), hex(drive[n]!.bytes));
      n++;
    }
    assert.equal(n, drive.length);
  });

  it("refuses a non-MCAP or empty file with not_mcap naming the file and offset 0", async () => {
    for (const data of [new TextEncoder().encode("hello, this is not a recording"), new Uint8Array(0)]) {
      await assert.rejects(McapRecording.open(new MemorySource(data, "notes.txt")), (e: unknown) =>
        e instanceof FusiondError && e.code === "not_mcap" && e.message.startsWith("notes.txt: ") && /byte offset 0/.test(e.message),
      );
    }
  });
});
