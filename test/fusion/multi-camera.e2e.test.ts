/**
 * Several cameras end to end, in memory: the simulator's four cameras (front, rear, left, right) recorded to
 * MCAP bytes, replayed in virtual time through the daemon's pipeline (createPipeline with the aligner
 * configured with the cameras, the sensor allow-list naming them) to the daemon's decider (loadDecider) on a
 * model with four camera slots. One camera failing (its JPEGs truncated) masks only its slot: the decisions
 * equal those of the same drive without that camera, and differ from those with all four.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Observable } from "rxjs";
import { alignerConfigFrom } from "../../pipeline/daemon-aligner.ts";
import { loadDecider } from "../../fusion/inference/decider.ts";
import { DEFAULT_CAMERA_IDS, DEFAULT_FEATURE_CONFIG, extractFeatures, makeInputSpec, renderCard, saveModelDir, strategyByName, type DrivingDecision, type ModelCard } from "../../fusion/index.ts";
import { alignerSchema } from "../../pipeline/daemon-config.ts";
import { createPipeline } from "../../pipeline/graph.ts";
import { driveReplay } from "../../replay/driver.ts";
import { MemorySink, MemorySource } from "../../replay/io.ts";
import { McapRecording } from "../../replay/reader.ts";
import { McapRecorder } from "../../replay/recorder.ts";
import { MessageDecoder, MODALITIES, SensorAllowList, TopicRegistry, type FusedFrame, type SensorMessage } from "../../schemas/index.ts";
import { datasetMessages } from "../../sim/dataset.ts";
import { scenariosOf } from "../../sim/scenarios.ts";
import type { SimMessage } from "../../sim/episode.ts";
import { saveRecogniserFor } from "./recogniser.ts";

const VEHICLE = "sim";
const CAMERAS = [...DEFAULT_CAMERA_IDS];
const REAR = `vehicles/${VEHICLE}/sensors/camera/rear`;

/** The four-camera drive as `fusiond sim --cameras front,rear,left,right --out` records it, each message through `edit`. */
async function recordDrive(edit: (m: SimMessage) => SimMessage | undefined): Promise<Uint8Array> {
  const codec = new MessageDecoder().codec;
  const sink = new MemorySink("drive.mcap");
  const rec = await McapRecorder.create({ open: () => sink, compression: "none" });
  const cameraSet = { ids: ["front", "rear", "left", "right"] as const, width: 64, height: 64 };
  for (const original of datasetMessages(1, 3, { scenarios: [scenariosOf("test")[0]!], cameraSet })) {
    const m = edit(original);
    if (m) rec.addMessage({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message), receiveNs: m.receiveNs, stampNs: m.stampNs });
  }
  await rec.close();
  return sink.bytes();
}

interface Run {
  decisions: Map<bigint, DrivingDecision>;
  frames: FusedFrame[];
}

/** Replays the bytes through the daemon's pipeline and decider, in virtual time. */
async function replay(bytes: Uint8Array, modelDir: string): Promise<Run> {
  const registry = new TopicRegistry(VEHICLE);
  const allow = new SensorAllowList(registry, [...CAMERAS.map((c) => `camera/${c}`), "radar/front", "gnss/main", "voice/cabin"]);
  let now = 0n;
  const decider = await loadDecider({ modelDir, backend: "cpu", nowNs: () => now, vehicleId: VEHICLE });
  const run: Run = { decisions: new Map(), frames: [] };
  try {
    await driveReplay<DrivingDecision>({
      recording: await McapRecording.open(new MemorySource(bytes)),
      decoder: new MessageDecoder({ registry }),
      settle: () => new Promise((r) => setImmediate(r)),
      build: (input: Observable<SensorMessage>, scheduler) => {
        now = BigInt(Math.round(scheduler.now() * 1e6));
        const pipeline = createPipeline<DrivingDecision>({
          sources: input,
          scheduler,
          registry,
          acceptTopic: (t) => allow.accepts(t),
          aligner: alignerConfigFrom(alignerSchema.parse({ cameras: CAMERAS }), VEHICLE),
          decide: (frame) => decider.decide(frame),
          sinks: {
            decision: (d) => {
              run.decisions.set(d.frame.stampNs, d.decision);
              run.frames.push(d.frame);
            },
          },
        });
        return new (input.constructor as typeof Observable<DrivingDecision>)((sub) => {
          pipeline.start();
          const s = input.subscribe({ complete: () => sub.complete() });
          return () => (s.unsubscribe(), pipeline.stop());
        });
      },
    });
  } finally {
    await decider.close();
  }
  return run;
}

const probs = (d: DrivingDecision): number[] => d.probabilities.map((p) => p.probability);

describe("several cameras end to end: simulator → MCAP → daemon pipeline → four-slot model", function () {
  this.timeout(120_000);
  let work: string;
  let modelDir: string;
  const config = { ...DEFAULT_FEATURE_CONFIG, cameras: CAMERAS };
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "fusiond-multicam-"));
    modelDir = join(work, "model");
    const spec = makeInputSpec([...MODALITIES], config);
    const model = strategyByName("intermediate").build(spec, { seed: 5, units: 16 });
    const card: ModelCard = { name: "multi-camera-test", strategy: "intermediate", description: "untrained four-camera test model", command: "test", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: spec };
    await saveRecogniserFor(modelDir, spec);
    await saveModelDir(modelDir, model, card, renderCard);
    model.dispose();
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("every frame holds the four cameras, the model sees four slots, and a failing camera masks only its own slot", async () => {
    const all = await replay(await recordDrive((m) => m), modelDir);
    const truncated = await replay(await recordDrive((m) => (m.topic === REAR && m.type === "foxglove.CompressedImage" ? ({ ...m, message: { ...m.message, data: (m.message.data ?? new Uint8Array()).subarray(0, 40) } } as SimMessage) : m)), modelDir);

    assert.ok(all.decisions.size >= 40, `decisions: ${all.decisions.size}`);
    const full = all.frames.filter((f) => Object.values(f.cameras ?? {}).filter((c) => c !== null).length === 3);
    assert.ok(full.length >= all.frames.length - 2, `frames with every other camera: ${full.length} of ${all.frames.length}`);
    assert.ok(all.frames.every((f) => f.slots.camera?.topic.endsWith("/camera/front")), "front is the reference");
    assert.deepEqual([...extractFeatures(full[5]!, { config }).inputs.camera_mask], [1, 1, 1, 1]);
    for (const f of truncated.frames.slice(5, 10)) assert.deepEqual([...extractFeatures(f, { config }).inputs.camera_mask], [1, 0, 1, 1]);
    assert.deepEqual(truncated.frames.map((f) => f.stampNs), all.frames.map((f) => f.stampNs), "the same frames: a bad JPEG passes the aligner");

    // The same frames with the rear camera's slot absent (null: missing or stale), decided by a fresh decider in order.
    const rearAbsent = new Map<bigint, DrivingDecision>();
    const decider = await loadDecider({ modelDir, backend: "cpu", nowNs: () => 0n, vehicleId: VEHICLE });
    try {
      for (const f of all.frames) rearAbsent.set(f.stampNs, await decider.decide({ ...f, cameras: { ...f.cameras, [REAR]: null } }));
    } finally {
      await decider.close();
    }
    let same = 0;
    let differ = 0;
    for (const [stamp, absent] of rearAbsent) {
      const t = truncated.decisions.get(stamp)!;
      const a = all.decisions.get(stamp)!;
      if (!absent.probabilities.length) continue;
      probs(t).forEach((p, i) => assert.ok(Math.abs(p - probs(absent)[i]!) < 1e-6, `frame ${stamp}: rear truncated ${p} vs rear absent ${probs(absent)[i]}`));
      same++;
      if (probs(a).some((p, i) => Math.abs(p - probs(absent)[i]!) > 1e-4)) differ++;
    }
    assert.ok(same >= 40, `frames decided by the model: ${same}`);
    assert.ok(differ >= same / 2, `the rear camera changes the output when it is there: ${differ} of ${same}`);
  });
});
