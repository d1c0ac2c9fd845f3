/**
 * The measuring half of scripts/gpu-check.sh (which checks the driver, the Vulkan loader and the NVIDIA ICD
 * first): runs the shipped models on `onnx-webgpu` (ONNX Runtime's WebGPU execution provider) and `webgpu`
 * (TF.js on Dawn) against `onnx` on the CPU, and prints per model and backend: max |Δ probability| against the
 * CPU on the same inputs, b1 latency p50/p99, and samples/s at each batch size (default 32, 1024, 8192).
 * A backend that cannot run says why (not installed, no adapter, …) and the rest goes on; so does a model.
 *
 *   node --import tsx scripts/gpu-check.ts [--models default,attention|all] [--batches 32,1024,8192]
 *        [--seconds 1] [--b1-calls 300] [--json FILE]
 *
 * Environment: FUSIOND_DAWN_FLAGS (Dawn toggles for `webgpu`, comma-separated), FUSIOND_ONNX_THREADS (CPU
 * reference threads, default 1). Inputs are deterministic pseudo-random features with presence masks of 0/1
 * (the models' cost does not depend on the values; the comparison covers present and absent modalities).
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  loadModelDir, nodeBackendEnv, readOnnxFile, selectBackend, sessionOptions,
  type BackendSelection, type LoadedModel, type OrtSession,
} from "../fusion/index.ts";

type Predict = (data: readonly Float32Array[], b: number) => Promise<Float32Array>;

interface Args {
  models: string[];
  batches: number[];
  seconds: number;
  b1Calls: number;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const shipped = readdirSync("models", { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const m = get("--models") ?? "all";
  const json = get("--json");
  return {
    models: m === "all" ? shipped : m.split(","),
    batches: (get("--batches") ?? "32,1024,8192").split(",").map(Number),
    seconds: Number(get("--seconds") ?? 1),
    b1Calls: Number(get("--b1-calls") ?? 300),
    ...(json ? { json } : {}),
  };
}

/** Deterministic inputs for `b` samples: features in [-1, 1), presence columns 0/1. */
function inputsFor(spec: LoadedModel["spec"], b: number, seed = 1): Float32Array[] {
  let s = seed >>> 0;
  const rand = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return spec.inputs.map((inp) => {
    const size = inp.shape.reduce((x, y) => x * y, 1);
    const a = new Float32Array(b * size);
    for (let i = 0; i < a.length; i++) a[i] = inp.name === "presence" ? (rand() < 0.8 ? 1 : 0) : rand() * 2 - 1;
    return a;
  });
}

async function ortPredictor(loaded: LoadedModel, sel: BackendSelection): Promise<{ predict: Predict; close: () => Promise<void> }> {
  const file = readOnnxFile(loaded.dir, loaded.card.onnx, loaded.hash);
  if ("error" in file) throw new Error(file.error);
  const target = sel.ort!;
  const session: OrtSession = await target.ort.InferenceSession.create(file.bytes, sessionOptions(target));
  const predict: Predict = async (data, b) => {
    const feeds = Object.fromEntries(session.inputNames.map((n, k) => [n, new target.ort.Tensor("float32", data[k] as Float32Array, [b, ...loaded.spec.inputs[k]!.shape])]));
    const out = await session.run(feeds);
    return out[session.outputNames[0]!]!.data as Float32Array;
  };
  return { predict, close: () => session.release() };
}

function tfPredictor(loaded: LoadedModel): { predict: Predict; close: () => Promise<void> } {
  const predict: Predict = async (data, b) => {
    const y = tf.tidy(() => loaded.model.predict(data.map((d, k) => tf.tensor(d, [b, ...loaded.spec.inputs[k]!.shape]))) as tf.Tensor);
    const out = (await y.data()) as Float32Array;
    y.dispose();
    return out;
  };
  return { predict, close: async () => {} };
}

const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

interface Row {
  model: string;
  backend: string;
  maxAbsDiff?: number;
  b1P50Ms?: number;
  b1P99Ms?: number;
  samplesPerS: Record<string, number>;
  error?: string;
}

async function measure(name: string, backend: string, p: Predict, ref: Float32Array | undefined, loaded: LoadedModel, a: Args): Promise<Row> {
  const row: Row = { model: name, backend, samplesPerS: {} };
  const check = inputsFor(loaded.spec, 256, 7);
  const out = await p(check, 256);
  if (ref) row.maxAbsDiff = out.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i]!)), 0);
  const one = inputsFor(loaded.spec, 1, 3);
  for (let i = 0; i < 20; i++) await p(one, 1);
  const lat: number[] = [];
  for (let i = 0; i < a.b1Calls; i++) {
    const t0 = performance.now();
    await p(one, 1);
    lat.push(performance.now() - t0);
  }
  row.b1P50Ms = q(lat, 0.5);
  row.b1P99Ms = q(lat, 0.99);
  for (const b of a.batches) {
    try {
      const data = inputsFor(loaded.spec, b, b);
      await p(data, b);
      let n = 0;
      const t0 = performance.now();
      while (n < 2 || performance.now() - t0 < a.seconds * 1000) {
        await p(data, b);
        n++;
      }
      row.samplesPerS[`b${b}`] = (n * b * 1000) / (performance.now() - t0);
    } catch (err) {
      row.error = `${row.error ? row.error + "; " : ""}b${b}: ${(err as Error).message.split("\n")[0]}`;
    }
  }
  return row;
}

/** What Dawn (the `webgpu` package) finds: the adapter's vendor/architecture/description, or why there is none. */
async function dawnAdapter(flags: string[]): Promise<string> {
  try {
    const dawn = (await import("webgpu")) as unknown as { create: (f: string[]) => { requestAdapter(o?: object): Promise<{ info?: Record<string, string> } | null> } };
    const adapter = await dawn.create(flags).requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) return "no adapter (Dawn found no Vulkan driver: see the ICD check above)";
    const i = adapter.info ?? {};
    return [i["vendor"], i["architecture"], i["device"], i["description"]].filter(Boolean).join(" / ") || "an adapter (no info)";
  } catch (err) {
    return `webgpu package not usable (${(err as Error).message.split("\n")[0]})`;
  }
}

const fmt = (v: number | undefined, digits = 3): string => (v === undefined ? "-" : v >= 1000 ? v.toFixed(0) : v.toPrecision(digits));

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const dawnFlags = (process.env["FUSIOND_DAWN_FLAGS"] ?? "").split(",").filter(Boolean);
  const threads = Math.max(1, Number(process.env["FUSIOND_ONNX_THREADS"] ?? 1));
  const env = () => nodeBackendEnv({ onnxThreads: threads, dawnFlags });
  console.log(`dawn adapter: ${await dawnAdapter(dawnFlags)}`);
  const backends: Record<string, BackendSelection | string> = {};
  for (const b of ["onnx", "onnx-webgpu", "webgpu"] as const) {
    try {
      backends[b] = await selectBackend(b, env());
    } catch (err) {
      backends[b] = (err as Error).message.replace(/^no usable backend for "[^"]+": [^:]+: skipped, /, "");
    }
  }
  for (const [b, s] of Object.entries(backends)) console.log(`backend ${b}: ${typeof s === "string" ? s : "works"}`);
  const cpu = backends["onnx"];
  if (cpu === undefined || typeof cpu === "string") throw new Error(`the CPU reference (onnx) does not work: ${cpu}`);
  const rows: Row[] = [];
  for (const name of a.models) {
    const dir = join("models", name);
    let loaded: LoadedModel;
    try {
      await selectBackend("wasm");
      loaded = await loadModelDir(dir);
    } catch (err) {
      rows.push({ model: name, backend: "-", samplesPerS: {}, error: (err as Error).message });
      continue;
    }
    const ref = await ortPredictor(loaded, cpu);
    const refOut = await ref.predict(inputsFor(loaded.spec, 256, 7), 256);
    rows.push(await measure(name, "onnx (cpu)", ref.predict, undefined, loaded, a));
    await ref.close();
    for (const b of ["onnx-webgpu", "webgpu"] as const) {
      const sel = backends[b];
      if (sel === undefined || typeof sel === "string") {
        rows.push({ model: name, backend: b, samplesPerS: {}, error: sel ?? "not selected" });
        continue;
      }
      try {
        if (b === "webgpu") {
          await selectBackend("webgpu", env());
          const gpuLoaded = await loadModelDir(dir); // weights on the GPU backend
          rows.push(await measure(name, b, tfPredictor(gpuLoaded).predict, refOut, gpuLoaded, a));
          gpuLoaded.model.dispose();
        } else {
          const p = await ortPredictor(loaded, sel);
          rows.push(await measure(name, b, p.predict, refOut, loaded, a));
          await p.close();
        }
      } catch (err) {
        rows.push({ model: name, backend: b, samplesPerS: {}, error: (err as Error).message.split("\n")[0]! });
      }
    }
    loaded.model.dispose();
    const last = rows.filter((r) => r.model === name);
    for (const r of last) {
      console.log(`${name} on ${r.backend}: ${r.error && r.b1P50Ms === undefined ? `not run (${r.error})` : `max|Δp| ${fmt(r.maxAbsDiff)}, b1 p50 ${fmt(r.b1P50Ms)} ms p99 ${fmt(r.b1P99Ms)} ms, ${a.batches.map((b) => `b${b} ${fmt(r.samplesPerS[`b${b}`])}/s`).join(", ")}${r.error ? ` (${r.error})` : ""}`}`);
    }
  }
  const head = ["model", "backend", "max abs Δp vs CPU", "b1 p50 ms", "b1 p99 ms", ...a.batches.map((b) => `b${b} samples/s`)];
  const lines = rows.filter((r) => r.b1P50Ms !== undefined).map((r) => [r.model, r.backend, fmt(r.maxAbsDiff), fmt(r.b1P50Ms), fmt(r.b1P99Ms), ...a.batches.map((b) => fmt(r.samplesPerS[`b${b}`]))]);
  console.log("\n## summary\n");
  console.log(`| ${head.join(" | ")} |\n| ${head.map(() => "---").join(" | ")} |`);
  for (const l of lines) console.log(`| ${l.join(" | ")} |`);
  const skipped = [...new Set(rows.filter((r) => r.b1P50Ms === undefined).map((r) => `${r.backend}: ${r.error}`))];
  if (skipped.length) console.log(`\nnot run:\n${skipped.map((s) => `- ${s}`).join("\n")}`);
  if (a.json) writeFileSync(a.json, JSON.stringify({ when: new Date().toISOString(), threads, dawnFlags, backends: Object.fromEntries(Object.entries(backends).map(([k, v]) => [k, typeof v === "string" ? v : "works"])), rows }, null, 2));
}

await main();
