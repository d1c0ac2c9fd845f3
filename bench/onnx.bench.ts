/**
 * ONNX Runtime against tfjs-wasm on the shipped default model (models/default/model.onnx and model.json), one
 * thread each, in the same run: b1 latency p50/p99 (bare session.run beside wasm's compiled kernel list, and
 * both through the ModelRunner), b32 and b256 samples/s and GFLOP/s (FLOPs from fusion/model/flops.ts) against
 * one core's FP32 peak (~200 GFLOP/s). Inputs are the features of varied sim-like values (the models' cost does
 * not depend on them). FUSIOND_ONNX_THREADS sets ORT's intra-op threads (default 1, as the daemon).
 * Throughput is given per second of wall time and per second of the process's CPU time: on a shared machine
 * (the 2-core one this was written on ran at a load of ~18) the wall figures mostly measure the wait for a core.
 * b32/b256 alternate ORT, wasm's compiled kernel list (compiled.ts: fusiond's wasm runner) and plain tfjs-wasm
 * model.predict (the issue's baseline; the compiled list is ~2× faster) in short slices, so all see the same load;
 * the goal "≥ 8× wasm" is against model.predict (8× the compiled list would pass one core's FP32 peak at b32);
 * Beside the 200 GFLOP/s the issue takes as one core's peak, the same run times ORT on one large GEMM
 * (MatMul 512×512 · 512×512, `largeGemmOnnx`) alternating with the model at b256: what ORT reaches on this core
 * under the same load, the ceiling for a model made of GEMMs (bench/README.md: the core's FMA peak measured).
 * FUSIOND_BENCH_ORT_SWEEP=1
 * also times other session options against fusiond's (onnx-runtime.ts sessionOptions).
 */
import * as tf from "@tensorflow/tfjs";
import { compileForInference } from "../fusion/inference/compiled.ts";
import { createModelRunner, flopsPerSample, loadModelDir, selectBackend, sessionOptions, TfModelRunner, type OrtTarget } from "../fusion/index.ts";
import { readFileSync } from "node:fs";
import { readOnnxFile } from "../fusion/model/onnx-file.ts";
import onnxProto from "onnx-proto";
import { quantile, type BenchRow, type BenchSuite } from "./harness.ts";

const PEAK_GFLOPS = 200;
const GEMM_N = 512;

/** One MatMul [N, 512] · [512, 512] (constant weights) as ONNX bytes: ORT's large-GEMM rate, for reference. */
function largeGemmOnnx(): Uint8Array {
  const { onnx } = onnxProto;
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const w = Float32Array.from({ length: GEMM_N * GEMM_N }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const info = (name: string) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: "N" }, { dimValue: GEMM_N }] } } } });
  const graph = onnx.GraphProto.create({
    name: "gemm",
    node: [onnx.NodeProto.create({ opType: "MatMul", input: ["x", "w"], output: ["y"], name: "matmul" })],
    initializer: [onnx.TensorProto.create({ name: "w", dataType: FLOAT, dims: [GEMM_N, GEMM_N], rawData: new Uint8Array(w.buffer) })],
    input: [info("x")],
    output: [info("y")],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, producerName: "fusiond-bench", opsetImport: [{ domain: "", version: 13 }], graph })).finish();
}
const MODEL_DIR = "models/default";

async function timeLoop(n: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Samples per second of `fn` on batches of `b`, timed for about `ms` after a warm-up: per second of wall time,
 * and per second of this process's CPU time (process.cpuUsage). The second is what the code costs; on a shared
 * machine the first also counts the time the process waited for a core.
 */
async function throughput(b: number, ms: number, fn: () => unknown | Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  // The garbage an earlier slice left (model.predict's) is collected now, not on V8's threads during this one.
  (globalThis as { gc?: () => void }).gc?.();
  await timeLoop(3, fn);
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await fn();
    n++;
  }
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall: (n * b) / wallS, cpu: (n * b) / ((c.user + c.system) / 1e6) };
}

const median = (xs: number[]): number => quantile(xs, 0.5);

/** One runtime's figures from `alternating`. */
interface Thr {
  wall: number;
  cpu: number;
  ratio: { wall: number; cpu: number };
}

/**
 * Runtimes in alternating slices of about `ms` each (`rounds` of each): on a machine others load, the load
 * changes over seconds, and two figures taken one after the other compare two loads as much as two runtimes.
 * Gives each one's median samples/s (wall, per CPU-second) and the median of the per-round ratios of the
 * first to each (index 0: 1).
 */
async function alternating(batch: number, rounds: number, ms: number, fns: (() => unknown)[]) {
  const r: { wall: number; cpu: number }[][] = fns.map(() => []);
  for (let i = 0; i < rounds; i++) for (const [k, fn] of fns.entries()) r[k]!.push(await throughput(batch, ms, fn));
  const pick = (x: { wall: number; cpu: number }[], k: "wall" | "cpu") => median(x.map((v) => v[k]));
  return r.map((x) => ({
    wall: pick(x, "wall"),
    cpu: pick(x, "cpu"),
    ratio: { wall: median(r[0]!.map((v, i) => v.wall / x[i]!.wall)), cpu: median(r[0]!.map((v, i) => v.cpu / x[i]!.cpu)) },
  }));
}

/** The first two of `alternating`, as a against b. */
async function paired(batch: number, rounds: number, ms: number, a: () => unknown, b: () => unknown) {
  const [ra, rb] = await alternating(batch, rounds, ms, [a, b]);
  return { a: ra!, b: rb!, ratio: rb!.ratio };
}

/** Mean CPU time of one call, ms. */
async function cpuPerCall(n: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

const suite: BenchSuite = {
  name: "onnx",
  description: "ONNX Runtime (CPU EP) vs tfjs-wasm on models/default: b1 p50/p99, b32/b256 samples/s and GFLOP/s, same run",
  async run(log) {
    const threads = Math.max(1, Number(process.env["FUSIOND_ONNX_THREADS"] ?? 1));
    let onnxSel;
    try {
      onnxSel = await selectBackend("onnx", undefined);
    } catch (err) {
      log(`onnx not available here: ${(err as Error).message}`);
      return [];
    }
    const target: OrtTarget = { ...onnxSel.ort!, threads };
    await selectBackend("wasm");
    const loaded = await loadModelDir(MODEL_DIR);
    const flops = flopsPerSample(loaded.model);
    // What model.onnx computes: the wide ensemble's zero blocks are left out of it (onnx-export.ts).
    const onnxFlops = flopsPerSample(loaded.model, { withoutZeroBlocks: true });
    const spec = loaded.spec;
    const sizes = spec.inputs.map((i) => i.shape.reduce((a, b) => a * b, 1));
    const batchOf = (b: number): Float32Array[] => sizes.map((s, k) => Float32Array.from({ length: b * s }, (_, j) => ((j * 2654435761 + k) % 1000) / 1000));
    const compiled = compileForInference(loaded.model);
    if (!compiled) throw new Error("models/default does not compile for inference");
    const file = readOnnxFile(loaded.dir, loaded.card.onnx, loaded.hash);
    if ("error" in file) throw new Error(file.error);
    const session = await target.ort.InferenceSession.create(file.bytes, sessionOptions(target));
    const feedsOf = (b: number) => {
      const data = batchOf(b);
      return Object.fromEntries(session.inputNames.map((n, k) => [n, new target.ort.Tensor("float32", data[k]!, [b, ...spec.inputs[k]!.shape])]));
    };
    const onnxRun = (feeds: ReturnType<typeof feedsOf>) => () => session.run(feeds);
    const wasmRun = (b: number) => {
      const data = batchOf(b);
      return () => compiled.run(data, b);
    };
    // The baseline: tfjs-wasm's own model.predict (the runner before compiled.ts), as TfModelRunner
    // runs it with compile: false — input tensors made, predict, read back, in a tidy.
    const predictRun = (b: number) => {
      const data = batchOf(b);
      return () => tf.tidy(() => (loaded.model.predict(data.map((d, k) => tf.tensor(d, [b, ...spec.inputs[k]!.shape]))) as tf.Tensor).dataSync());
    };
    log(`${MODEL_DIR} (${loaded.card.strategy}, ${loaded.hash}), ${(flops / 1e6).toFixed(2)} MFLOP/sample (model.onnx: ${(onnxFlops / 1e6).toFixed(2)} without the zero blocks); ORT intra-op threads ${threads}; wasm: compiled kernel list (the runner's path)`);

    const f1 = feedsOf(1);
    await timeLoop(200, onnxRun(f1));
    const onnx1 = await timeLoop(3000, onnxRun(f1));
    const w1 = wasmRun(1);
    await timeLoop(100, w1);
    const wasm1 = await timeLoop(1500, w1);

    const onnxRunner = await createModelRunner(await loadModelDir(MODEL_DIR), onnxSel, { now: () => performance.now(), maxBatch: 32, maxQueue: 64 });
    const wasmRunner = new TfModelRunner(await loadModelDir(MODEL_DIR), { now: () => performance.now(), maxBatch: 32, maxQueue: 64 });
    const one = Object.fromEntries(spec.inputs.map((inp, k) => [inp.name, batchOf(1)[k]!]));
    for (const r of [onnxRunner, wasmRunner]) await r.warmup();
    const onnxR1 = await timeLoop(2000, () => onnxRunner.run(one));
    const wasmR1 = await timeLoop(1000, () => wasmRunner.run(one));

    const onnxCpu1 = await cpuPerCall(2000, onnxRun(f1));
    const wasmCpu1 = await cpuPerCall(1000, w1);
    const rows: BenchRow[] = [
      { name: "onnx b1 p50 (session.run)", value: quantile(onnx1, 0.5), unit: "ms", baseline: { name: "wasm b1 p50 (compiled)", value: quantile(wasm1, 0.5) }, lowerIsBetter: true },
      { name: "onnx b1 p99 (session.run)", value: quantile(onnx1, 0.99), unit: "ms", baseline: { name: "wasm b1 p99 (compiled)", value: quantile(wasm1, 0.99) }, lowerIsBetter: true, goal: "≤ 0.3 ms" },
      { name: "onnx b1 CPU time per call (session.run)", value: onnxCpu1, unit: "ms", baseline: { name: "wasm b1 CPU time per call (compiled)", value: wasmCpu1 }, lowerIsBetter: true },
      { name: "onnx b1 p50 (ModelRunner)", value: quantile(onnxR1, 0.5), unit: "ms", baseline: { name: "wasm b1 p50 (ModelRunner)", value: quantile(wasmR1, 0.5) }, lowerIsBetter: true },
      { name: "onnx b1 p99 (ModelRunner)", value: quantile(onnxR1, 0.99), unit: "ms", baseline: { name: "wasm b1 p99 (ModelRunner)", value: quantile(wasmR1, 0.99) }, lowerIsBetter: true },
    ];
    // FUSIOND_BENCH_ROUNDS alternating slices of 300 ms per runtime (default 8).
    const rounds = Math.max(1, Number(process.env["FUSIOND_BENCH_ROUNDS"] ?? 8));
    for (const b of [32, 256]) {
      const [onnxThr, wasmThr, predThr] = (await alternating(b, rounds, 300, [onnxRun(feedsOf(b)), wasmRun(b), predictRun(b)])) as [Thr, Thr, Thr];
      const gf = (rate: number): number => (flops * rate) / 1e9;
      const ogf = (rate: number): number => (onnxFlops * rate) / 1e9;
      const note = (t: Thr, k: "wall" | "cpu") => `median of ${rounds} alternating slices; per-slice ratio median ${t.ratio[k].toFixed(2)}×`;
      rows.push(
        { name: `onnx b${b} throughput (wall)`, value: onnxThr.wall, unit: "samples/s", baseline: { name: `wasm b${b} compiled (wall)`, value: wasmThr.wall }, note: note(wasmThr, "wall") },
        { name: `onnx b${b} throughput (per CPU-second)`, value: onnxThr.cpu, unit: "samples/s", baseline: { name: `wasm b${b} compiled (per CPU-second)`, value: wasmThr.cpu }, note: `${note(wasmThr, "cpu")}; fusiond's wasm runner (compiled.ts), not the issue's baseline` },
        { name: `onnx b${b} throughput (wall)`, value: onnxThr.wall, unit: "samples/s", baseline: { name: `tfjs-wasm model.predict b${b} (wall)`, value: predThr.wall }, note: note(predThr, "wall") },
        { name: `onnx b${b} throughput (per CPU-second)`, value: onnxThr.cpu, unit: "samples/s", baseline: { name: `tfjs-wasm model.predict b${b} (per CPU-second)`, value: predThr.cpu }, ...(b === 32 ? { goal: "≥ 8× wasm (the issue's baseline)" } : {}), note: note(predThr, "cpu") },
        { name: `onnx b${b} achieved (wall)`, value: ogf(onnxThr.wall), unit: "GFLOP/s", baseline: { name: "one core FP32 peak", value: PEAK_GFLOPS }, note: `FLOPs model.onnx computes; counting the zero blocks as TF.js does: ${gf(onnxThr.wall).toFixed(1)}; wasm compiled: ${gf(wasmThr.wall).toFixed(1)} GFLOP/s, model.predict ${gf(predThr.wall).toFixed(1)}` },
        { name: `onnx b${b} achieved (per CPU-second)`, value: ogf(onnxThr.cpu), unit: "GFLOP/s", baseline: { name: "one core FP32 peak", value: PEAK_GFLOPS }, ...(b === 256 ? { goal: "≥ 0.40× peak" } : {}), note: `FLOPs model.onnx computes; counting the zero blocks as TF.js does: ${gf(onnxThr.cpu).toFixed(1)}; wasm compiled: ${gf(wasmThr.cpu).toFixed(1)} GFLOP/s, model.predict ${gf(predThr.cpu).toFixed(1)}` },
      );
      log(
        `b${b}: onnx ${onnxThr.wall.toFixed(0)} samples/s wall, ${onnxThr.cpu.toFixed(0)} per CPU-s (${ogf(onnxThr.cpu).toFixed(1)} GFLOP/s computed); ` +
          `wasm compiled ${wasmThr.wall.toFixed(0)} wall, ${wasmThr.cpu.toFixed(0)} per CPU-s (${gf(wasmThr.cpu).toFixed(1)} GFLOP/s); ` +
          `tfjs-wasm model.predict ${predThr.wall.toFixed(0)} wall, ${predThr.cpu.toFixed(0)} per CPU-s (${gf(predThr.cpu).toFixed(1)} GFLOP/s); ` +
          `per-slice ratio medians onnx/compiled ${wasmThr.ratio.cpu.toFixed(2)}×, onnx/model.predict ${predThr.ratio.cpu.toFixed(2)}× per CPU-s`,
      );
    }
    // ORT's large-GEMM rate against the model at b256, alternating slices: how close the model comes to what
    // ORT reaches on this core under the same load.
    {
      const gemm = await target.ort.InferenceSession.create(largeGemmOnnx(), sessionOptions(target));
      const x = { x: new target.ort.Tensor("float32", Float32Array.from({ length: GEMM_N * GEMM_N }, (_, i) => (i % 13) / 13), [GEMM_N, GEMM_N]) };
      const feeds = feedsOf(256);
      const [model256, big] = (await alternating(256, rounds, 300, [onnxRun(feeds), () => gemm.run(x)])) as [Thr, Thr];
      // alternating() counts 256 samples per call: big.cpu / 256 is GEMM calls per CPU-second.
      const gemmRate = (2 * GEMM_N ** 3 * (big.cpu / 256)) / 1e9;
      const modelGf = (onnxFlops * model256.cpu) / 1e9;
      rows.push(
        { name: `ORT MatMul ${GEMM_N}³ achieved (per CPU-second)`, value: gemmRate, unit: "GFLOP/s", baseline: { name: "one core FP32 peak", value: PEAK_GFLOPS }, note: `median of ${rounds} slices alternating with onnx b256; the ceiling for GEMMs on this core under this load` },
        { name: "onnx b256 achieved (per CPU-second)", value: modelGf, unit: "GFLOP/s", baseline: { name: `ORT MatMul ${GEMM_N}³, same run`, value: gemmRate }, note: "what model.onnx computes, as a fraction of ORT's large-GEMM rate" },
      );
      log(`large GEMM: ORT MatMul ${GEMM_N}³ ${gemmRate.toFixed(1)} GFLOP/s per CPU-s; onnx b256 ${modelGf.toFixed(1)} GFLOP/s (${((100 * modelGf) / gemmRate).toFixed(0)}% of it)`);
      await gemm.release();
    }
    // FUSIOND_BENCH_ORT_SWEEP=1: session options against the ones fusiond uses (sessionOptions), b32 and b256,
    // alternating slices as above; logged, not rows.
    if (process.env["FUSIOND_BENCH_ORT_SWEEP"] === "1") {
      const variants: Record<string, Record<string, unknown>> = {
        "enableCpuMemArena false": { enableCpuMemArena: false },
        "enableMemPattern false": { enableMemPattern: false },
        "executionMode parallel": { executionMode: "parallel" },
        "graphOptimizationLevel basic": { graphOptimizationLevel: "basic" },
        "intra-op spinning off": { extra: { session: { intra_op: { allow_spinning: "0" } } } },
      };
      const create = target.ort.InferenceSession.create as unknown as (m: Uint8Array, o: Record<string, unknown>) => Promise<typeof session>;
      for (const b of [32, 256]) {
        const feeds = feedsOf(b);
        const out = { [session.outputNames[0]!]: new target.ort.Tensor("float32", new Float32Array(b * 8), [b, 8]) };
        const pre = await paired(b, rounds, 300, () => (session.run as (f: unknown, o: unknown) => Promise<unknown>)(feeds, out), onnxRun(feeds));
        log(`sweep b${b}: preallocated output / fusiond's options: ${pre.ratio.cpu.toFixed(2)}× per CPU-s, ${pre.ratio.wall.toFixed(2)}× wall`);
        for (const [name, extra] of Object.entries(variants)) {
          const v = await create(file.bytes, { ...sessionOptions(target), ...extra });
          const vFeeds = Object.fromEntries(v.inputNames.map((n, k) => [n, feeds[session.inputNames[k]!]!]));
          const r = await paired(b, rounds, 300, () => v.run(vFeeds), onnxRun(feeds));
          log(`sweep b${b}: ${name} / fusiond's options: ${r.ratio.cpu.toFixed(2)}× per CPU-s, ${r.ratio.wall.toFixed(2)}× wall`);
          await v.release();
        }
      }
    }
    // FUSIOND_BENCH_ONNX_AB=FILE: another ONNX form of the same model (e.g. an older export:
    // `git show REV:models/default/model.onnx > /tmp/old.onnx`) against the shipped one, b1 and b32/b256, alternating
    // slices as above; logged, not rows.
    const other = process.env["FUSIOND_BENCH_ONNX_AB"];
    if (other) {
      const v = await target.ort.InferenceSession.create(new Uint8Array(readFileSync(other)), sessionOptions(target));
      for (const b of [1, 32, 256]) {
        const feeds = feedsOf(b);
        const vFeeds = Object.fromEntries(v.inputNames.map((n, k) => [n, feeds[session.inputNames[k]!]!]));
        const r = await paired(b, rounds, 300, onnxRun(feeds), () => v.run(vFeeds));
        log(`A/B b${b}: ${MODEL_DIR}/model.onnx ${r.a.cpu.toFixed(0)} samples per CPU-s, ${other} ${r.b.cpu.toFixed(0)}; per-slice ratio median ${r.ratio.cpu.toFixed(2)}× per CPU-s, ${r.ratio.wall.toFixed(2)}× wall`);
      }
      await v.release();
    }
    onnxRunner.close();
    wasmRunner.close();
    compiled.dispose();
    await session.release();
    loaded.model.dispose();
    return rows;
  },
};
export default suite;
