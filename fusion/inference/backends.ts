/**
 * Inference backend selection at run time: `tensorflow` through @tensorflow/tfjs-node-gpu when it is
 * installed and a CUDA GPU is present, then @tensorflow/tfjs-node, then `wasm` (SIMD), then `cpu`.
 * The native packages are optional (their install downloads libtensorflow, which fails offline), so they
 * are loaded with a guarded dynamic import; every step of the choice is logged, and `--backend` overrides it.
 * All I/O (imports, the GPU probe, tf.setBackend) goes through a port so the logic is tested with stubs.
 */
import { existsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { FusiondError } from "../../schemas/index.ts";

export const BACKEND_CHOICES = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendCandidate = Exclude<BackendChoice, "auto">;
export const AUTO_ORDER: readonly BackendCandidate[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];

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
}

export interface BackendSelection {
  /** What was chosen, e.g. "wasm" or "tensorflow-gpu". */
  chosen: BackendCandidate;
  /** TF.js's name of the active backend ("tensorflow", "wasm", "cpu"): what decisions record. */
  tfBackend: string;
  /** One line per candidate tried, with why it was skipped. */
  log: string[];
}

const MODULE_OF: Partial<Record<BackendCandidate, string>> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
  wasm: "@tensorflow/tfjs-backend-wasm",
};
const TF_NAME: Record<BackendCandidate, string> = { "tensorflow-gpu": "tensorflow", tensorflow: "tensorflow", wasm: "wasm", cpu: "cpu" };

async function tryCandidate(c: BackendCandidate, env: BackendEnv): Promise<string | undefined> {
  if (c === "tensorflow-gpu" && !env.hasCudaGpu()) return "no CUDA GPU visible";
  const mod = MODULE_OF[c];
  if (mod) {
    try {
      await env.importModule(mod);
    } catch (err) {
      return `${mod} not available (${((err as Error).message ?? String(err)).split("\n")[0]})`;
    }
  }
  try {
    if (!(await env.setBackend(TF_NAME[c]))) return `tf.setBackend("${TF_NAME[c]}") failed`;
  } catch (err) {
    return `tf.setBackend("${TF_NAME[c]}") threw: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Picks the backend: `auto` tries AUTO_ORDER and takes the first that works; a named choice must work or
 * selection throws FusiondError `backend_unavailable` (an explicit override never silently falls back).
 */
export async function selectBackend(choice: BackendChoice, env: BackendEnv = nodeBackendEnv()): Promise<BackendSelection> {
  const log: string[] = [];
  const order = choice === "auto" ? AUTO_ORDER : [choice];
  for (const c of order) {
    const why = await tryCandidate(c, env);
    if (why === undefined) {
      log.push(`${c}: selected`);
      return { chosen: c, tfBackend: env.activeBackend(), log };
    }
    log.push(`${c}: skipped, ${why}`);
  }
  throw new FusiondError("backend_unavailable", `no usable TF.js backend for "${choice}": ${log.join("; ")}`, { choice, log });
}

/** The real environment: dynamic import, a CUDA device-node probe, tf.setBackend. */
export function nodeBackendEnv(): BackendEnv {
  return {
    importModule: (name) => import(name),
    hasCudaGpu: () => existsSync("/dev/nvidiactl") || existsSync("/proc/driver/nvidia/version"),
    setBackend: (name) => tf.setBackend(name),
    activeBackend: () => tf.getBackend(),
  };
}
