import { strict as assert } from "node:assert";
import { bufferTime, debounceTime, filter, map, merge, type Observable, type SchedulerLike } from "rxjs";
import { defaultCodec, nsToTimestamp, type SensorMessage } from "../../schemas/index.ts";
import { ReplayClock } from "../../replay/replay-clock.ts";
import { Pacer, parseRate } from "../../replay/pacer.ts";
import { driveReplay } from "../../replay/driver.ts";
import { MemorySource } from "../../replay/io.ts";
import { McapRecording } from "../../replay/reader.ts";
import { syntheticDrive } from "./synthetic.ts";
import { hex, recordToMemory } from "./helpers.ts";

/**
 * A stand-in for the pipeline (until pipeline/ lands): time-based operators on the injected scheduler,
 * producing DrivingDecision bytes — what the golden replay compares.
 */
function toyPipeline(input: Observable<SensorMessage>, scheduler: SchedulerLike): Observable<Uint8Array> {
  const codec = defaultCodec();
  const frames = input.pipe(
    filter((m) => m.kind === "camera" || m.kind === "radar" || m.kind === "ego"),
    bufferTime(100, scheduler),
    filter((b) => b.length > 0),
    map((b, i) => ({ seq: i, stampNs: b.at(-1)!.stampNs, used: [...new Set(b.map((m) => m.kind))].sort(), action: b.length % 3 })),
  );
  const quiet = input.pipe(
    filter((m) => m.kind === "voice"),
    debounceTime(30, scheduler),
    map((m) => ({ seq: -1, stampNs: m.stampNs, used: ["voice"], action: 7 })),
  );
  return merge(frames, quiet).pipe(
    map((d) =>
      codec.encode("fusiond.DrivingDecision", {
        frame_stamp: nsToTimestamp(d.stampNs),
        action: 1 + d.action,
        seq: d.seq < 0 ? 0 : d.seq,
        modalities_used: d.used,
        latency_ms: scheduler.now() % 1000, // depends on the clock: must be virtual to repeat
      }),
    ),
  );
}

describe("replay/driver", () => {
  let file: Uint8Array;
  const drive = syntheticDrive({ durationS: 3 });
  before(async () => {
    file = await recordToMemory(drive);
  });

  const run = async () => driveReplay({ recording: await McapRecording.open(new MemorySource(file)), build: toyPipeline });

  it("is deterministic: the same recording twice gives byte-identical outputs at identical virtual times", async () => {
    const a = await run();
    const b = await run();
    assert.ok(a.outputs.length > 20);
    assert.equal(a.messages, drive.length);
    assert.deepEqual(
      a.outputs.map((o) => [o.atNs, hex(o.value)]),
      b.outputs.map((o) => [o.atNs, hex(o.value)]),
    );
  });

  it("fires timers at the recorded instants: a 30 ms debounce after a voice message lands 30 ms after its receive stamp", async () => {
    const voice = drive.filter((m) => m.topic.includes("/voice/"));
    const { outputs } = await run();
    const codec = defaultCodec();
    const voiceOut = outputs.filter((o) => codec.decode("fusiond.DrivingDecision", o.value)["action"] === 8);
    assert.equal(voiceOut.length, voice.length);
    voiceOut.forEach((o, i) => {
      const due = voice[i]!.receiveNs + 30_000_000n;
      assert.ok(o.atNs - due < 1_000n && due - o.atNs < 1_000n, `${o.atNs} vs ${due}`);
    });
  });

  it("counts undecodable messages as rejections and goes on", async () => {
    const bad = [...drive];
    bad.splice(5, 0, { ...drive[5]!, bytes: Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]) });
    const rec = await McapRecording.open(new MemorySource(await recordToMemory(bad)));
    const r = await driveReplay({ recording: rec, build: (i) => i });
    assert.equal(r.messages, drive.length);
    assert.deepEqual(r.rejectionsByReason, { decode_error: 1 });
  });
});

describe("replay/replay-clock and replay/pacer", () => {
  it("advances virtual time only forwards and runs due actions in order", () => {
    const clock = new ReplayClock();
    const seen: number[] = [];
    clock.advanceTo(1_000_000_000n);
    clock.scheduler.schedule(() => seen.push(clock.nowMs), 5);
    clock.scheduler.schedule(() => seen.push(clock.nowMs), 2);
    clock.advanceTo(1_004_000_000n);
    assert.deepEqual(seen, [1002]);
    assert.equal(clock.nowMs, 1004);
    clock.advanceTo(1_000_000_000n); // backwards: ignored
    assert.equal(clock.nowMs, 1004);
    clock.drain();
    assert.deepEqual(seen, [1002, 1005]);
  });

  it("paces at rate N with an injected clock, and not at all at max", async () => {
    let now = 0n;
    const sleeps: number[] = [];
    const pacer = new Pacer({ rate: 2, nowNs: () => now, sleep: async (ms) => void sleeps.push(ms) });
    await pacer.wait(10_000_000_000n);
    await pacer.wait(11_000_000_000n); // 1 s recorded at 2× → 500 ms after the first
    now = 400_000_000n;
    await pacer.wait(12_000_000_000n); // due at 1000 ms, now 400 → 600 ms
    assert.deepEqual(sleeps, [500, 600]);
    const fast = new Pacer({ rate: "max", nowNs: () => 0n, sleep: async () => assert.fail("no sleeping at max") });
    await fast.wait(1n);
    await fast.wait(999_999_999_999n);
    assert.equal(parseRate("max"), "max");
    assert.equal(parseRate("10"), 10);
    assert.throws(() => parseRate("0"), /--rate must be a positive number/);
  });
});

describe("replay/driver pacing and JSON diagnostics", () => {
  it("paces the feed with an injected pacer without changing virtual time or outputs", async () => {
    const drive = syntheticDrive({ durationS: 1 });
    const file = await recordToMemory(drive);
    const waited: bigint[] = [];
    const paced = await driveReplay({
      recording: await McapRecording.open(new MemorySource(file)),
      build: toyPipeline,
      pacer: { wait: async (ns) => void waited.push(ns) },
    });
    const free = await driveReplay({ recording: await McapRecording.open(new MemorySource(file)), build: toyPipeline });
    assert.deepEqual(waited, drive.map((m) => m.receiveNs));
    assert.deepEqual(paced.outputs.map((o) => [o.atNs, hex(o.value)]), free.outputs.map((o) => [o.atNs, hex(o.value)]));
  });

  it("records JSON diagnostics on their own channel (jsonschema) and replay skips them", async () => {
    const drive = syntheticDrive({ durationS: 0.5 });
    const { MemorySink } = await import("../../replay/io.ts");
    const { McapRecorder } = await import("../../replay/recorder.ts");
    const sink = new MemorySink();
    const rec = await McapRecorder.create({ open: () => sink });
    for (const m of drive) rec.addMessage(m);
    rec.addJson("vehicles/ego1/diagnostics/aligner", "fusiond.AlignerStats", { frames: 3, waitNs: 12n }, drive.at(-1)!.receiveNs);
    await rec.close();
    const recording = await McapRecording.open(new MemorySource(sink.bytes()));
    const schemas = [...recording.indexed!.schemasById.values()].filter((s) => s.encoding === "jsonschema");
    assert.deepEqual(schemas.map((s) => s.name), ["fusiond.AlignerStats"]);
    const diag = [];
    for await (const m of recording.messages({ topics: ["vehicles/+/diagnostics/#"] })) diag.push(m);
    assert.equal(diag.length, 1);
    assert.equal(diag[0]!.messageEncoding, "json");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(diag[0]!.bytes)), { frames: 3, waitNs: "12" });
    const r = await driveReplay({ recording, build: (i) => i });
    assert.equal(r.messages, drive.length);
    assert.deepEqual(r.rejectionsByReason, {});
  });
});
