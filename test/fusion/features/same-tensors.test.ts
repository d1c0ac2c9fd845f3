/**
 * Acceptance: the same frame gives the same tensors in training and in the daemon. Training path: the
 * recording's bytes decoded by the codec → frame → labelFrames (features) → buildBatch. Inference path:
 * the same frame → DecisionEngine → modelInputs → the runner's batch (stackInputs), as the daemon runs it.
 */
import assert from "node:assert/strict";
import { defaultCodec, MODALITIES, type FrameSlot, type FusedFrame, type Modality, type ModalityMessage } from "../../../schemas/index.ts";
import { DEFAULT_FEATURE_CONFIG, makeInputSpec } from "../../../fusion/features/config.ts";
import { stackInputs } from "../../../fusion/features/frame.ts";
import type { MapView } from "../../../fusion/features/gnss.ts";
import { FakeModelRunner } from "../../../fusion/inference/runner.ts";
import { DecisionEngine } from "../../../fusion/policy/engine.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { indexTruths, labelFrames } from "../../../fusion/train/labelled.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { cameraFeatures } from "../../../fusion/features/camera.ts";
import { DEFAULT_CAMERA_IDS } from "../../../fusion/features/config.ts";
import { randomScene, sceneFrame, withCameras } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

const TYPES: Record<Modality, string> = { camera: "foxglove.RawImage", radar: "fusiond.RadarScan", gnss: "foxglove.LocationFix", ego: "fusiond.EgoState", voice: "foxglove.RawAudio" };
const map: MapView = { id: "stub", contextAt: (lat) => ({ stopLineDistanceM: (lat * 1e6) % 100, speedLimitMps: 13.9, inTunnel: false }) };

/** What a source delivers: every slot's message through protobuf bytes and back. */
function viaWire(frame: FusedFrame): FusedFrame {
  const codec = defaultCodec();
  const slots: FusedFrame["slots"] = {};
  for (const m of MODALITIES) {
    const s = frame.slots[m];
    if (s) (slots as Record<Modality, FrameSlot>)[m] = { ...s, message: codec.decode(TYPES[m], codec.encode(TYPES[m], s.message)) as ModalityMessage };
  }
  const cameras = frame.cameras && Object.fromEntries(Object.entries(frame.cameras).map(([t, s]) => [t, s && { ...s, message: codec.decode(TYPES.camera, codec.encode(TYPES.camera, s.message)) as ModalityMessage<"camera"> }]));
  return { ...frame, slots, ...(cameras ? { cameras } : {}) };
}

describe("fusion: same frame → same tensors in training and inference", () => {
  before(() => useBackend("wasm"));
  for (const modalities of [[...MODALITIES], ["camera"], ["radar", "gnss", "ego", "voice"]] as Modality[][]) {
    it(`${modalities.join("+")}: byte-identical inputs`, async () => {
      const spec = makeInputSpec(modalities);
      const rand = mulberry32(11);
      const frames = [0, 1, 2, 3].map((i) => viaWire(sceneFrame(randomScene(rand), i, rand, i === 3 ? ["radar"] : [])));
      const truths = frames.map((f) => ({ stamp: { seconds: Number(f.stampNs / 1_000_000_000n), nanos: Number(f.stampNs % 1_000_000_000n) }, expert_action: 1, episode_id: "e", weather: 1 }));
      const { samples } = labelFrames(frames, indexTruths(truths), { map }, () => "e");
      const training = buildBatch(samples, [0, 1, 2, 3], spec).map((t) => t.dataSync());

      // Training hears the command spoken (none in these truths); inference asks the recogniser (here: none).
      const none = new FakeModelRunner(makeInputSpec(["voice"], { ...DEFAULT_FEATURE_CONFIG, intent: false }), () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => 0 });
      const runner = new FakeModelRunner(spec, () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => 0, commands: none });
      const engine = new DecisionEngine({ primary: runner, map, nowNs: () => 0n, supervisor: { ttcThresholdS: 0, brakeTtcS: 0, staleAfterS: 10, critical: [] } });
      for (const f of frames) await engine.decide(f);
      const inference = stackInputs(runner.seen, spec).map((b) => b.data);
      assert.equal(inference.length, training.length);
      inference.forEach((arr, k) => assert.deepEqual(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength), Buffer.from(training[k]!.buffer, training[k]!.byteOffset, training[k]!.byteLength), `input ${spec.inputs[k]!.name}`));
      runner.close();
    });
  }

  it("four camera slots: byte-identical inputs, with every camera's features from the daemon's provider (the worker pool's path)", async () => {
    const config = { ...DEFAULT_FEATURE_CONFIG, cameras: [...DEFAULT_CAMERA_IDS] };
    const spec = makeInputSpec([...MODALITIES], config);
    const rand = mulberry32(12);
    const frames = [0, 1, 2, 3].map((i) => {
      const scene = randomScene(rand);
      return viaWire(withCameras(sceneFrame(scene, i, rand), scene, DEFAULT_CAMERA_IDS, rand, i === 2 ? ["left"] : []));
    });
    const truths = frames.map((f) => ({ stamp: { seconds: Number(f.stampNs / 1_000_000_000n), nanos: Number(f.stampNs % 1_000_000_000n) }, expert_action: 1, episode_id: "e", weather: 1 }));
    const { samples } = labelFrames(frames, indexTruths(truths), { map, config }, () => "e");
    const training = buildBatch(samples, [0, 1, 2, 3], spec).map((t) => t.dataSync());
    const none = new FakeModelRunner(makeInputSpec(["voice"], { ...DEFAULT_FEATURE_CONFIG, intent: false }), () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => 0 });
    const runner = new FakeModelRunner(spec, () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => 0, commands: none });
    let provided = 0;
    const engine = new DecisionEngine({
      primary: runner,
      map,
      nowNs: () => 0n,
      supervisor: { ttcThresholdS: 0, brakeTtcS: 0, staleAfterS: 10, critical: [] },
      cameraFeatures: async (m) => (provided++, cameraFeatures(m, config)),
    });
    for (const f of frames) await engine.decide(f);
    assert.equal(provided, 4 * 4 - 1, "the reference and every other present camera through the provider");
    const inference = stackInputs(runner.seen, spec).map((b) => b.data);
    assert.equal(spec.inputs[1]!.name, "camera_mask");
    assert.deepEqual([...inference[1]!.subarray(8, 12)], [1, 1, 0, 1], "frame 2: the left camera missing");
    inference.forEach((arr, k) => assert.deepEqual(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength), Buffer.from(training[k]!.buffer, training[k]!.byteOffset, training[k]!.byteLength), `input ${spec.inputs[k]!.name}`));
    runner.close();
  });
});
