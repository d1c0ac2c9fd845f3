/**
 * The part of onnxruntime-node fusiond uses, typed here: the package is an optional dependency (its install
 * script downloads the CUDA providers, which fails offline), so it is imported dynamically and nothing may
 * depend on its types being installed. `OrtTarget` is one way to run a model: an execution provider and the
 * session options that go with it.
 */

export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  executionProviders: string[];
  intraOpNumThreads: number;
  interOpNumThreads: number;
  graphOptimizationLevel: "all";
  executionMode: "sequential";
  logSeverityLevel: 0 | 1 | 2 | 3 | 4;
}

/** onnxruntime-node's module, as far as fusiond uses it. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
  listSupportedBackends?: () => { name: string; bundled: boolean }[];
}

export const ORT_MODULE = "onnxruntime-node";

/** Where a model runs under ORT: its module, the execution provider ("cpu", "webgpu") and the threads. */
export interface OrtTarget {
  ort: OrtModule;
  /** The backend name decisions record ("onnx", "onnx-webgpu"). */
  name: string;
  executionProvider: "cpu" | "webgpu";
  /** Intra-op threads (CPU provider); 1 keeps inference on the calling thread. */
  threads: number;
}

export function sessionOptions(t: OrtTarget): OrtSessionOptions {
  return {
    executionProviders: [t.executionProvider],
    intraOpNumThreads: t.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    logSeverityLevel: 3,
  };
}

/** Resolves the module, whichever way the loader hands a CommonJS package over. */
export function asOrtModule(mod: unknown): OrtModule {
  const m = mod as Partial<OrtModule> & { default?: Partial<OrtModule> };
  const ort = m.InferenceSession ? m : m.default;
  if (!ort?.InferenceSession || !ort.Tensor) throw new Error(`${ORT_MODULE} loaded but has no InferenceSession/Tensor`);
  return ort as OrtModule;
}
