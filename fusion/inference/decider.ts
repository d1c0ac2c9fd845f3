/**
 * Loading the decision model for the daemon, demo, replay and eval: backend selection, the primary
 * model and its fallbacks, warm-up, and an atomic swap on reload (the old model serves until the
 * new one is warm).
 */
import {
  DecisionEngine,
  createModelRunner,
  loadModelDir,
  modelProbe,
  nodeBackendEnv,
  selectBackend,
  warmUpDecisions,
  type BackendChoice,
  type BackendSelection,
  type DrivingDecision,
  type MapView,
  type LoadedModel,
  type ModelRunner,
  type RunnerOptions,
} from "../index.ts";
import { CameraFeaturePool, type CameraPoolStats } from "../features/camera-pool.ts";
import type { CameraFeatures } from "../features/camera.ts";
import type { CameraMessage, FusedFrame, VoiceMessage } from "../../schemas/index.ts";
import { performance } from "node:perf_hooks";

const monoMs = (): number => performance.now();

export interface DeciderOptions {
  modelDir: string;
  fallbackDirs?: string[];
  backend?: BackendChoice;
  vehicleId?: string;
  map?: MapView;
  /** The pipeline's clock in ns (same domain as receive stamps). */
  nowNs: () => bigint;
  /** Called with each inference latency, ms. */
  onInference?: (ms: number) => void;
  /**
   * Camera features off the main thread: large frames decoded (at the size the model needs) in a bounded
   * worker pool of this many threads (the daemon: 1); 0 or absent decodes on the calling thread (replay, eval).
   */
  cameraWorkers?: number;
  /** Frames the runner may run as one batch (default 8, the daemon's); its queue holds at least twice as many. */
  maxBatch?: number;
}

export interface Decider {
  /** DecisionEngine.decide: concurrent calls decide as if in sequence, their model calls batched. */
  decide(frame: FusedFrame, at?: { nowNs?: bigint }): Promise<DrivingDecision>;
  /** Works out an utterance's voice features on arrival (see DecisionEngine.prefetchVoice). */
  prefetchVoice(message: VoiceMessage): void;
  /**
   * With a camera pool: starts a camera frame's features on arrival, so that a frame waiting in the aligner (for
   * the radar scan after it, say) has them ready when it is decided. Each message is worked out once; the same
   * features as without it.
   */
  prefetchCamera(message: CameraMessage): void;
  readonly primary: ModelRunner;
  readonly backend: BackendSelection;
  readonly engine: DecisionEngine;
  /** The camera feature pool's counters (absent without one). */
  cameraPool?: () => CameraPoolStats;
  /** Loads the model directory again (or a new one), warms it, then swaps it in — unless `accept` throws for it. */
  reload(modelDir?: string, accept?: (next: ModelRunner) => void): Promise<ModelRunner>;
  close(): void;
}

let selection: Promise<BackendSelection> | undefined;
let selectedFor: BackendChoice | undefined;

/** Intra-op threads of the `onnx` backend: FUSIOND_ONNX_THREADS (default 1: the daemon shares the cores). */
export const onnxThreads = (): number => Math.max(1, Number.parseInt(process.env["FUSIOND_ONNX_THREADS"] ?? "1", 10) || 1);
/** Dawn toggles for the `webgpu` backend: FUSIOND_DAWN_FLAGS, comma-separated (e.g. backend=opengles). */
const dawnFlags = (): string[] => (process.env["FUSIOND_DAWN_FLAGS"] ?? "").split(",").filter(Boolean);

/**
 * Selects the backend once per process (tf's backend is global). `auto` times the candidates that work on
 * `probeDir`'s model (b1) and takes the fastest; without a model it takes the first that works.
 */
export function ensureBackend(choice: BackendChoice = "auto", probeDir?: string): Promise<BackendSelection> {
  if (!selection || selectedFor !== choice) {
    selectedFor = choice;
    selection = selectBackend(choice, nodeBackendEnv({ onnxThreads: onnxThreads(), dawnFlags: dawnFlags() }), probeDir ? modelProbe(probeDir, monoMs) : undefined);
  }
  return selection;
}

/** The one way a model directory becomes a warm runner: load and check it, make the backend's runner, warm it up. */
export async function loadWarmRunner(dir: string, backend: BackendSelection, options: RunnerOptions): Promise<{ loaded: LoadedModel; runner: ModelRunner }> {
  const loaded = await loadModelDir(dir);
  const runner = await createModelRunner(loaded, backend, options);
  await runner.warmup();
  return { loaded, runner };
}

/** The daemon's runner: small batches and queue (it decides frame by frame), latency reported. */
async function loadRunner(dir: string, backend: BackendSelection, onInference?: (ms: number) => void, maxBatch = 8): Promise<ModelRunner> {
  return (await loadWarmRunner(dir, backend, { now: monoMs, maxBatch, maxQueue: 2 * maxBatch, ...(onInference ? { onLatency: onInference } : {}) })).runner;
}

export async function loadDecider(options: DeciderOptions): Promise<Decider> {
  const backend = await ensureBackend(options.backend ?? "auto", options.modelDir);
  const fallbacks = await Promise.all((options.fallbackDirs ?? []).map((d) => loadRunner(d, backend, undefined, options.maxBatch)));
  let pool: CameraFeaturePool | undefined;
  // Features by message, started on arrival (prefetchCamera) or by the engine, whichever comes first; per pool
  // (a reloaded model with another feature config gets a new pool and a new map).
  let started = new WeakMap<CameraMessage, Promise<CameraFeatures | undefined>>();
  const featuresOf = (p: CameraFeaturePool, m: CameraMessage): Promise<CameraFeatures | undefined> => {
    let f = started.get(m);
    if (!f) started.set(m, (f = p.extract(m).then((o) => (o.ok ? o.features : undefined))));
    return f;
  };
  const poolFor = (primary: ModelRunner): CameraFeaturePool | undefined => {
    if (!options.cameraWorkers) return undefined;
    if (pool && JSON.stringify(pool.config) === JSON.stringify(primary.spec.config)) return pool;
    const old = pool;
    started = new WeakMap();
    pool = new CameraFeaturePool({ config: primary.spec.config, workers: options.cameraWorkers });
    if (old) setTimeout(() => void old.close(), 2000).unref();
    return pool;
  };
  const makeEngine = (primary: ModelRunner): DecisionEngine => {
    const p = poolFor(primary);
    return new DecisionEngine({
      primary,
      fallbacks,
      nowNs: options.nowNs,
      // A job the pool dropped (queue full, closed) is done here instead: the decision never lacks the camera for it.
      ...(p ? { cameraFeatures: (m: CameraMessage) => featuresOf(p, m) } : {}),
      ...(options.map ? { map: options.map } : {}),
      ...(options.vehicleId ? { vehicleId: options.vehicleId } : {}),
    });
  };
  let primary = await loadRunner(options.modelDir, backend, options.onInference, options.maxBatch);
  await warmUpDecisions(() => makeEngine(primary));
  let engine = makeEngine(primary);
  let currentDir = options.modelDir;
  return {
    decide: (frame, at) => engine.decide(frame, at),
    prefetchVoice: (message) => engine.prefetchVoice(message),
    prefetchCamera: (message) => void (pool && featuresOf(pool, message)),
    get primary() {
      return primary;
    },
    get engine() {
      return engine;
    },
    backend,
    ...(options.cameraWorkers ? { cameraPool: () => pool!.stats() } : {}),
    async reload(modelDir = currentDir, accept) {
      const next = await loadRunner(modelDir, backend, options.onInference, options.maxBatch); // throws before anything is swapped
      try {
        accept?.(next);
      } catch (err) {
        next.close();
        throw err;
      }
      await warmUpDecisions(() => makeEngine(next));
      const old = primary;
      primary = next;
      engine = makeEngine(next);
      currentDir = modelDir;
      // Calls already queued on the old runner finish; close it once they have had time to.
      setTimeout(() => old.close(), 2000).unref();
      return next;
    },
    close() {
      primary.close();
      for (const f of fallbacks) f.close();
      void pool?.close();
    },
  };
}
