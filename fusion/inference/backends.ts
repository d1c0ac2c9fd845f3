/**
 * Inference backend selection at run time. TF.js backends: `tensorflow-gpu` (@tensorflow/tfjs-node-gpu with a
 * CUDA GPU), `tensorflow` (@tensorflow/tfjs-node), `webgpu` (@tensorflow/tfjs-backend-webgpu on Dawn, the
 * `webgpu` package), `wasm` (SIMD), `cpu`; ONNX Runtime: `onnx` (onnxruntime-node, CPU execution provider) and
 * `onnx-webgpu` (its WebGPU execution provider), which run the model directory's model.onnx.
 *
 * The native packages are optional (their installs download, which fails offline), so they are loaded with a
 * guarded dynamic import, and a missing one is reported as "not installed (npm install …)". `--backend NAME`
 * must work or selection throws; `auto` with a probe (a model to time, make-runner.ts) tries every candidate,
 * times the ones that work on the model and takes the fastest, logging why each other was not taken; `auto`
 * without one (training) takes the first of AUTO_ORDER that works. All I/O (imports, the GPU probe,
 * tf.setBackend) goes through a port so the logic is tested with stubs.
 */
import { existsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { FusiondError } from "../../schemas/index.ts";
import { tinyOnnxModel } from "../model/onnx-export.ts";
import { asOrtModule, ORT_MODULE, sessionOptions, type OrtTarget } from "./onnx-runtime.ts";

export const BACKEND_CHOICES = ["auto", "onnx", "onnx-webgpu", "webgpu", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendCandidate = Exclude<BackendChoice, "auto">;
/** What training can run on: TF.js backends with gradients. */
export const TRAINING_BACKEND_CHOICES = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const satisfies readonly BackendChoice[];
/** `auto` without a probe (training, or no model at hand): the first of these that works. */
export const AUTO_ORDER: readonly BackendCandidate[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];
/** `auto` with a probe: every one of these that works is timed on the model (GPU ones first in the log). */
export const PROBE_ORDER: readonly BackendCandidate[] = ["onnx-webgpu", "webgpu", "tensorflow-gpu", "onnx", "tensorflow", "wasm", "cpu"];

/** What selection needs from the outside world. */
export interface BackendEnv {
  /** Dynamic import of a module; rejects when it is not installed or fails to load. */
  importModule(name: string): Promise<unknown>;
  /** Whether a CUDA GPU is visible to this process. */
  hasCudaGpu(): boolean;
  /** tf.setBackend: resolves true when the backend initialised. */
  setBackend(name: string): Promise<boolean>;
  /** The active tf backend name after selection. */
  activeBackend(): string;
  /** Makes `navigator.gpu` available from the `webgpu` module (Dawn) for @tensorflow/tfjs-backend-webgpu. */
  installWebGpu(webgpuModule: unknown): void;
  /** Intra-op threads of the ONNX Runtime CPU provider (default 1). */
  onnxThreads?: number;
}

export interface BackendSelection {
  /** What was chosen, e.g. "wasm" or "onnx". */
  chosen: BackendCandidate;
  /**
   * The name decisions record: TF.js's active backend ("tensorflow", "wasm", "cpu", "webgpu") or the ONNX
   * backend ("onnx", "onnx-webgpu"). (Named for TF.js, which was the only runtime when it was added.)
   */
  tfBackend: string;
  /** One line per candidate tried, with why it was skipped or not taken. */
  log: string[];
  /** Set for the ONNX backends: where runners load model.onnx. */
  ort?: OrtTarget;
}

/** Times the model on a working candidate: resolves the b1 median in ms, or rejects with why it cannot run it. */
export type BackendProbe = (selection: BackendSelection) => Promise<number>;

const MODULE_OF: Partial<Record<BackendCandidate, string>> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
  wasm: "@tensorflow/tfjs-backend-wasm",
};
const TF_NAME: Partial<Record<BackendCandidate, string>> = { "tensorflow-gpu": "tensorflow", tensorflow: "tensorflow", wasm: "wasm", cpu: "cpu", webgpu: "webgpu" };
/** The first line of an error, without ORT's source location and failed-check prefix ("/onnxruntime_src/…cc:129 … was false. "). */
const firstLine = (err: unknown): string => ((err as Error).message ?? String(err)).split("\n")[0]!.replace(/^\/\S+:\d+ .* was false\. /, "");

/** Why an import failed, in words that say what to do. */
function importFailure(mod: string, err: unknown, install = mod): string {
  const e = err as { code?: string; message?: string };
  const missing = e.code === "ERR_MODULE_NOT_FOUND" || e.code === "MODULE_NOT_FOUND" || /Cannot find (package|module)/.test(e.message ?? "");
  return missing ? `${mod} not installed (npm install ${install})` : `${mod} failed to load (${firstLine(err)})`;
}

async function importOr(env: BackendEnv, mod: string, install?: string): Promise<{ mod: unknown } | { why: string }> {
  try {
    return { mod: await env.importModule(mod) };
  } catch (err) {
    return { why: importFailure(mod, err, install) };
  }
}

async function setTf(env: BackendEnv, name: string): Promise<string | undefined> {
  try {
    return (await env.setBackend(name)) ? undefined : `tf.setBackend("${name}") failed`;
  } catch (err) {
    return `tf.setBackend("${name}") threw: ${(err as Error).message}`;
  }
}

/** Checks an ONNX Runtime execution provider by loading and running a one-node model on it. */
async function ortTarget(c: "onnx" | "onnx-webgpu", env: BackendEnv): Promise<OrtTarget | string> {
  // Its install script downloads CUDA providers and fails offline (npm then drops it): the skip keeps it.
  const imported = await importOr(env, ORT_MODULE, `${ORT_MODULE}; offline: ONNXRUNTIME_NODE_INSTALL=skip npm install ${ORT_MODULE}`);
  if ("why" in imported) return imported.why;
  let target: OrtTarget;
  try {
    const ort = asOrtModule(imported.mod);
    target = { ort, name: c, executionProvider: c === "onnx" ? "cpu" : "webgpu", threads: Math.max(1, env.onnxThreads ?? 1) };
    const listed = ort.listSupportedBackends?.().map((b) => b.name);
    if (listed && !listed.includes(target.executionProvider)) return `${ORT_MODULE} has no ${target.executionProvider} execution provider (it has ${listed.join(", ")})`;
    const session = await ort.InferenceSession.create(tinyOnnxModel(), sessionOptions(target));
    try {
      await session.run({ x: new ort.Tensor("float32", new Float32Array(4), [1, 4]) });
    } finally {
      await session.release();
    }
  } catch (err) {
    return `${ORT_MODULE} ${c === "onnx" ? "CPU" : "WebGPU"} execution provider does not work here (${firstLine(err)})`;
  }
  // The TF.js side (model loading, features that use tf) still needs a backend: wasm, else cpu.
  const wasm = await importOr(env, MODULE_OF.wasm!);
  const tfSide = "mod" in wasm && !(await setTf(env, "wasm")) ? undefined : await setTf(env, "cpu");
  if (tfSide) return `no TF.js backend for loading models (${tfSide})`;
  return target;
}

/** Makes candidate `c` the active backend; a selection, or why it cannot be. */
async function activate(c: BackendCandidate, env: BackendEnv): Promise<BackendSelection | string> {
  if (c === "onnx" || c === "onnx-webgpu") {
    const t = await ortTarget(c, env);
    return typeof t === "string" ? t : { chosen: c, tfBackend: c, log: [], ort: t };
  }
  if (c === "tensorflow-gpu" && !env.hasCudaGpu()) return "no CUDA GPU visible";
  if (c === "webgpu") {
    const dawn = await importOr(env, "webgpu");
    if ("why" in dawn) return dawn.why;
    const backend = await importOr(env, "@tensorflow/tfjs-backend-webgpu");
    if ("why" in backend) return backend.why;
    try {
      env.installWebGpu(dawn.mod);
    } catch (err) {
      return `no WebGPU adapter from Dawn (${firstLine(err)})`;
    }
  }
  const mod = MODULE_OF[c];
  if (mod) {
    const imported = await importOr(env, mod);
    if ("why" in imported) return imported.why;
  }
  const why = await setTf(env, TF_NAME[c]!);
  return why ?? { chosen: c, tfBackend: env.activeBackend(), log: [] };
}

/**
 * Picks the backend (see the module comment). A named choice that does not work throws FusiondError
 * `backend_unavailable` (an explicit override never silently falls back); so does `auto` when nothing works.
 */
export async function selectBackend(choice: BackendChoice, env: BackendEnv = nodeBackendEnv(), probe?: BackendProbe): Promise<BackendSelection> {
  const log: string[] = [];
  if (choice !== "auto" || !probe) {
    for (const c of choice === "auto" ? AUTO_ORDER : [choice]) {
      const s = await activate(c, env);
      if (typeof s !== "string") {
        log.push(`${c}: selected`);
        return { ...s, log };
      }
      log.push(`${c}: skipped, ${s}`);
    }
    throw new FusiondError("backend_unavailable", `no usable backend for "${choice}": ${log.join("; ")}`, { choice, log });
  }
  const timed: { c: BackendCandidate; ms: number }[] = [];
  const lines = new Map<BackendCandidate, string>();
  for (const c of PROBE_ORDER) {
    const s = await activate(c, env);
    if (typeof s === "string") {
      lines.set(c, `skipped, ${s}`);
      continue;
    }
    try {
      const ms = await probe(s);
      timed.push({ c, ms });
    } catch (err) {
      lines.set(c, `skipped, the model does not run on it (${firstLine(err)})`);
    }
  }
  const best = timed.reduce<{ c: BackendCandidate; ms: number } | undefined>((a, t) => (!a || t.ms < a.ms ? t : a), undefined);
  if (!best) throw new FusiondError("backend_unavailable", `no usable backend for "auto": ${PROBE_ORDER.map((c) => `${c}: ${lines.get(c)}`).join("; ")}`, { choice, log: [...lines.values()] });
  for (const t of timed) lines.set(t.c, t === best ? `selected, fastest on the model (b1 median ${t.ms.toFixed(3)} ms)` : `works, slower on the model (b1 median ${t.ms.toFixed(3)} ms)`);
  for (const c of PROBE_ORDER) log.push(`${c}: ${lines.get(c)}`);
  // The probe left the last candidate active: make the chosen one active again.
  const s = await activate(best.c, env);
  if (typeof s === "string") throw new FusiondError("backend_unavailable", `${best.c} worked in the probe but not again: ${s}`, { choice, log });
  return { ...s, log };
}

/** The real environment: dynamic import, a CUDA device-node probe, tf.setBackend, Dawn for WebGPU. */
export interface NodeBackendOptions {
  /** Intra-op threads of the ONNX Runtime CPU provider (default 1). */
  onnxThreads?: number;
  /** Dawn toggles for `webgpu`, e.g. ["backend=opengles"] where there is no Vulkan driver. */
  dawnFlags?: string[];
}

export function nodeBackendEnv(o: NodeBackendOptions = {}): BackendEnv {
  return {
    importModule: (name) => import(name),
    hasCudaGpu: () => existsSync("/dev/nvidiactl") || existsSync("/proc/driver/nvidia/version"),
    setBackend: (name) => tf.setBackend(name),
    activeBackend: () => tf.getBackend(),
    installWebGpu(mod) {
      const dawn = mod as { create?: (flags: string[]) => unknown; globals?: Record<string, unknown> };
      if (!dawn.create) throw new Error("the webgpu module has no create()");
      const g = globalThis as Record<string, unknown>;
      if (dawn.globals) Object.assign(g, dawn.globals);
      const gpu = dawn.create(o.dawnFlags ?? []);
      const nav = (g["navigator"] ?? {}) as Record<string, unknown>;
      if (!nav["gpu"]) Object.defineProperty(g, "navigator", { value: { ...nav, gpu }, configurable: true, writable: true });
    },
    ...(o.onnxThreads ? { onnxThreads: o.onnxThreads } : {}),
  };
}
