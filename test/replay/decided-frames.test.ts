/**
 * decidedFrames: each recorded decision comes with the recorded messages its inputs name, found by
 * topic and event stamp — also when the decision's log_time precedes its last input by a hair (a
 * coarse clock) — and the inputs not in the recording are listed as missing, never guessed.
 */
import { strict as assert } from "node:assert";
import { defaultCodec, nsToTimestamp } from "../../schemas/index.ts";
import { decidedFrames, McapRecording, MemorySource, type RecordedItem } from "../../replay/index.ts";
import type { RecordInput } from "../../replay/recorder.ts";
import { recordToMemory } from "./helpers.ts";

const MS = 1_000_000n;
const T0 = 1_700_000_000_000_000_000n;
const codec = defaultCodec();
const CAMERA = "vehicles/g/sensors/camera/front";
const RADAR = "vehicles/g/sensors/radar/front";

const camera = (t: bigint, rx: bigint): RecordInput => ({
  topic: CAMERA,
  type: "foxglove.CompressedImage",
  bytes: codec.encode("foxglove.CompressedImage", { timestamp: nsToTimestamp(t), frame_id: "cam", format: "jpeg", data: new Uint8Array([1]) }),
  stampNs: t,
  receiveNs: rx,
});
const radar = (t: bigint, rx: bigint): RecordInput => ({
  topic: RADAR,
  type: "fusiond.RadarScan",
  bytes: codec.encode("fusiond.RadarScan", { timestamp: nsToTimestamp(t), frame_id: "radar", returns: [] }),
  stampNs: t,
  receiveNs: rx,
});
const decision = (t: bigint, rx: bigint, inputs: Array<[string, string, bigint]>): RecordInput => ({
  topic: "vehicles/g/decision",
  type: "fusiond.DrivingDecision",
  bytes: codec.encode("fusiond.DrivingDecision", { frame_stamp: nsToTimestamp(t), action: "KEEP", inputs: inputs.map(([modality, topic, s]) => ({ modality, topic, stamp: nsToTimestamp(s) })) }),
  stampNs: t,
  receiveNs: rx,
});

describe("replay/decided-frames", () => {
  it("finds each decision's inputs by topic and stamp, late by a hair or not, and lists those not recorded", async () => {
    const bytes = await recordToMemory([
      camera(T0, T0 + 5n * MS),
      radar(T0 - 10n * MS, T0 + 6n * MS),
      decision(T0, T0 + 20n * MS, [["camera", CAMERA, T0], ["radar", RADAR, T0 - 10n * MS]]),
      camera(T0 + 50n * MS, T0 + 55n * MS),
      // Decided "before" its radar arrived, by 1 µs of clock rounding.
      decision(T0 + 50n * MS, T0 + 60n * MS, [["camera", CAMERA, T0 + 50n * MS], ["radar", RADAR, T0 + 49n * MS]]),
      radar(T0 + 49n * MS, T0 + 60n * MS + 1000n),
      // Its radar was never recorded.
      camera(T0 + 100n * MS, T0 + 105n * MS),
      decision(T0 + 100n * MS, T0 + 110n * MS, [["camera", CAMERA, T0 + 100n * MS], ["radar", RADAR, T0 + 95n * MS]]),
      radar(T0 + 400n * MS, T0 + 400n * MS),
    ]);
    const rec = await McapRecording.open(new MemorySource(bytes));
    const items: RecordedItem[] = [];
    for await (const item of decidedFrames(rec, { lookbackNs: 5_000n * MS })) items.push(item);
    await rec.close();
    const frames = items.flatMap((i) => (i.kind === "decision" ? [i.frame] : []));
    assert.equal(items.filter((i) => i.kind === "message").length, 6);
    assert.deepEqual(
      frames.map((f) => [f.messages.map((m) => `${m.modality}@${(m.message.stampNs - T0) / MS}`), f.missing.map((m) => `${m.modality}@${(m.stampNs - T0) / MS}`)]),
      [
        [["camera@0", "radar@-10"], []],
        [["camera@50", "radar@49"], []],
        [["camera@100"], ["radar@95"]],
      ],
    );
  });
});
