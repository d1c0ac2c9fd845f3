/**
 * Fusion inference: the shipped default model (models/default; an untrained intermediate model of the same
 * shape when it is missing, said in the note) on every backend available here. Per backend: batch-1 latency
 * p50/p99 through the ModelRunner and batch-32 throughput, each beside bare model.predict measured in the
 * same run; FLOPs per sample and achieved GFLOP/s against one core's FP32 peak (~200 GFLOP/s: AVX-512 FMA at
 * ~3.1 GHz); and frame-to-decision (features + model + supervisor, DecisionEngine.decide) on a sim-like frame.
 */
import { existsSync } from "node:fs";
import jpeg from "jpeg-js";
import * as tf from "@tensorflow/tfjs";
import { emptyPresence, MODALITIES, nsToTimestamp, type FrameSlot, type FusedFrame, type Modality, type ModalityMessage } from "../schemas/index.ts";
import {
  DecisionEngine, extractFeatures, flopsPerSample, loadModelDir, makeInputSpec, modelInputs, selectBackend, stackInputs, strategyByName, TfModelRunner,
  type BackendCandidate, type InputSpec, type LoadedModel,
} from "../fusion/index.ts";
import { quantile, type BenchRow, type BenchSuite } from "./harness.ts";

const PEAK_GFLOPS = 200;
const MODEL_DIR = "models/default";

/** A frame like the simulator's: 64×64 JPEG, 12 radar returns, a GNSS fix, ego, 1.5 s of audio. */
function benchFrame(): FusedFrame {
  const t = 1_000_000_000n;
  const ts = nsToTimestamp(t);
  const rgba = Buffer.alloc(64 * 64 * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37) % 251;
  const audio = new Uint8Array(24000 * 2);
  for (let i = 0; i < audio.length; i++) audio[i] = (i * 13) % 256;
  const messages: Record<Modality, Record<string, unknown>> = {
    camera: { timestamp: ts, format: "jpeg", data: new Uint8Array(jpeg.encode({ width: 64, height: 64, data: rgba }, 85).data) },
    radar: { timestamp: ts, returns: Array.from({ length: 12 }, (_, i) => ({ range_m: 5 + i * 7, azimuth_rad: (i - 6) * 0.05, elevation_rad: 0, radial_velocity_mps: -3, rcs_dbsm: 8 })) },
    gnss: { timestamp: ts, latitude: 48.1, longitude: 11.5, altitude: 500, position_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 2], position_covariance_type: 2 },
    ego: { timestamp: ts, speed_mps: 12, yaw_rate_rps: 0.01, steering_rad: 0, accel_mps2: 0.2, lane_index: 1 },
    voice: { timestamp: ts, data: audio, format: "pcm-s16", sample_rate: 16000, number_of_channels: 1 },
  };
  const present = emptyPresence();
  const frame: FusedFrame = { stampNs: t, seq: 0, slots: {}, present, ageNs: {}, lastInputReceiveNs: t, emittedNs: t };
  for (const m of MODALITIES) {
    present[m] = true;
    frame.ageNs[m] = 0n;
    (frame.slots as Record<Modality, FrameSlot>)[m] = { message: messages[m] as ModalityMessage, topic: `bench/${m}`, stampNs: t, ageNs: 0n, receiveNs: t, interpolated: false, held: false };
  }
  return frame;
}

async function timeLoop(n: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function loadOrBuild(log: (l: string) => void): Promise<{ loaded: LoadedModel; note: string }> {
  if (existsSync(MODEL_DIR)) {
    const loaded = await loadModelDir(MODEL_DIR);
    return { loaded, note: `${MODEL_DIR} (${loaded.card.strategy}, ${loaded.hash})` };
  }
  log(`${MODEL_DIR} missing: benchmarking an untrained intermediate model of the same shape`);
  const spec: InputSpec = makeInputSpec([...MODALITIES]);
  const model = strategyByName("intermediate").build(spec, { seed: 1 });
  return { loaded: { dir: "", id: "untrained", hash: "", model, spec, card: {} as LoadedModel["card"] }, note: "untrained intermediate" };
}

const suite: BenchSuite = {
  name: "fusion",
  description: "fusion model inference per backend: b1 p50/p99 via ModelRunner vs bare model.predict, b32 throughput, GFLOP/s vs one core's peak, frame-to-decision",
  async run(log) {
    const rows: BenchRow[] = [];
    const frame = benchFrame();
    const backends: BackendCandidate[] = [];
    for (const b of ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const) {
      try {
        await selectBackend(b);
        backends.push(b);
      } catch {
        log(`${b}: not available here`);
      }
    }
    for (const b of backends) {
      const sel = await selectBackend(b);
      const { loaded, note } = await loadOrBuild(log);
      const model = loaded.model;
      const flops = flopsPerSample(model);
      const features = extractFeatures(frame, { config: loaded.spec.config });
      const one = stackInputs([modelInputs(features, loaded.spec)], loaded.spec).map((x) => tf.tensor(x.data, x.shape));
      const b32 = stackInputs(new Array(32).fill(modelInputs(features, loaded.spec)), loaded.spec).map((x) => tf.tensor(x.data, x.shape));
      const slow = b === "cpu";
      const n1 = slow ? 200 : 2000;
      const predict = (xs: tf.Tensor[]) => {
        const y = model.predict(xs) as tf.Tensor;
        y.dataSync();
        y.dispose();
      };
      await timeLoop(50, () => predict(one)); // warm-up
      const bare1 = await timeLoop(n1, () => predict(one));
      const runner = new TfModelRunner(loaded, { now: () => performance.now(), maxBatch: 32, maxQueue: 64 });
      await runner.warmup();
      const inputs = modelInputs(features, loaded.spec);
      const viaRunner = await timeLoop(n1, () => runner.run(inputs));
      const reps = slow ? 10 : 100;
      await timeLoop(5, () => predict(b32));
      const bare32 = await timeLoop(reps, () => predict(b32));
      const thr32 = (32 * reps * 1000) / bare32.reduce((a, c) => a + c, 0);
      const thr1 = (n1 * 1000) / bare1.reduce((a, c) => a + c, 0);
      const engine = new DecisionEngine({ primary: runner, nowNs: () => 0n });
      await timeLoop(20, () => engine.decide(frame));
      const f2d = await timeLoop(slow ? 100 : 500, () => engine.decide(frame));
      const bareP99 = quantile(bare1, 0.99);
      log(`${b} (tf "${sel.tfBackend}"): ${note}, ${(flops / 1e6).toFixed(2)} MFLOP/sample`);
      rows.push(
        { name: `${b} b1 p50 (ModelRunner)`, value: quantile(viaRunner, 0.5), unit: "ms", baseline: { name: "bare model.predict b1 p50", value: quantile(bare1, 0.5) }, lowerIsBetter: true },
        { name: `${b} b1 p99 (ModelRunner)`, value: quantile(viaRunner, 0.99), unit: "ms", baseline: { name: "bare model.predict b1 p99", value: bareP99 }, lowerIsBetter: true, ...(b === backends[0] ? { goal: "≤ 2 ms" } : {}) },
        { name: `${b} b32 throughput`, value: thr32, unit: "samples/s", baseline: { name: "bare model.predict b1 throughput", value: thr1 } },
        { name: `${b} achieved b32`, value: (flops * thr32) / 1e9, unit: "GFLOP/s", baseline: { name: "one core FP32 peak (AVX-512 FMA ~3.1 GHz)", value: PEAK_GFLOPS }, note: `${(flops / 1e6).toFixed(2)} MFLOP/sample` },
        { name: `${b} achieved b1`, value: (flops * thr1) / 1e9, unit: "GFLOP/s", baseline: { name: "one core FP32 peak (AVX-512 FMA ~3.1 GHz)", value: PEAK_GFLOPS } },
        { name: `${b} frame-to-decision p50 (features+model+supervisor)`, value: quantile(f2d, 0.5), unit: "ms", baseline: { name: "bare model.predict b1 p50", value: quantile(bare1, 0.5) }, lowerIsBetter: true },
        { name: `${b} frame-to-decision p99 (features+model+supervisor)`, value: quantile(f2d, 0.99), unit: "ms", baseline: { name: "bare model.predict b1 p99", value: bareP99 }, lowerIsBetter: true, ...(b === backends[0] ? { goal: "≤ 5 ms" } : {}) },
      );
      runner.close();
      tf.dispose([...one, ...b32]);
    }
    return rows;
  },
};
export default suite;
